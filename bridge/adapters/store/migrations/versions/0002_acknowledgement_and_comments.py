"""Acknowledgement on tracked tasks (subtask, first response) and the Slack reply ↔ Asana comment map.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
TS = sa.String(32)


def upgrade() -> None:
    with op.batch_alter_table("tracked_tasks") as batch:
        batch.add_column(sa.Column("ack_subtask_gid", ID, nullable=True))
        batch.add_column(sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_responder", ID, nullable=True))
    op.create_table(
        "comments",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("message_ts", TS, nullable=False),
        sa.Column("task_gid", ID, nullable=False),
        sa.Column("story_gid", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "message_ts", name=op.f("pk_comments")),
    )
    op.create_index(op.f("ix_comments_story_gid"), "comments", ["story_gid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_comments_story_gid"), table_name="comments")
    op.drop_table("comments")
    with op.batch_alter_table("tracked_tasks") as batch:
        batch.drop_column("first_responder")
        batch.drop_column("first_response_at")
        batch.drop_column("ack_subtask_gid")
