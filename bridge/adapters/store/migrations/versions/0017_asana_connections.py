"""People connect their own Asana account (issue #20): their sealed tokens, pending connects, offers, own writes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asana_connections",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("asana_user_gid", sa.String(64), nullable=False),
        sa.Column("asana_name", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshing_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", name=op.f("pk_asana_connections")),
    )
    op.create_table(
        "asana_connect_states",
        sa.Column("state_digest", sa.String(64), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_digest", name=op.f("pk_asana_connect_states")),
    )
    op.create_table(
        "asana_connect_offers",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", name=op.f("pk_asana_connect_offers")),
    )
    op.create_table(
        "own_writes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("task_gid", sa.String(64), nullable=False),
        sa.Column("field", sa.String(80), nullable=False),
        sa.Column("value_digest", sa.String(64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_own_writes")),
    )
    op.create_index(op.f("ix_own_writes_task_gid_written_at"), "own_writes", ["task_gid", "written_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_own_writes_task_gid_written_at"), table_name="own_writes")
    op.drop_table("own_writes")
    op.drop_table("asana_connect_offers")
    op.drop_table("asana_connect_states")
    op.drop_table("asana_connections")
