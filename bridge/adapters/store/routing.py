"""Routing records: the tasks routing assigned (claimed once per task) and each person's count per project."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import routed_tasks, routing_counts
from bridge.domain.model import AsanaUserGid, MessageTs, ProjectGid, RoutedTask, TaskGid


class SqlRouting(SqlBase):
    async def claim_routing(self, routed: RoutedTask) -> bool:
        """Record a first routing of a task; False when another worker (or an earlier run) already did."""
        async with self._write() as conn:
            stmt = (
                dialect_insert(conn, routed_tasks)
                .values(_values(routed))
                .on_conflict_do_nothing(index_elements=["task_gid"])
                .returning(routed_tasks.c.task_gid)
            )
            return (await conn.execute(stmt)).first() is not None

    async def save_routing(self, routed: RoutedTask) -> None:
        values = _values(routed)
        del values["task_gid"]
        async with self._write() as conn:
            await conn.execute(update(routed_tasks).where(routed_tasks.c.task_gid == routed.task_gid).values(values))

    async def get_routing(self, task_gid: TaskGid) -> RoutedTask | None:
        async with self._read() as conn:
            row = (await conn.execute(select(routed_tasks).where(routed_tasks.c.task_gid == task_gid))).first()
        return None if row is None else _routed(row)

    async def open_routings(self) -> list[RoutedTask]:
        async with self._read() as conn:
            rows = await conn.execute(select(routed_tasks).where(routed_tasks.c.closed.is_(False)))
            return [_routed(row) for row in rows]

    async def count_routing(self, project_gid: ProjectGid, email: str, *, at: datetime) -> None:
        async with self._write() as conn:
            stmt = dialect_insert(conn, routing_counts).values(
                project_gid=project_gid, email=email, assignments=1, last_at=at
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["project_gid", "email"],
                    set_={"assignments": routing_counts.c.assignments + 1, "last_at": stmt.excluded.last_at},
                )
            )

    async def routing_counts(self, project_gid: ProjectGid) -> tuple[dict[str, int], str | None]:
        """Tasks routed to each person from the project, and who got the latest one."""
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(routing_counts.c.email, routing_counts.c.assignments, routing_counts.c.last_at).where(
                        routing_counts.c.project_gid == project_gid
                    )
                )
            ).all()
        latest = max(rows, key=lambda row: row.last_at).email if rows else None
        return {row.email: row.assignments for row in rows}, latest


def _values(routed: RoutedTask) -> dict[str, Any]:
    return {
        "task_gid": routed.task_gid,
        "project_gid": routed.project_gid,
        "assignee": routed.assignee,
        "assignee_gid": routed.assignee_gid,
        "assigned_at": routed.assigned_at,
        "holders": list(routed.holders),
        "pinged_at": routed.pinged_at,
        "ping_ts": routed.ping_ts,
        "told_nobody": routed.told_nobody,
        "announcement": routed.announcement,
        "manual": routed.manual,
        "closed": routed.closed,
    }


def _routed(row: Row[Any]) -> RoutedTask:
    return RoutedTask(
        task_gid=TaskGid(row.task_gid),
        project_gid=ProjectGid(row.project_gid),
        assigned_at=row.assigned_at,
        assignee=row.assignee,
        assignee_gid=AsanaUserGid(row.assignee_gid) if row.assignee_gid else None,
        holders=tuple(row.holders or ()),
        pinged_at=row.pinged_at,
        ping_ts=MessageTs(row.ping_ts) if row.ping_ts else None,
        told_nobody=row.told_nobody,
        announcement=row.announcement,
        manual=row.manual,
        closed=row.closed,
    )
