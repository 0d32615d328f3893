"""The inbox knows which task each event is about, so that a burst on one task is claimed as one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("task_gid", sa.String(64), nullable=True))
    op.create_index(op.f("ix_inbox_state_task_gid"), "inbox", ["state", "task_gid"])
    # Events already waiting keep task_gid NULL: they are claimed one by one, as before this revision.


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_state_task_gid"), "inbox")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("task_gid")
