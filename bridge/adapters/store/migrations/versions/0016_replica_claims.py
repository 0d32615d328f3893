"""Claims name their replica: inbox events, outbox posts and kept /task commands record which replica holds them, so
that when it stops heartbeating the others take its work over at once instead of waiting for its leases to run out.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("sender", sa.String(64), nullable=True))
    with op.batch_alter_table("pending_commands") as batch:
        batch.add_column(sa.Column("held_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_commands") as batch:
        batch.drop_column("held_by")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("sender")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("claimed_by")
