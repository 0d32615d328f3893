"""The inbox's writes on a SQLite file, each in one trip off the loop (see sqlite_writer), with hand-made SQL that
stores exactly the rows SQLAlchemy would (the columns' own conversions; tested byte for byte)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect

from bridge.adapters.store.sqlite_writer import ROWS_PER_STATEMENT, SqliteWriter
from bridge.adapters.store.tables import inbox, inbox_deliveries
from bridge.domain.model import Delivery, InboxEvent, InboxSource, InboxState, ProjectGid, Unpacked

log = logging.getLogger(__name__)

PENDING = InboxState.PENDING.value

# The row of a new event, in this order (as `event_values` has it for SQLAlchemy).
EVENT_COLUMNS = (
    "dedupe_key",
    "source",
    "project_gid",
    "resource_gid",
    "resource_type",
    "action",
    "payload",
    "state",
    "attempts",
    "lease_until",
    "available_at",
    "received_at",
    "finished_at",
    "park_reason",
    "task_gid",
)
# 15 columns: ROWS_PER_STATEMENT rows are well under SQLite's 32,766 variables per statement.


@dataclass
class _Prepared:
    """Kept deliveries read, and made into event rows, before taking SQLite's write lock."""

    ids: list[int]
    rows: dict[int, list[tuple[Any, ...]]] = field(default_factory=dict)  # the event rows of each delivery
    set_aside: dict[int, str] = field(default_factory=dict)  # deliveries whose events could not be made: why


class SqliteInboxWriter:
    def __init__(self, path: str, dialect: Dialect) -> None:
        self._writer = SqliteWriter(path)
        self._unpacker = SqliteWriter(path)
        self._payload = _bind(inbox.c.payload, dialect)
        self._moment = _bind(inbox.c.received_at, dialect)
        self._read_moment = _result(inbox_deliveries.c.received_at, dialect)
        self._one_row = "(" + ", ".join("?" for _ in EVENT_COLUMNS) + ")"

    async def insert_events(self, events: Sequence[InboxEvent]) -> set[str]:
        """INSERT … ON CONFLICT DO NOTHING RETURNING dedupe_key, in one transaction: the keys that were new."""
        params = self._event_params(events)
        return await self._writer.run(lambda conn: self._insert_events(conn, params))

    async def keep_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        params = [(d.project_gid, d.body, d.events, self._moment(d.received_at)) for d in deliveries]
        await self._writer.run(lambda conn: self._keep(conn, params))

    async def unpack_deliveries(
        self, limit: int, events_of: Callable[[Delivery], Sequence[InboxEvent]], writer_lock: asyncio.Lock
    ) -> Unpacked:
        """Up to `limit` kept deliveries, oldest first, into inbox events and out of the table, in one transaction.

        The deliveries are read and their events made first, on a thread and connection of the unpacker's own and
        outside any transaction (WAL readers wait for nobody); SQLite's write lock, which the deliveries arriving
        meanwhile wait for, is then held only to write. What another unpacker took in between is left to it."""
        prepared = await self._unpacker.call(lambda conn: self._prepare(conn, limit, events_of))
        if not prepared.ids:
            return Unpacked()
        async with writer_lock:
            return await self._unpacker.run(lambda conn: self._apply(conn, prepared))

    async def close(self) -> None:
        await self._writer.close()
        await self._unpacker.close()

    def _keep(self, conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> None:
        conn.executemany(
            "INSERT INTO inbox_deliveries (project_gid, body, events, received_at) VALUES (?, ?, ?, ?)", params
        )

    def _prepare(
        self, conn: sqlite3.Connection, limit: int, events_of: Callable[[Delivery], Sequence[InboxEvent]]
    ) -> _Prepared:
        rows = conn.execute(
            "SELECT id, project_gid, body, events, received_at FROM inbox_deliveries"
            " WHERE park_reason IS NULL ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        kept = {
            id_: Delivery(ProjectGid(project_gid), bytes(body), count, self._read_moment(received_at))
            for id_, project_gid, body, count, received_at in rows
        }
        made, set_aside = events_by_delivery(kept, events_of)
        return _Prepared(
            ids=list(kept), rows={id_: self._event_params(events) for id_, events in made.items()}, set_aside=set_aside
        )

    def _apply(self, conn: sqlite3.Connection, prepared: _Prepared) -> Unpacked:
        taken: list[int] = []
        ids = list(prepared.rows)
        for start in range(0, len(ids), ROWS_PER_STATEMENT):
            chunk = ids[start : start + ROWS_PER_STATEMENT]
            marks = ", ".join("?" for _ in chunk)
            deleted = conn.execute(
                f"DELETE FROM inbox_deliveries WHERE park_reason IS NULL AND id IN ({marks}) RETURNING id", chunk
            )
            taken += [id_ for (id_,) in deleted]
        set_aside = 0
        for id_, reason in prepared.set_aside.items():
            updated = conn.execute(
                "UPDATE inbox_deliveries SET park_reason = ? WHERE id = ? AND park_reason IS NULL", (reason, id_)
            )
            set_aside += updated.rowcount
        params = [row for id_ in sorted(taken) for row in prepared.rows[id_]]
        added = self._insert_events(conn, params)
        return Unpacked(deliveries=len(taken) + set_aside, events=len(params), added=len(added), parked=set_aside)

    def _event_params(self, events: Sequence[InboxEvent]) -> list[tuple[Any, ...]]:
        moments: dict[datetime, Any] = {}  # a delivery's events share their received_at: converted once
        params = []
        for e in events:
            moment = moments.get(e.received_at)
            if moment is None:
                moment = moments[e.received_at] = self._moment(e.received_at)
            source, payload = InboxSource(e.source).value, self._payload(e.payload)
            params.append(
                (e.dedupe_key, source, e.project_gid, e.resource_gid, e.resource_type, e.action, payload,
                 PENDING, 0, None, None, moment, None, None, e.task_gid)
            )  # fmt: skip
        return params

    def _insert_events(self, conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> set[str]:
        """Which keys are there already, then one multi-row INSERT per chunk: the keys that were new."""
        keys = [row[0] for row in params]
        added = set(keys)
        for start in range(0, len(keys), ROWS_PER_STATEMENT):
            chunk = keys[start : start + ROWS_PER_STATEMENT]
            marks = ", ".join("?" for _ in chunk)
            added.difference_update(
                key for (key,) in conn.execute(f"SELECT dedupe_key FROM inbox WHERE dedupe_key IN ({marks})", chunk)
            )
        names = ", ".join(EVENT_COLUMNS)
        for start in range(0, len(params), ROWS_PER_STATEMENT):
            chunk_params = params[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(self._one_row for _ in chunk_params)
            conn.execute(
                f"INSERT INTO inbox ({names}) VALUES {values} ON CONFLICT (dedupe_key) DO NOTHING",
                [value for row in chunk_params for value in row],
            )
        return added


def events_by_delivery(
    kept: dict[int, Delivery], events_of: Callable[[Delivery], Sequence[InboxEvent]]
) -> tuple[dict[int, Sequence[InboxEvent]], dict[int, str]]:
    """The events of each kept delivery (by id), and why those whose events could not be made were set aside: they
    passed every check on arrival, so it is a bug, logged, and the delivery is never retried forever."""
    made: dict[int, Sequence[InboxEvent]] = {}
    set_aside: dict[int, str] = {}
    for id_, delivery in kept.items():
        try:
            made[id_] = events_of(delivery)
        except Exception as exc:
            log.exception("kept delivery %d of project %s could not be unpacked", id_, delivery.project_gid)
            set_aside[id_] = f"{type(exc).__name__}: {exc}"[:500]
    return made, set_aside


def _bind(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    assert convert is not None
    return convert


def _result(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    # sqlite3 hands back the stored text: SQLAlchemy's own parsing, then the column's (UTC-aware) conversion.
    convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
    assert convert is not None
    return convert
