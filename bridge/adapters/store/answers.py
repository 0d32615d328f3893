"""Resolved work: the answers (a task's question, what answered it, its projects) and their search.

The index row of an answer (adapters/store/answers_search.py) is written in the same transaction as the answer, so
the two never disagree: present while the task is resolved, gone when it is reopened. The suggestions made from
them are adapters/store/deflections.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.adapters.store import answers_search
from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.rarity import WordRarity
from bridge.adapters.store.tables import answer_projects, answers, tracked_tasks
from bridge.domain.model import AsanaUserGid, ChannelId, ProjectGid, TaskGid, TeamId, TrackedTask
from bridge.domain.suggest import Answer, Match, Scope


class SqlAnswers(SqlBase):
    """The answers and their search (AnswerStore, beside SqlDeflections)."""

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
            rows = await answers_search.search(conn, plan, scope, limit=limit)
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
    await answers_search.reindex(conn, ids, latest)


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
