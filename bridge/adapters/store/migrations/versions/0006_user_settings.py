"""What each person chose in the App Home (a DM when a task is assigned to them).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_settings",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("slack_user_id", sa.String(64), nullable=False),
        sa.Column("asana_user_gid", sa.String(64), nullable=True),
        sa.Column("assignment_dms", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", name=op.f("pk_user_settings")),
    )
    op.create_index(op.f("ix_user_settings_team_id_asana_user_gid"), "user_settings", ["team_id", "asana_user_gid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_settings_team_id_asana_user_gid"), "user_settings")
    op.drop_table("user_settings")
