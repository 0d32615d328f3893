"""The database schema as SQLAlchemy Core tables; migrations/versions must produce exactly this."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sql_false

from bridge.adapters.store.coltypes import SecretText, UTCDateTime, json_document

# Explicit constraint names keep migrations reproducible and let later ALTERs (and SQLite batch mode) find them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = String(64)  # Slack and Asana ids are short strings; leave room
TS = String(32)  # Slack message timestamps such as "1700000000.123456"
STATE = String(16)

links = Table(
    "links",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("project_gid", ID, nullable=False),
    Column("project_name", Text, nullable=False),
    Column("workspace_gid", ID, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("triage_section_gid", ID, nullable=True),
    Column("priority_field_gid", ID, nullable=True),
    Column("capture_mode", STATE, nullable=False),
    Column("relay_kinds", Text, nullable=True),  # comma-separated kinds of change told in threads; NULL: all
    Column("quiet", Boolean(), nullable=False, server_default=sql_false()),
    PrimaryKeyConstraint("team_id", "channel_id"),
    CheckConstraint("capture_mode IN ('off', 'all', 'reaction')", name="capture_mode"),
    Index(None, "project_gid"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("hook_key", String(128), nullable=False),
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("project_gid", ID, nullable=False),
    Column("status", STATE, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("webhook_gid", ID, nullable=True),
    Column("secret", SecretText(), nullable=True),  # the X-Hook-Secret: stored, never logged
    Column("failure_alerted_at", UTCDateTime(), nullable=True),  # Asana's last_failure_at last alerted
    PrimaryKeyConstraint("hook_key"),
    CheckConstraint("status IN ('pending', 'active', 'failed')", name="status"),
    Index(None, "project_gid"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), autoincrement=True, nullable=False),
    Column("dedupe_key", String(255), nullable=False),
    Column("source", STATE, nullable=False),
    Column("project_gid", ID, nullable=False),
    Column("resource_gid", ID, nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("payload", json_document(), nullable=False),
    Column("state", STATE, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),  # claimed by a worker until then
    Column("available_at", UTCDateTime(), nullable=True),  # released for a retry, not to be claimed before then
    Column("received_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("park_reason", Text, nullable=True),
    Column("task_gid", ID, nullable=True),  # events about one task are claimed together, once their burst settles
    PrimaryKeyConstraint("id"),
    UniqueConstraint("dedupe_key"),
    CheckConstraint("state IN ('pending', 'done', 'parked')", name="state"),
    CheckConstraint("source IN ('webhook', 'events_api')", name="source"),
    Index(None, "state", "available_at"),
    Index(None, "state", "task_gid"),
)

tracked_tasks = Table(
    "tracked_tasks",
    metadata,
    Column("task_gid", ID, nullable=False),
    Column("project_gid", ID, nullable=False),
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("thread_ts", TS, nullable=False),
    Column("permalink_url", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("snapshot", json_document(), nullable=False),
    Column("requester", ID, nullable=True),
    Column("completed", Boolean(), nullable=False),
    Column("ack_subtask_gid", ID, nullable=True),
    Column("first_response_at", UTCDateTime(), nullable=True),
    Column("first_responder", ID, nullable=True),
    # A subtask is followed in its parent's thread, so only top-level tasks own a thread.
    Column("parent_task_gid", ID, nullable=True),
    PrimaryKeyConstraint("task_gid"),
    Index(None, "project_gid"),
    Index(
        "uq_tracked_tasks_thread",
        "team_id",
        "channel_id",
        "thread_ts",
        unique=True,
        sqlite_where=text("parent_task_gid IS NULL"),
        postgresql_where=text("parent_task_gid IS NULL"),
    ),
)

captures = Table(
    "captures",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("message_ts", TS, nullable=False),
    Column("task_gid", ID, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("team_id", "channel_id", "message_ts"),
)

comments = Table(
    "comments",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("message_ts", TS, nullable=False),
    Column("task_gid", ID, nullable=False),
    Column("story_gid", ID, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("team_id", "channel_id", "message_ts"),
    Index(None, "story_gid"),
)

slack_events = Table(
    "slack_events",
    metadata,
    Column("event_id", String(128), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("event_id"),
    Index(None, "seen_at"),
)

user_mappings = Table(
    "user_mappings",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("slack_user_id", ID, nullable=False),
    Column("email", String(320), nullable=True),
    Column("asana_user_gid", ID, nullable=True),
    Column("fetched_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("team_id", "slack_user_id"),
)

# What each person chose in the App Home; the Asana user is kept beside it so a change in Asana finds them.
user_settings = Table(
    "user_settings",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("slack_user_id", ID, nullable=False),
    Column("asana_user_gid", ID, nullable=True),
    Column("assignment_dms", Boolean(), nullable=False, server_default=sql_false()),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("team_id", "slack_user_id"),
    Index(None, "team_id", "asana_user_gid"),
)

sync_tokens = Table(
    "sync_tokens",
    metadata,
    Column("resource_gid", ID, nullable=False),
    Column("token", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("resource_gid"),
)

nag_log = Table(
    "nag_log",
    metadata,
    Column("task_gid", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("period", String(64), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("message_ts", TS, nullable=True),
    # Someone acted on the nag with one of its buttons (set once, compare-and-set: a double click applies once).
    Column("acted_at", UTCDateTime(), nullable=True),
    Column("acted_by", ID, nullable=True),
    Column("outcome", Text, nullable=True),  # what the updated nag says was done
    PrimaryKeyConstraint("task_gid", "kind", "stage", "period"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("post_key", String(255), nullable=False),
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("thread_ts", TS, nullable=True),
    Column("payload", json_document(), nullable=False),
    Column("state", STATE, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("message_ts", TS, nullable=True),
    PrimaryKeyConstraint("post_key"),
    CheckConstraint("state IN ('pending', 'sent')", name="state"),
    Index(None, "state", "created_at"),
)

# Secrets the server makes for itself (the report-link secret unless BRIDGE_REPORT_SECRET is set), shared by
# every replica; replacing one revokes what was signed with it.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), nullable=False),
    Column("value", SecretText(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("name"),
)
