"""Suggestions over many tasks: the search finds its scope's rows on the engine's own index first.

SQLite: the FTS5 table gets a fourth column, `scope`, holding the answer's projects as words (`p<gid>`), so that a
match can ask for the scope's projects and bm25 ranks only their rows (the column weighs nothing in the rank). FTS5
cannot add a column: the table is made again from `answers`. PostgreSQL: the planner keeps statistics of ten times
more lexemes of the tsvector column (the search estimates how many tasks have a word from them).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS5 = "fts5({columns}, tokenize = 'porter unicode61')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE answers_search ALTER COLUMN document SET STATISTICS 1000")
        return
    op.execute(f"CREATE VIRTUAL TABLE answers_search_new USING {FTS5.format(columns='title, notes, answer, scope')}")
    op.execute(
        "INSERT INTO answers_search_new (rowid, title, notes, answer, scope)"
        " SELECT a.id, a.title, a.notes, a.answer, coalesce((SELECT group_concat('p' || p.project_gid, ' ')"
        " FROM answer_projects p WHERE p.answer_id = a.id), '')"
        " FROM answers a WHERE a.id IN (SELECT rowid FROM answers_search)"
    )
    op.execute("DROP TABLE answers_search")
    op.execute("ALTER TABLE answers_search_new RENAME TO answers_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE answers_search ALTER COLUMN document SET STATISTICS -1")
        return
    op.execute(f"CREATE VIRTUAL TABLE answers_search_old USING {FTS5.format(columns='title, notes, answer')}")
    op.execute(
        "INSERT INTO answers_search_old (rowid, title, notes, answer) SELECT rowid, title, notes, answer"
        " FROM answers_search"
    )
    op.execute("DROP TABLE answers_search")
    op.execute("ALTER TABLE answers_search_old RENAME TO answers_search")
