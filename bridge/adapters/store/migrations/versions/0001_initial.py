"""Initial schema: links, webhooks, inbox, tracked tasks, captures, Slack events, caches, nag log, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types of this revision (tables.py may move on; this file must not).
ID = sa.String(64)
TS = sa.String(32)
STATE = sa.String(16)


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("project_gid", ID, nullable=False),
        sa.Column("project_name", sa.Text(), nullable=False),
        sa.Column("workspace_gid", ID, nullable=False),
        sa.Column("created_by", ID, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("triage_section_gid", ID, nullable=True),
        sa.Column("priority_field_gid", ID, nullable=True),
        sa.Column("capture_mode", STATE, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name=op.f("pk_links")),
        sa.CheckConstraint("capture_mode IN ('off', 'all', 'reaction')", name=op.f("ck_links_capture_mode")),
    )
    op.create_index(op.f("ix_links_project_gid"), "links", ["project_gid"])

    op.create_table(
        "webhooks",
        sa.Column("hook_key", sa.String(128), nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("project_gid", ID, nullable=False),
        sa.Column("status", STATE, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("webhook_gid", ID, nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("hook_key", name=op.f("pk_webhooks")),
        sa.CheckConstraint("status IN ('pending', 'active', 'failed')", name=op.f("ck_webhooks_status")),
    )
    op.create_index(op.f("ix_webhooks_project_gid"), "webhooks", ["project_gid"])

    op.create_table(
        "inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("source", STATE, nullable=False),
        sa.Column("project_gid", ID, nullable=False),
        sa.Column("resource_gid", ID, nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _when(), nullable=True),
        sa.Column("available_at", _when(), nullable=True),
        sa.Column("received_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("park_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbox_dedupe_key")),
        sa.CheckConstraint("state IN ('pending', 'done', 'parked')", name=op.f("ck_inbox_state")),
        sa.CheckConstraint("source IN ('webhook', 'events_api')", name=op.f("ck_inbox_source")),
    )
    op.create_index(op.f("ix_inbox_state_available_at"), "inbox", ["state", "available_at"])

    op.create_table(
        "tracked_tasks",
        sa.Column("task_gid", ID, nullable=False),
        sa.Column("project_gid", ID, nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("thread_ts", TS, nullable=False),
        sa.Column("permalink_url", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("snapshot", _json(), nullable=False),
        sa.Column("requester", ID, nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("task_gid", name=op.f("pk_tracked_tasks")),
        sa.UniqueConstraint(
            "team_id", "channel_id", "thread_ts", name=op.f("uq_tracked_tasks_team_id_channel_id_thread_ts")
        ),
    )
    op.create_index(op.f("ix_tracked_tasks_project_gid"), "tracked_tasks", ["project_gid"])

    op.create_table(
        "captures",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("message_ts", TS, nullable=False),
        sa.Column("task_gid", ID, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "message_ts", name=op.f("pk_captures")),
    )

    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("seen_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_slack_events")),
    )
    op.create_index(op.f("ix_slack_events_seen_at"), "slack_events", ["seen_at"])

    op.create_table(
        "user_mappings",
        sa.Column("team_id", ID, nullable=False),
        sa.Column("slack_user_id", ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("asana_user_gid", ID, nullable=True),
        sa.Column("fetched_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", name=op.f("pk_user_mappings")),
    )

    op.create_table(
        "sync_tokens",
        sa.Column("resource_gid", ID, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("resource_gid", name=op.f("pk_sync_tokens")),
    )

    op.create_table(
        "nag_log",
        sa.Column("task_gid", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("sent_at", _when(), nullable=False),
        sa.Column("message_ts", TS, nullable=True),
        sa.PrimaryKeyConstraint("task_gid", "kind", "stage", "period", name=op.f("pk_nag_log")),
    )

    op.create_table(
        "outbox",
        sa.Column("post_key", sa.String(255), nullable=False),
        sa.Column("team_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("thread_ts", TS, nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("sent_at", _when(), nullable=True),
        sa.Column("message_ts", TS, nullable=True),
        sa.PrimaryKeyConstraint("post_key", name=op.f("pk_outbox")),
        sa.CheckConstraint("state IN ('pending', 'sent')", name=op.f("ck_outbox_state")),
    )
    op.create_index(op.f("ix_outbox_state_created_at"), "outbox", ["state", "created_at"])


def downgrade() -> None:
    for table in (
        "outbox",
        "nag_log",
        "sync_tokens",
        "user_mappings",
        "slack_events",
        "captures",
        "tracked_tasks",
        "inbox",
        "webhooks",
        "links",
    ):
        op.drop_table(table)
