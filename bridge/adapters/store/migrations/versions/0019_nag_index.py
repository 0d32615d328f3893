"""The nag scheduler's index: each tracked task's next moment its nags can change (`next_check_at`, NULL: never
unless it changes), a revision every save bumps (so a tick never overwrites a moment a save re-armed meanwhile),
and what each link's nag rules were when its tasks were last armed (a change re-arms them).

Every task is armed at once here: the first tick after the upgrade judges them all, once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tracked_tasks") as batch:
        batch.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    # SQLite keeps naive UTC text (see coltypes.UTCDateTime); PostgreSQL a timestamptz.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    at_once = epoch.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else epoch
    tasks = sa.table("tracked_tasks", sa.column("next_check_at", sa.DateTime(timezone=True)))
    op.execute(tasks.update().values(next_check_at=at_once))
    op.create_index(op.f("ix_tracked_tasks_next_check_at_task_gid"), "tracked_tasks", ["next_check_at", "task_gid"])
    op.create_table(
        "nag_arming",
        sa.Column("project_gid", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("project_gid", "channel_id", name=op.f("pk_nag_arming")),
    )


def downgrade() -> None:
    op.drop_table("nag_arming")
    op.drop_index(op.f("ix_tracked_tasks_next_check_at_task_gid"), table_name="tracked_tasks")
    with op.batch_alter_table("tracked_tasks") as batch:
        batch.drop_column("revision")
        batch.drop_column("next_check_at")
