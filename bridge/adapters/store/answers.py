"""Resolved work and its full-text index (SQLite FTS5 + bm25, PostgreSQL tsvector + GIN + ts_rank_cd), and the
deflections suggestions made.

The index row of an answer is written in the same transaction as the answer, so the two never disagree: present
while the task is resolved, gone when it is reopened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Row, Text, TextualSelect, and_, column, delete, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.rarity import Plan, WordRarity
from bridge.adapters.store.tables import answer_projects, answers, deflections, tracked_tasks
from bridge.domain.model import AsanaUserGid, ChannelId, ProjectGid, SlackUserId, TaskGid, TeamId, TrackedTask
from bridge.domain.suggest import Answer, Deflection, Match, Outcome, Scope

# bm25 weights of the FTS5 columns (title, notes, answer): a title word counts three times (bench/suggest.py).
# The scope column (the projects, migration 0019) weighs nothing.
SQLITE_RANK = "bm25(answers_search, 3.0, 1.0, 1.0, 0.0)"
RANKED_FIRST = 100
PG_DOCUMENT = (
    "setweight(to_tsvector('english', :title), 'A') || setweight(to_tsvector('english', :notes), 'B')"
    " || setweight(to_tsvector('english', :answer), 'C')"
)


class SqlAnswers(SqlBase):
    @property
    def _rarity(self) -> WordRarity:
        """Made at first use: the mixins share SqlBase's constructor."""
        found: WordRarity | None = self.__dict__.get("_word_rarity")
        if found is None:
            found = self.__dict__["_word_rarity"] = WordRarity()
        return found

    async def get_answer(self, task_gid: TaskGid) -> Answer | None:
        async with self._read() as conn:
            row = (await conn.execute(select(answers).where(answers.c.task_gid == task_gid))).first()
            if row is None:
                return None
            projects = await _projects_of(conn, [row.id])
        return _answer(row, projects.get(row.id, ()))

    async def save_answer(self, answer: Answer) -> None:
        await self.save_answers([answer])

    async def save_answers(self, batch: Sequence[Answer]) -> None:
        """Keep answers and their index rows, in one transaction (many at once for an import or a benchmark)."""
        if not batch:
            return
        async with self._write() as conn:
            await _save(conn, batch)

    async def search_answers(self, words: Sequence[str], scope: Scope, *, limit: int) -> list[Match]:
        """Resolved answers matching the words, in the scope, best first; score = rank / len(words). Over many tasks
        only the rows with the question's rarer words are ranked, and the words most tasks have are left out of the
        ranking (adapters/store/rarity.py)."""
        if not words or not scope.project_gids:
            return []
        async with self._read() as conn:
            plan = await self._rarity.plan(conn, words, scope.project_gids)
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
            rows = list(await conn.execute(_search(dialect, projects, first=True), params))
            if len(rows) < limit:
                rows = list(await conn.execute(_search(dialect, projects, first=False), params))
        return [Match(_answer(row, _listed(row.projects)), float(row.rank) / len(words)) for row in rows]

    async def resolved_unindexed(self, project_gid: ProjectGid, *, limit: int) -> list[TrackedTask]:
        """Completed tracked tasks of a project with no resolved answer yet: what a backfill reads, a page at a time."""
        from bridge.adapters.store.tasks import task_from_row

        indexed = exists().where(
            and_(answers.c.task_gid == tracked_tasks.c.task_gid, answers.c.resolved_at.is_not(None))
        )
        stmt = (
            select(tracked_tasks)
            .where(
                tracked_tasks.c.project_gid == project_gid,
                tracked_tasks.c.completed.is_(True),
                tracked_tasks.c.parent_task_gid.is_(None),
                ~indexed,
            )
            .order_by(tracked_tasks.c.task_gid)
            .limit(limit)
        )
        async with self._read() as conn:
            return [task_from_row(row) for row in await conn.execute(stmt)]

    # ---- deflections -------------------------------------------------------------------------------------

    async def add_deflection(self, deflection: Deflection) -> bool:
        """Record a suggestion for a question; False if that question has one already (a repeated capture)."""
        async with self._write() as conn:
            stmt = dialect_insert(conn, deflections).values(_deflection_values(deflection))
            result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["task_gid"]))
        return bool(result.rowcount)

    async def set_deflection_message(self, task_gid: TaskGid, message_ts: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(deflections).where(deflections.c.task_gid == task_gid).values(message_ts=message_ts)
            )

    async def get_deflection(self, task_gid: TaskGid) -> Deflection | None:
        async with self._read() as conn:
            row = (await conn.execute(select(deflections).where(deflections.c.task_gid == task_gid))).first()
        return None if row is None else _deflection(row)

    async def decide_deflection(self, task_gid: TaskGid, outcome: Outcome, *, at: datetime, by: SlackUserId) -> bool:
        """Accept or reject a suggestion still open; False if it was decided already (a double click)."""
        async with self._write() as conn:
            result = await conn.execute(
                update(deflections)
                .where(deflections.c.task_gid == task_gid, deflections.c.outcome == Outcome.SUGGESTED.value)
                .values(outcome=outcome.value, decided_at=at, decided_by=by)
            )
        return bool(result.rowcount)

    async def deflections_since(self, since: datetime, *, team_id: TeamId | None = None) -> list[Deflection]:
        stmt = select(deflections).where(deflections.c.suggested_at >= since).order_by(deflections.c.suggested_at)
        if team_id is not None:
            stmt = stmt.where(deflections.c.team_id == team_id)
        async with self._read() as conn:
            return [_deflection(row) for row in await conn.execute(stmt)]


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


def _search(dialect: str, projects: str, *, first: bool) -> TextualSelect:
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


async def _save(conn: AsyncConnection, batch: Sequence[Answer]) -> None:
    """Upsert the answers, then replace their projects and index rows: a few statements for the whole batch."""
    latest = list({a.task_gid: a for a in batch}.values())  # the last word on a task, once
    rows = [_answer_values(a) for a in latest]
    stmt = dialect_insert(conn, answers)
    stmt = stmt.on_conflict_do_update(
        index_elements=["task_gid"], set_={k: stmt.excluded[k] for k in rows[0] if k != "task_gid"}
    )
    found = await conn.execute(stmt.returning(answers.c.id, sort_by_parameter_order=True), rows)
    ids = [row.id for row in found]
    await conn.execute(delete(answer_projects).where(answer_projects.c.answer_id.in_(ids)))
    projects = [
        {"answer_id": i, "project_gid": g}
        for i, a in zip(ids, latest, strict=True)
        for g in dict.fromkeys(a.project_gids)
    ]
    if projects:
        await conn.execute(answer_projects.insert(), projects)
    sqlite = conn.dialect.name == "sqlite"
    key = "rowid" if sqlite else "id"
    await conn.execute(text(f"DELETE FROM answers_search WHERE {key} IN ({', '.join(map(str, ids))})"))
    words = [
        {"id": i, "title": a.title, "notes": a.notes, "answer": a.answer, "scope": _scope_words(a.project_gids)}
        for i, a in zip(ids, latest, strict=True)
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


def _answer_values(answer: Answer) -> dict[str, Any]:
    return {
        "task_gid": answer.task_gid,
        "team_id": answer.team_id,
        "channel_id": answer.channel_id,
        "private": answer.private,
        "title": answer.title,
        "notes": answer.notes,
        "answer": answer.answer,
        "answered_by": "\n".join(answer.answered_by),
        "asker": answer.asker,
        "permalink_url": answer.permalink_url,
        "asked_at": answer.asked_at,
        "resolved_at": answer.resolved_at,
    }


def _listed(projects: str | None) -> tuple[ProjectGid, ...]:
    """An answer's projects as the search lists them (one query with the answers: one trip to the database)."""
    return tuple(ProjectGid(g) for g in sorted((projects or "").split()))


async def _projects_of(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, tuple[ProjectGid, ...]]:
    if not ids:
        return {}
    found: dict[int, list[ProjectGid]] = {}
    rows = await conn.execute(
        select(answer_projects.c.answer_id, answer_projects.c.project_gid)
        .where(answer_projects.c.answer_id.in_(ids))
        .order_by(answer_projects.c.answer_id, answer_projects.c.project_gid)
    )
    for answer_id, project_gid in rows:
        found.setdefault(answer_id, []).append(ProjectGid(project_gid))
    return {k: tuple(v) for k, v in found.items()}


def _answer(row: Row[Any], projects: tuple[ProjectGid, ...]) -> Answer:
    m = row._mapping
    return Answer(
        task_gid=TaskGid(m["task_gid"]),
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        project_gids=projects,
        title=m["title"],
        permalink_url=m["permalink_url"],
        asked_at=m["asked_at"],
        notes=m["notes"],
        answer=m["answer"],
        answered_by=tuple(n for n in m["answered_by"].split("\n") if n),
        asker=AsanaUserGid(m["asker"]) if m["asker"] else None,
        private=bool(m["private"]),
        resolved_at=m["resolved_at"],
    )


def _deflection_values(d: Deflection) -> dict[str, Any]:
    return {
        "task_gid": d.task_gid,
        "team_id": d.team_id,
        "channel_id": d.channel_id,
        "thread_ts": d.thread_ts,
        "message_ts": d.message_ts,
        "asker": d.asker,
        "suggested": ",".join(d.suggested),
        "asked_at": d.asked_at,
        "suggested_at": d.suggested_at,
        "outcome": d.outcome.value,
        "decided_at": d.decided_at,
        "decided_by": d.decided_by,
    }


def _deflection(row: Row[Any]) -> Deflection:
    m = row._mapping
    return Deflection(
        task_gid=TaskGid(m["task_gid"]),
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        thread_ts=m["thread_ts"],
        asker=SlackUserId(m["asker"]),
        suggested=tuple(TaskGid(g) for g in m["suggested"].split(",") if g),
        asked_at=m["asked_at"],
        suggested_at=m["suggested_at"],
        message_ts=m["message_ts"],
        outcome=Outcome(m["outcome"]),
        decided_at=m["decided_at"],
        decided_by=SlackUserId(m["decided_by"]) if m["decided_by"] else None,
    )
