"""Suggestions: resolved work indexed with the database's own full-text engine, and the deflections it made.

SQLite: an FTS5 table ranked by bm25 (porter stemming), its rowid the answer's id. PostgreSQL: a tsvector per
answer (title weighted A, notes B, answer C) under a GIN index, ranked by ts_rank_cd. Neither is in tables.py:
SQLAlchemy has no type for them, so they are made here in the engine's own words.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_gid", sa.String(64), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.Text(), nullable=False),
        sa.Column("asker", sa.String(64), nullable=True),
        sa.Column("permalink_url", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("task_gid", name=op.f("uq_answers_task_gid")),
    )
    op.create_table(
        "answer_projects",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("project_gid", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("answer_id", "project_gid", name=op.f("pk_answer_projects")),
    )
    op.create_index(op.f("ix_answer_projects_project_gid"), "answer_projects", ["project_gid"])
    op.create_table(
        "deflections",
        sa.Column("task_gid", sa.String(64), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("asker", sa.String(64), nullable=False),
        sa.Column("suggested", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("task_gid", name=op.f("pk_deflections")),
        sa.CheckConstraint("outcome IN ('suggested', 'accepted', 'rejected')", name=op.f("ck_deflections_outcome")),
    )
    op.create_index(op.f("ix_deflections_suggested_at"), "deflections", ["suggested_at"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE answers_search USING fts5(title, notes, answer, tokenize = 'porter unicode61')"
        )
    else:
        op.execute("CREATE TABLE answers_search (id integer PRIMARY KEY, document tsvector NOT NULL)")
        op.execute("CREATE INDEX ix_answers_search_document ON answers_search USING gin (document)")


def downgrade() -> None:
    op.execute("DROP TABLE answers_search")
    op.drop_index(op.f("ix_deflections_suggested_at"), table_name="deflections")
    op.drop_table("deflections")
    op.drop_index(op.f("ix_answer_projects_project_gid"), table_name="answer_projects")
    op.drop_table("answer_projects")
    op.drop_table("answers")
