"""Subtasks are followed in their parent's thread: a parent column, and one thread per top-level task only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOP_LEVEL = sa.text("parent_task_gid IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("tracked_tasks") as batch:
        batch.add_column(sa.Column("parent_task_gid", sa.String(64), nullable=True))
        batch.drop_constraint("uq_tracked_tasks_team_id_channel_id_thread_ts", type_="unique")
    op.create_index(
        "uq_tracked_tasks_thread",
        "tracked_tasks",
        ["team_id", "channel_id", "thread_ts"],
        unique=True,
        sqlite_where=TOP_LEVEL,
        postgresql_where=TOP_LEVEL,
    )


def downgrade() -> None:
    op.drop_index("uq_tracked_tasks_thread", "tracked_tasks")
    with op.batch_alter_table("tracked_tasks") as batch:
        batch.create_unique_constraint(
            "uq_tracked_tasks_team_id_channel_id_thread_ts", ["team_id", "channel_id", "thread_ts"]
        )
        batch.drop_column("parent_task_gid")
