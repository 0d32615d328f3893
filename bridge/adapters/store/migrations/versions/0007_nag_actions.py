"""Nag buttons: the nag log records who acted on a nag, when, and what was done (claimed once per message).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nag_log") as batch:
        batch.add_column(sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acted_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("outcome", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nag_log") as batch:
        batch.drop_column("outcome")
        batch.drop_column("acted_by")
        batch.drop_column("acted_at")
