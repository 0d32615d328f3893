"""What the report reads (the facts of every tracked task, in one query) and the server's own secrets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.pool import NullPool

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import create_engine, dialect_insert
from bridge.adapters.store.tables import server_secrets, tracked_tasks
from bridge.domain.model import ChannelId, TaskGid, TeamId
from bridge.domain.report_tasks import StoredTask

_t = tracked_tasks.c
T = TypeVar("T")


def _moment(value: Any) -> datetime | None:
    """A stored UTC moment read without SQLAlchemy's SQLite date parser (a regex per value, the slowest part of
    reading ten thousand rows): SQLite gives the naive UTC text, PostgreSQL (asyncpg) an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _columns(dialect: str, priority_field: str | None) -> tuple[ColumnElement[Any], ...]:
    # The snapshot values are picked out by the database (JSON_EXTRACT on SQLite, ->> on PostgreSQL): decoding
    # ten thousand whole snapshots in Python would cost more than the rest of the report together.
    snapshot = _t.snapshot
    return (
        _t.task_gid,
        _t.name,
        _t.team_id,
        _t.channel_id,
        _t.project_gid,
        _t.permalink_url,
        # The bridge's own created_at only where Asana's is missing from the snapshot; both read raw (see _moment).
        type_coerce(case((snapshot["created_at"].as_string().is_(None), _t.created_at)), String()),
        _t.completed,
        type_coerce(_t.first_response_at, String()),
        _t.ack_subtask_gid.is_not(None),
        snapshot["created_at"].as_string(),
        snapshot["completed_at"].as_string(),
        snapshot["due_on"].as_string(),
        snapshot["due_at"].as_string(),
        snapshot[("assignee", "gid")].as_string(),
        snapshot[("assignee", "name")].as_string(),
        snapshot["_bridge_due_pushes"].as_integer(),
        _priority(dialect, priority_field),
    )


def _priority(dialect: str, wanted: str | None) -> ColumnElement[Any]:
    """The chosen option's name of the enum custom field with gid or name `wanted` (any case), as a subquery."""
    if not wanted:
        return literal(None, String()).label("priority")
    folded = wanted.strip().lower()
    name: ColumnElement[Any]
    gid: ColumnElement[Any]
    option: ColumnElement[Any]
    if dialect == "postgresql":
        fields = _t.snapshot.op("->")("custom_fields")
        listed = case((func.jsonb_typeof(fields) == "array", fields), else_=literal_column("'[]'::jsonb"))
        each = func.jsonb_array_elements(listed).table_valued("value").alias("field")
        value = each.c.value
        # Fixed keys written into the SQL (as jsonb's operators want text, not the driver's varchar parameters).
        name, gid = value.op("->>")(literal_column("'name'")), value.op("->>")(literal_column("'gid'"))
        option = value.op("->")(literal_column("'enum_value'")).op("->>")(literal_column("'name'"))
    else:
        each = func.json_each(_t.snapshot, "$.custom_fields").table_valued("value").alias("field")
        name = func.json_extract(each.c.value, "$.name")
        gid = func.json_extract(each.c.value, "$.gid")
        option = func.json_extract(each.c.value, "$.enum_value.name")
    found: Select[Any] = (
        select(option).select_from(each).where(or_(gid == wanted, func.lower(func.trim(name)) == folded)).limit(1)
    )
    return found.scalar_subquery().label("priority")


class SqlReports(SqlBase):
    async def report_tasks(
        self,
        *,
        team_id: TeamId | None = None,
        channel_id: ChannelId | None = None,
        priority_field: str | None = None,
        changed_since: datetime | None = None,
        assignee_gid: str | None = None,
        open_only: bool = False,
    ) -> list[StoredTask]:
        stmt = self._report_select(
            team_id=team_id,
            channel_id=channel_id,
            priority_field=priority_field,
            changed_since=changed_since,
            assignee_gid=assignee_gid,
            open_only=open_only,
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_stored(row) for row in rows]

    async def report_tasks_apart(
        self, made: Callable[[StoredTask], T], *, team_id: TeamId, channel_id: ChannelId, priority_field: str | None
    ) -> dict[TaskGid, T]:
        """One channel's tasks as `report_tasks` reads them, each given to `made`, keyed by task gid: read in a
        worker thread on a connection of its own (with an event loop of its own), `made` called there too."""
        stmt = self._report_select(team_id=team_id, channel_id=channel_id, priority_field=priority_field)
        url = self._engine.url.render_as_string(hide_password=False)
        return await asyncio.to_thread(asyncio.run, _read_apart(url, stmt, made))

    def _report_select(
        self,
        *,
        team_id: TeamId | None = None,
        channel_id: ChannelId | None = None,
        priority_field: str | None = None,
        changed_since: datetime | None = None,
        assignee_gid: str | None = None,
        open_only: bool = False,
    ) -> Select[Any]:
        stmt = select(*_columns(self._engine.dialect.name, priority_field)).where(_t.parent_task_gid.is_(None))
        if open_only:
            stmt = stmt.where(_t.completed.is_(False))
        if assignee_gid is not None:
            # Compared in the database: only one person's rows are read (and only theirs get the priority subquery).
            stmt = stmt.where(_t.snapshot[("assignee", "gid")].as_string() == assignee_gid)
        if changed_since is not None:
            # A first response is recorded without a save (compare-and-set on its own column).
            stmt = stmt.where(or_(_t.updated_at >= changed_since, _t.first_response_at >= changed_since))
        if team_id is not None:
            stmt = stmt.where(_t.team_id == team_id)
        if channel_id is not None:
            stmt = stmt.where(_t.channel_id == channel_id)
        return stmt

    async def server_secret(self, name: str, *, candidate: str | None, now: datetime) -> str | None:
        """The stored secret `name`; `candidate` becomes it when there is none yet (the first replica's wins).
        Without a candidate, only a read: None when there is none."""
        wanted = select(server_secrets.c.value).where(server_secrets.c.name == name)
        async with self._read() as conn:
            found = (await conn.execute(wanted)).scalar()
        if found is not None or candidate is None:
            return None if found is None else str(found)
        async with self._write() as conn:
            await conn.execute(
                dialect_insert(conn, server_secrets)
                .values(name=name, value=candidate, created_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = (await conn.execute(wanted)).scalar()
        return str(value)

    async def replace_server_secret(self, name: str, value: str, *, now: datetime) -> None:
        """Replace (or set) the secret `name`: whatever was signed with the old one is void."""
        async with self._write() as conn:
            changed = await conn.execute(
                update(server_secrets).where(server_secrets.c.name == name).values(value=value, created_at=now)
            )
            if not changed.rowcount:
                await conn.execute(server_secrets.insert().values(name=name, value=value, created_at=now))


async def _read_apart(url: str, stmt: Select[Any], made: Callable[[StoredTask], T]) -> dict[TaskGid, T]:
    # The worker's own engine (a connection, then gone): the pool's connections belong to the bridge's loop. A
    # full reload of 100,000 rows made on the bridge's loop held it for seconds in turns, even a page at a time.
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.stream(stmt)
            return {task.gid: made(task) async for rows in result.partitions(1000) for task in map(_stored, rows)}
    finally:
        await engine.dispose()


def _stored(row: Sequence[Any]) -> StoredTask:
    if row[6] is None and row[8] is None:
        return StoredTask._make(row)
    return StoredTask._make((*row[:6], _moment(row[6]), row[7], _moment(row[8]), *row[9:]))
