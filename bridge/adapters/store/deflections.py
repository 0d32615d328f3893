"""The deflections: the answers suggested for a question, and whether the asker took one (issue 22's measure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import deflections
from bridge.domain.model import ChannelId, SlackUserId, TaskGid, TeamId
from bridge.domain.suggest import Deflection, Outcome


class SqlDeflections(SqlBase):
    """One row per question a suggestion was made for; its outcome is decided once."""

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
