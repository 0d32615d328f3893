"""Routing: which tasks the bridge assigned, to whom and since when, and how many each person got per project.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routed_tasks",
        sa.Column("task_gid", sa.String(64), nullable=False),
        sa.Column("project_gid", sa.String(64), nullable=False),
        sa.Column("assignee", sa.String(320), nullable=True),
        sa.Column("assignee_gid", sa.String(64), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holders", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("pinged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ping_ts", sa.String(32), nullable=True),
        sa.Column("told_nobody", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("announcement", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("task_gid", name=op.f("pk_routed_tasks")),
    )
    op.create_index(op.f("ix_routed_tasks_closed"), "routed_tasks", ["closed"])
    op.create_table(
        "routing_counts",
        sa.Column("project_gid", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_gid", "email", name=op.f("pk_routing_counts")),
    )


def downgrade() -> None:
    op.drop_table("routing_counts")
    op.drop_index(op.f("ix_routed_tasks_closed"), "routed_tasks")
    op.drop_table("routed_tasks")
