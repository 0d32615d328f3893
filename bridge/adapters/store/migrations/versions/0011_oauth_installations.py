"""Multi-workspace install: slack_sdk's installation store (installations, bots) and OAuth state store tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of this revision's types; they mirror slack_sdk 3.48's SQLAlchemy stores (naive UTC datetimes),
# with secrets as Text because sealed values (BRIDGE_ENCRYPTION_KEY) outgrow its String(200).
SLACK_ID = sa.String(32)
NAME = sa.String(200)
SCOPES = sa.String(1000)


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", SLACK_ID, nullable=False),
        sa.Column("app_id", SLACK_ID, nullable=False),
        sa.Column("enterprise_id", SLACK_ID, nullable=True),
        sa.Column("enterprise_name", NAME, nullable=True),
        sa.Column("enterprise_url", NAME, nullable=True),
        sa.Column("team_id", SLACK_ID, nullable=True),
        sa.Column("team_name", NAME, nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", SLACK_ID, nullable=True),
        sa.Column("bot_user_id", SLACK_ID, nullable=True),
        sa.Column("bot_scopes", SCOPES, nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", SLACK_ID, nullable=False),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_scopes", SCOPES, nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.Text(), nullable=True),
        sa.Column("incoming_webhook_channel", NAME, nullable=True),
        sa.Column("incoming_webhook_channel_id", NAME, nullable=True),
        sa.Column("incoming_webhook_configuration_url", NAME, nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", SLACK_ID, nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", SLACK_ID, nullable=False),
        sa.Column("app_id", SLACK_ID, nullable=False),
        sa.Column("enterprise_id", SLACK_ID, nullable=True),
        sa.Column("enterprise_name", NAME, nullable=True),
        sa.Column("team_id", SLACK_ID, nullable=True),
        sa.Column("team_name", NAME, nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", SLACK_ID, nullable=True),
        sa.Column("bot_user_id", SLACK_ID, nullable=True),
        sa.Column("bot_scopes", SCOPES, nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_bots")),
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", NAME, nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", "slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", "slack_installations")
    op.drop_table("slack_installations")
