"""The nag scheduler's index on tracked tasks: which tasks' moments have come, arming them, and re-arming a link's.

A save of a task (tasks.py) sets its moment to ARM_AT_ONCE and bumps its revision; arming here is a
compare-and-set on that revision, so a save made while a tick judged the task is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, tuple_, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import nag_arming, tracked_tasks
from bridge.adapters.store.tasks import task_from_row
from bridge.domain.model import Arm, TaskToJudge
from bridge.domain.nag_moments import ARM_AT_ONCE

_t = tracked_tasks.c


class SqlNagIndex(SqlBase):
    async def tasks_to_judge(
        self, *, now: datetime, after: tuple[datetime, str] | None = None, limit: int = 200
    ) -> list[TaskToJudge]:
        """Open tasks whose moment is at or before `now`, earliest first, `limit` at a time after `after`."""
        stmt = select(tracked_tasks).where(_t.next_check_at <= now, _t.completed.is_(False))
        if after is not None:  # a row value: both engines seek the index to it (an OR made SQLite scan from the start)
            stmt = stmt.where(tuple_(_t.next_check_at, _t.task_gid) > tuple_(*after))
        stmt = stmt.order_by(_t.next_check_at, _t.task_gid).limit(limit)
        async with self._read() as conn:
            rows = list(await conn.execute(stmt))
        return [TaskToJudge(task_from_row(r), r._mapping["revision"], r._mapping["next_check_at"]) for r in rows]

    async def count_due(self, *, now: datetime, up_to: int) -> int:
        """How many open tasks' moments have come, counted up to `up_to` (an index range, no rows made)."""
        due = select(_t.task_gid).where(_t.next_check_at <= now, _t.completed.is_(False)).limit(up_to).subquery()
        async with self._read() as conn:
            return int((await conn.execute(select(func.count()).select_from(due))).scalar_one())

    async def arm_tasks(self, arms: Sequence[Arm]) -> None:
        if not arms:
            return
        stmt = (
            update(tracked_tasks)
            .where(_t.task_gid == bindparam("gid"), _t.revision == bindparam("rev"))
            .values(next_check_at=bindparam("at"))
        )
        async with self._write() as conn:
            await conn.execute(stmt, [{"gid": a.task_gid, "rev": a.revision, "at": a.at} for a in arms])

    async def nag_fingerprints(self) -> dict[tuple[str, str], str]:
        async with self._read() as conn:
            rows = await conn.execute(select(nag_arming))
            return {(r.project_gid, r.channel_id): r.fingerprint for r in rows}

    async def rearm_link(self, project_gid: str, channel_id: str, fingerprint: str | None) -> None:
        """Judge every open task of this link at the next tick, and remember its rules' digest (None: forget it)."""
        where = (nag_arming.c.project_gid == project_gid, nag_arming.c.channel_id == channel_id)
        async with self._write() as conn:
            await conn.execute(
                update(tracked_tasks)
                .where(_t.project_gid == project_gid, _t.channel_id == channel_id, _t.completed.is_(False))
                .values(next_check_at=ARM_AT_ONCE, revision=_t.revision + 1)
            )
            if fingerprint is None:
                await conn.execute(delete(nag_arming).where(*where))
                return
            values = {"project_gid": project_gid, "channel_id": channel_id, "fingerprint": fingerprint}
            stmt = dialect_insert(conn, nag_arming).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["project_gid", "channel_id"], set_={"fingerprint": stmt.excluded.fingerprint}
                )
            )
