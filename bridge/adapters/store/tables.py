"""The database schema as SQLAlchemy Core tables; migrations/versions must produce exactly this.

Over the ~300 lines of STYLE.md on purpose: a schema reads best whole, one table after another.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
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
    Column("claimed_by", String(64), nullable=True),  # the replica holding the lease: its work is taken over if it dies
    PrimaryKeyConstraint("id"),
    UniqueConstraint("dedupe_key"),
    CheckConstraint("state IN ('pending', 'done', 'parked')", name="state"),
    CheckConstraint("source IN ('webhook', 'events_api')", name="source"),
    Index(None, "state", "available_at"),
    Index(None, "state", "task_gid"),
)

# Webhook deliveries kept whole until the inbox worker unpacks them into `inbox` rows (in the same transaction as it
# deletes them): the one row a delivery costs before its 200, appended in id order, with no index to update.
inbox_deliveries = Table(
    "inbox_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), autoincrement=True, nullable=False),
    Column("project_gid", ID, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("events", Integer, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("park_reason", Text, nullable=True),  # set when its events could not be read: kept aside, not retried
    PrimaryKeyConstraint("id"),
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
    # The nag scheduler's index: the next moment the task's nags can change (NULL: never, unless it changes). A
    # save sets it to ARM_AT_ONCE and bumps `revision`, so a tick arms a task only as of the revision it judged.
    Column("next_check_at", UTCDateTime(), nullable=True),
    Column("revision", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("task_gid"),
    Index(None, "project_gid"),
    Index(None, "next_check_at", "task_gid"),
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

# /task commands acked and not finished: kept until the capture ends (a crash leaves them to the capture sweeper).
# `held_until`: whoever works on one holds it until then (the process that acked it, then a sweeper).
pending_commands = Table(
    "pending_commands",
    metadata,
    Column("request_key", String(255), nullable=False),
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("requester", ID, nullable=False),
    Column("title", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("assignee", ID, nullable=True),
    Column("due", Date, nullable=True),
    Column("priority", String(32), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("held_until", UTCDateTime(), nullable=False),
    Column("held_by", String(64), nullable=True),  # the replica working on it: its work is taken over if it dies
    PrimaryKeyConstraint("request_key"),
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

# What each link's nag rules were (a digest) when its tasks were last armed: a change arms them all again.
nag_arming = Table(
    "nag_arming",
    metadata,
    Column("project_gid", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    PrimaryKeyConstraint("project_gid", "channel_id"),
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
    Column("sender", String(64), nullable=True),  # the replica sending it: while it lives, its send may be in flight
    PrimaryKeyConstraint("post_key"),
    CheckConstraint("state IN ('pending', 'sent')", name="state"),
    Index(None, "state", "created_at"),
)

# Tasks assigned by routing: the current holder and the window they have; see domain.model.RoutedTask.
routed_tasks = Table(
    "routed_tasks",
    metadata,
    Column("task_gid", ID, nullable=False),
    Column("project_gid", ID, nullable=False),
    Column("assignee", String(320), nullable=True),
    Column("assignee_gid", ID, nullable=True),
    Column("assigned_at", UTCDateTime(), nullable=False),
    Column("holders", json_document(), nullable=False),
    Column("pinged_at", UTCDateTime(), nullable=True),
    Column("ping_ts", TS, nullable=True),
    Column("told_nobody", Boolean(), nullable=False, server_default=sql_false()),
    Column("announcement", json_document(), nullable=True),
    Column("manual", Boolean(), nullable=False, server_default=sql_false()),
    Column("closed", Boolean(), nullable=False, server_default=sql_false()),
    PrimaryKeyConstraint("task_gid"),
    Index(None, "closed"),
)

# How many tasks routing gave each person from a project, and when last: fairness among equals, and round robin.
routing_counts = Table(
    "routing_counts",
    metadata,
    Column("project_gid", ID, nullable=False),
    Column("email", String(320), nullable=False),
    Column("assignments", Integer, nullable=False),
    Column("last_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("project_gid", "email"),
)

# The next free moment to post in each Slack channel, shared by replicas (PostgreSQL only: one SQLite process paces
# in memory).
slack_pace = Table(
    "slack_pace",
    metadata,
    Column("channel_id", ID, nullable=False),
    Column("next_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("channel_id"),
)

# Every running replica, seen lately: they share Asana's per-token quota equally.
replicas = Table(
    "replicas",
    metadata,
    Column("replica_id", String(64), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("replica_id"),
)

# The multi-workspace install (SLACK_CLIENT_ID): slack_sdk's SQLAlchemy installation and OAuth state stores read and
# write these, so they mirror slack_sdk 3.48's own definitions (naive UTC datetimes, its index names), except that
# secrets are Text: sealed under BRIDGE_ENCRYPTION_KEY they outgrow slack_sdk's String(200).
SLACK_ID = String(32)

slack_installations = Table(
    "slack_installations",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("client_id", SLACK_ID, nullable=False),
    Column("app_id", SLACK_ID, nullable=False),
    Column("enterprise_id", SLACK_ID),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", SLACK_ID),
    Column("team_name", String(200)),
    Column("bot_token", Text),
    Column("bot_id", SLACK_ID),
    Column("bot_user_id", SLACK_ID),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", Text),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", SLACK_ID, nullable=False),
    Column("user_token", Text),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", Text),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", Text),  # anyone holding it can post: a secret too
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean(), nullable=False),
    Column("token_type", SLACK_ID),
    Column("installed_at", DateTime, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

slack_bots = Table(
    "slack_bots",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("client_id", SLACK_ID, nullable=False),
    Column("app_id", SLACK_ID, nullable=False),
    Column("enterprise_id", SLACK_ID),
    Column("enterprise_name", String(200)),
    Column("team_id", SLACK_ID),
    Column("team_name", String(200)),
    Column("bot_token", Text),
    Column("bot_id", SLACK_ID),
    Column("bot_user_id", SLACK_ID),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", Text),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean(), nullable=False),
    Column("installed_at", DateTime, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
    PrimaryKeyConstraint("id"),
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

# People who connected their own Asana account (issue #20): tokens sealed like the webhook secrets; `refreshing_until`
# is the lease of the one replica refreshing the person's access token (compare-and-set, no thundering herd).
asana_connections = Table(
    "asana_connections",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("slack_user_id", ID, nullable=False),
    Column("asana_user_gid", ID, nullable=False),
    Column("asana_name", Text, nullable=False),
    Column("access_token", SecretText(), nullable=False),
    Column("refresh_token", SecretText(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("connected_at", UTCDateTime(), nullable=False),
    Column("refreshing_until", UTCDateTime(), nullable=True),
    PrimaryKeyConstraint("team_id", "slack_user_id"),
)

# A connect waiting for Asana's consent page to send the person back: the state's digest, never the state itself.
asana_connect_states = Table(
    "asana_connect_states",
    metadata,
    Column("state_digest", String(64), nullable=False),
    Column("team_id", ID, nullable=False),
    Column("slack_user_id", ID, nullable=False),
    Column("code_verifier", SecretText(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("state_digest"),
)

# Who was offered to connect already (once, not on every action).
asana_connect_offers = Table(
    "asana_connect_offers",
    metadata,
    Column("team_id", ID, nullable=False),
    Column("slack_user_id", ID, nullable=False),
    Column("offered_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("team_id", "slack_user_id"),
)

# What the bridge wrote with a person's token (task, field, digest of the value, when), so the relay recognises it.
own_writes = Table(
    "own_writes",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), autoincrement=True, nullable=False),
    Column("task_gid", ID, nullable=False),
    Column("field", String(80), nullable=False),
    Column("value_digest", String(64), nullable=False),
    Column("written_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    Index(None, "task_gid", "written_at"),
)
# Suggestions (issue 22): every tracked task with what was answered on it; searchable once resolved. The full-text
# index itself is engine-specific and kept beside these tables, outside this metadata (see SEARCH_TABLES).
answers = Table(
    "answers",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),  # the full-text index's row id
    Column("task_gid", ID, nullable=False),
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("private", Boolean(), nullable=False),  # asked in a private channel: suggested in that channel only
    Column("title", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("answered_by", Text, nullable=False),  # names, newline-separated, the last to answer first
    Column("asker", ID, nullable=True),  # the asker's Asana user: their own comments are no answer
    Column("permalink_url", Text, nullable=False),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime(), nullable=True),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("task_gid"),
)

# The projects an answer belongs to (its own and the combined projects it was added to): a link finds answers
# of the projects it covers only.
answer_projects = Table(
    "answer_projects",
    metadata,
    Column("answer_id", Integer, nullable=False),
    Column("project_gid", ID, nullable=False),
    PrimaryKeyConstraint("answer_id", "project_gid"),
    Index(None, "project_gid"),
)

# One suggestion per captured question, and what its asker made of it.
deflections = Table(
    "deflections",
    metadata,
    Column("task_gid", ID, nullable=False),
    Column("team_id", ID, nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("thread_ts", TS, nullable=False),
    Column("message_ts", TS, nullable=True),
    Column("asker", ID, nullable=False),
    Column("suggested", Text, nullable=False),  # the suggested task gids, comma-separated, best first
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("suggested_at", UTCDateTime(), nullable=False),
    Column("outcome", STATE, nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decided_by", ID, nullable=True),
    PrimaryKeyConstraint("task_gid"),
    CheckConstraint("outcome IN ('suggested', 'accepted', 'rejected')", name="outcome"),
    Index(None, "suggested_at"),
)

# The engine's own full-text index of `answers`, made by migration 0018 in raw SQL: an FTS5 table (with its shadow
# tables) on SQLite, a tsvector table with a GIN index on PostgreSQL. Schema comparisons leave these out.
SEARCH_TABLES = "answers_search"
