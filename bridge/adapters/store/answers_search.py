"""The full-text index of resolved answers (table answers_search) in each engine's words: SQLite FTS5 ranked by bm25,
PostgreSQL tsvector + GIN ranked by ts_rank_cd. Its rows are written with the answers (adapters/store/answers.py),
in the same transaction; what to look for is planned by adapters/store/rarity.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Row, Text, TextualSelect, column, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.adapters.store.rarity import Plan
from bridge.adapters.store.tables import answers
from bridge.domain.suggest import Answer, Scope

# bm25 weights of the FTS5 columns (title, notes, answer): a title word counts three times (bench/suggest.py).
# The scope column (the projects, migration 0019) weighs nothing.
SQLITE_RANK = "bm25(answers_search, 3.0, 1.0, 1.0, 0.0)"
RANKED_FIRST = 100
PG_DOCUMENT = (
    "setweight(to_tsvector('english', :title), 'A') || setweight(to_tsvector('english', :notes), 'B')"
    " || setweight(to_tsvector('english', :answer), 'C')"
)


async def search(conn: AsyncConnection, plan: Plan, scope: Scope, *, limit: int) -> list[Row[Any]]:
    """The resolved answers the plan finds in the scope, best first: each an answers row with its `rank` (higher is
    better) and its `projects` (space-separated gids)."""
    dialect = conn.dialect.name
    projects = ", ".join(f":p{i}" for i in range(len(scope.project_gids)))
    params: dict[str, Any] = {
        **_queries(dialect, plan, scope.project_gids),
        "team": scope.team_id,
        "channel": scope.channel_id,
        "limit": limit,
        "ranked": RANKED_FIRST,
        **{f"p{i}": gid for i, gid in enumerate(scope.project_gids)},
    }
    if dialect == "postgresql":
        # A plan for these words, not a generic one: an OR of rare words and one of common words want
        # different plans, and a prepared statement's generic plan (asyncpg prepares every statement) costs
        # four times the CPU over 100,000 tasks (bench/suggest.py).
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # The engine ranks the candidates on its own index (the cheap part), the best RANKED_FIRST, and only
    # those are joined and filtered; when the filters keep too few of them, every candidate is filtered.
    rows = list(await conn.execute(_statement(dialect, projects, first=True), params))
    if len(rows) < limit:
        rows = list(await conn.execute(_statement(dialect, projects, first=False), params))
    return rows


async def reindex(conn: AsyncConnection, ids: Sequence[int], batch: Sequence[Answer]) -> None:
    """Replace the index rows of these answers (ids in the order of `batch`): a resolved answer is indexed, an open
    one is not."""
    sqlite = conn.dialect.name == "sqlite"
    key = "rowid" if sqlite else "id"
    await conn.execute(text(f"DELETE FROM answers_search WHERE {key} IN ({', '.join(map(str, ids))})"))
    words = [
        {"id": i, "title": a.title, "notes": a.notes, "answer": a.answer, "scope": _scope_words(a.project_gids)}
        for i, a in zip(ids, batch, strict=True)
        if a.resolved_at is not None
    ]
    if not words:
        return
    if sqlite:
        columns = "title, notes, answer, scope"
        insert = f"INSERT INTO answers_search (rowid, {columns}) VALUES (:id, :title, :notes, :answer, :scope)"
    else:
        insert = f"INSERT INTO answers_search (id, document) VALUES (:id, {PG_DOCUMENT})"
    await conn.execute(text(insert), words)


def _scope_words(project_gids: Sequence[str]) -> str:
    return " ".join(scope_word(g) for g in dict.fromkeys(project_gids))


def _queries(dialect: str, plan: Plan, projects: Sequence[str]) -> dict[str, str]:
    """The plan in the engine's words. SQLite: one match, a group of candidate words AND one of the other ranked
    words (bm25 ranks by every word of it) AND, when the scope is small, one of its projects (indexed as words of the
    `scope` column, which weighs nothing). PostgreSQL: a match (the candidates) and the query that ranks them (every
    ranked word); its planner decides whether to find the scope's rows first."""
    if dialect == "sqlite":
        match = "(" + " OR ".join("(" + " AND ".join(map(_phrase, g)) + ")" for g in plan.groups) + ")"
        if plan.scope_first:  # else the scope is most rows: cheaper filtered after the rank, with the privacy rule
            match = "(" + " OR ".join(f"scope : {_phrase(scope_word(p))}" for p in projects) + f") AND {match}"
        if plan.rest:
            match += " AND (" + " OR ".join(map(_phrase, plan.rest)) + ")"
        return {"match": match}
    return {
        "query": " | ".join(plan.ranked),
        "match": " | ".join("(" + " & ".join(g) + ")" for g in plan.groups),
    }


def scope_word(project_gid: str) -> str:
    """A project as a word of the SQLite index (Asana's gids are digits: one token to FTS5's unicode61)."""
    return "p" + project_gid


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _statement(dialect: str, projects: str, *, first: bool) -> TextualSelect:
    """The search in the engine's words: rank the candidates (only the best :ranked of them when `first`), then keep
    those the filters allow, best first. Scores are higher-is-better on both engines."""
    if dialect == "sqlite":
        ranked = (
            f"SELECT rowid AS id, -{SQLITE_RANK} AS rank FROM answers_search WHERE answers_search MATCH :match"
            f" ORDER BY {SQLITE_RANK}"
        )
        if first:
            ranked += " LIMIT :ranked"
    else:
        # ts_rank_cd reads every position of every ranked word in a row (tens of microseconds a row), ts_rank a
        # tenth of that: when `first`, ts_rank picks the best :ranked candidates and ts_rank_cd ranks only those.
        candidates = (
            "SELECT s.id, s.document FROM answers_search s WHERE s.document @@ to_tsquery('english', :match)"
            f" AND s.id IN (SELECT answer_id FROM answer_projects WHERE project_gid IN ({projects}))"
        )
        if first:
            candidates += " ORDER BY ts_rank(s.document, to_tsquery('english', :query)) DESC LIMIT :ranked"
        ranked = (
            "SELECT c.id, ts_rank_cd(c.document, to_tsquery('english', :query)) AS rank"
            f" FROM ({candidates}) c ORDER BY 2 DESC"
        )
    listed = "group_concat(project_gid, ' ')" if dialect == "sqlite" else "string_agg(project_gid, ' ')"
    return text(
        f"WITH ranked AS ({ranked}) SELECT a.*, ranked.rank AS rank,"
        f" (SELECT {listed} FROM answer_projects l WHERE l.answer_id = a.id) AS projects"
        " FROM ranked JOIN answers a ON a.id = ranked.id"
        " WHERE a.team_id = :team AND (NOT a.private OR a.channel_id = :channel) AND a.resolved_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM answer_projects p WHERE p.answer_id = a.id"
        f" AND p.project_gid IN ({projects})) ORDER BY ranked.rank DESC, a.id LIMIT :limit"
    ).columns(*answers.c, column("rank", Float), column("projects", Text))
