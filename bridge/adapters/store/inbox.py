"""The inbox of Asana events: recorded before the webhook is answered, claimed by workers under a lease."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, or_, select, true, tuple_, update
from sqlalchemy.engine import Dialect

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.sqlite_writer import SqliteWriter, sqlite_file
from bridge.adapters.store.tables import inbox
from bridge.domain.model import ClaimedEvent, InboxEvent, InboxSource, InboxState, ProjectGid

PENDING = InboxState.PENDING.value


class SqlInbox(SqlBase):
    """The inbox. Deliveries arriving together are committed together (group commit): each waits for the commit
    that holds its events, so none is answered before its events are safe, and a burst of deliveries costs a few
    transactions instead of one each."""

    _waiting: list[tuple[Sequence[InboxEvent], asyncio.Future[int]]]
    _committer: asyncio.Task[None] | None
    _rows_writer: _RowsWriter | None

    async def enqueue_events(self, events: Sequence[InboxEvent]) -> int:
        """Record new events (a dedupe key seen before is skipped); how many were new. Returns once committed."""
        if not events:
            return 0
        if not hasattr(self, "_waiting"):
            self._waiting, self._committer = [], None
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_waiting(), name="inbox-commit")
        return await asyncio.shield(done)  # a caller that gives up does not cancel the others' commit

    async def finish_commits(self) -> None:
        """Let a commit in progress finish, and close the SQLite inbox writer (before the engine is closed)."""
        committer = getattr(self, "_committer", None)
        if committer is not None and not committer.done():
            await asyncio.wait({committer})
        rows_writer: _RowsWriter | None = getattr(self, "_rows_writer", None)
        if rows_writer is not None:
            self._rows_writer = None
            await rows_writer.close()

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                added = await self._insert([event for events, _ in batch for event in events])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for events, done in batch:
                mine = {event.dedupe_key for event in events} & added
                added -= mine  # a key sent twice in one batch counts once, for the first delivery
                if not done.done():
                    done.set_result(len(mine))

    async def _insert(self, events: Sequence[InboxEvent]) -> set[str]:
        if not hasattr(self, "_rows_writer"):
            path = sqlite_file(self._engine.url)
            self._rows_writer = _RowsWriter(path, self._engine.dialect) if path else None
        if self._rows_writer is not None:
            assert self._one_writer is not None
            async with self._one_writer:
                return await self._rows_writer.insert(events)
        rows = [_event_values(event) for event in events]
        async with self._write() as conn:
            stmt = dialect_insert(conn, inbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
            # RETURNING yields one row per inserted event only: exact on both dialects, unlike executemany's rowcount.
            result = await conn.execute(stmt.returning(inbox.c.dedupe_key), rows)
            return {row.dedupe_key for row in result}

    async def claim_events(
        self, *, limit: int, now: datetime, lease_seconds: float, settle: timedelta = timedelta(0)
    ) -> list[ClaimedEvent]:
        """Claim up to `limit` events, oldest first. A task's events are claimed together, and only once its newest
        event is `settle` old and none of them is leased or waiting for a retry: a burst settles into one claim."""
        if limit <= 0:
            return []
        lease_until = now + timedelta(seconds=lease_seconds)
        only: tuple[list[str], list[int]] | None = None
        if self._one_writer is not None:
            # SQLite has one writer for the whole file, and finding what is claimable reads every pending row (tens
            # of ms with a backlog), which would hold up the webhook deliveries waiting to commit. So it is found
            # by a read first; then, as the writer, the same statement is run over only what was found.
            async with self._read() as conn:
                found = (await conn.execute(self._claimable(now=now, limit=limit, settle=settle))).all()
            if not found:
                return []
            only = ([row.task_gid for row in found if row.task_gid is not None], [row.id for row in found])
        claimable = self._claimable(now=now, limit=limit, settle=settle, only=only)
        stmt = (
            update(inbox)
            .where(inbox.c.id.in_(claimable.with_only_columns(inbox.c.id).scalar_subquery()))
            .values(attempts=inbox.c.attempts + 1, lease_until=lease_until)
            .returning(*inbox.c)
        )
        async with self._write() as conn:
            rows = (await conn.execute(stmt)).all()
        claimed = [_claimed(row) for row in rows]
        # RETURNING does not promise an order.
        claimed.sort(key=lambda c: (c.event.received_at, c.id))
        return claimed

    def _claimable(
        self, *, now: datetime, limit: int, settle: timedelta, only: tuple[list[str], list[int]] | None = None
    ) -> Select[tuple[int, str | None]]:
        """The claimable events (id, task_gid), oldest first; `only` narrows them to these tasks and task-less ids."""
        busy = or_(inbox.c.lease_until > now, inbox.c.available_at > now)
        # A task is settled when its newest pending event is `settle` old and none is leased or waiting for a retry.
        # With each settled task comes its most attempts: a group that failed (or whose worker died) is tried again
        # as the same group, so that its post keeps its key and is found if it was made; events that came since
        # (fewer attempts) wait for the next group.
        settled_tasks = (
            select(inbox.c.task_gid, func.max(inbox.c.attempts))
            .where(inbox.c.state == PENDING, inbox.c.task_gid.is_not(None))
            .group_by(inbox.c.task_gid)
            .having(func.max(inbox.c.received_at) <= now - settle)
            .having(func.sum(case((busy, 1), else_=0)) == 0)
        )
        narrowed: list[ColumnElement[bool]] = []
        if only is not None:
            tasks, ids = only
            settled_tasks = settled_tasks.where(inbox.c.task_gid.in_(tasks))
            narrowed.append(or_(inbox.c.task_gid.in_(tasks), inbox.c.id.in_(ids)))
        # One statement for both dialects. PostgreSQL locks the chosen rows and skips rows another replica has
        # locked; SQLite ignores FOR UPDATE, but the writer transaction (BEGIN IMMEDIATE) runs alone.
        return (
            select(inbox.c.id, inbox.c.task_gid)
            .where(
                inbox.c.state == PENDING,
                *narrowed,
                or_(inbox.c.lease_until.is_(None), inbox.c.lease_until <= now),
                or_(inbox.c.available_at.is_(None), inbox.c.available_at <= now),
                or_(inbox.c.task_gid.is_(None), tuple_(inbox.c.task_gid, inbox.c.attempts).in_(settled_tasks)),
                *self._one_claimer_per_task(),
            )
            .order_by(inbox.c.received_at, inbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    async def extend_lease(self, ids: Sequence[int], *, held_until: datetime, until: datetime) -> bool:
        """Keep a claim longer, if it is still ours (nobody claimed the events after our lease ran out)."""
        if not ids:
            return True
        async with self._write() as conn:
            result = await conn.execute(
                update(inbox)
                .where(inbox.c.id.in_(list(ids)), inbox.c.state == PENDING, inbox.c.lease_until == held_until)
                .values(lease_until=until)
            )
            return bool(result.rowcount == len(ids))

    def _one_claimer_per_task(self) -> list[ColumnElement[bool]]:
        """On PostgreSQL two replicas claiming at the same moment could split a task's events between them (SKIP
        LOCKED works row by row): a task's rows go to whoever takes the task's lock first, for this transaction."""
        if self._engine.dialect.name != "postgresql":
            return []  # SQLite: one writer at a time claims
        return [
            or_(
                inbox.c.task_gid.is_(None),
                func.pg_try_advisory_xact_lock(func.hashtext(inbox.c.task_gid)).is_(true()),
            )
        ]

    async def finish_events(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        async with self._write() as conn:
            await conn.execute(
                update(inbox)
                .where(inbox.c.id.in_(list(ids)))
                .values(state=InboxState.DONE.value, lease_until=None, finished_at=_utcnow())
            )

    async def release_event(self, event_id: int, *, retry_at: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(inbox)
                .where(inbox.c.id == event_id, inbox.c.state == PENDING)
                .values(lease_until=None, available_at=retry_at)
            )

    async def park_event(self, event_id: int, reason: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(inbox)
                .where(inbox.c.id == event_id)
                .values(state=InboxState.PARKED.value, lease_until=None, finished_at=_utcnow(), park_reason=reason)
            )

    async def inbox_counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in InboxState}
        async with self._read() as conn:
            rows = await conn.execute(select(inbox.c.state, func.count()).group_by(inbox.c.state))
            for state, count in rows:
                counts[state] = count
        return counts

    async def oldest_pending_at(self) -> datetime | None:
        async with self._read() as conn:
            value: datetime | None = await conn.scalar(
                select(func.min(inbox.c.received_at)).where(inbox.c.state == PENDING)
            )
        return value


class _RowsWriter:
    """Inbox rows into SQLite in one trip off the loop (see sqlite_writer): which keys are there already, then one
    multi-row INSERT, in one transaction — the same outcome as INSERT … ON CONFLICT DO NOTHING RETURNING."""

    # The row of a new event, in this order (as _event_values has it for SQLAlchemy).
    COLUMNS = (
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
    # 15 columns: well under SQLite's 32,766 variables per statement.
    ROWS_PER_STATEMENT = 500

    def __init__(self, path: str, dialect: Dialect) -> None:
        self._writer = SqliteWriter(path)
        # The columns' own conversions (JSON documents, UTC datetimes as text), as SQLAlchemy would bind them.
        self._payload = _processor(inbox.c.payload, dialect)
        self._moment = _processor(inbox.c.received_at, dialect)
        self._names = ", ".join(self.COLUMNS)
        self._one_row = "(" + ", ".join("?" for _ in self.COLUMNS) + ")"

    async def insert(self, events: Sequence[InboxEvent]) -> set[str]:
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
        keys = [event.dedupe_key for event in events]
        return await self._writer.run(lambda conn: self._insert(conn, keys, params))

    def _insert(self, conn: sqlite3.Connection, keys: list[str], params: list[tuple[Any, ...]]) -> set[str]:
        added = set(keys)
        for start in range(0, len(keys), self.ROWS_PER_STATEMENT):
            chunk = keys[start : start + self.ROWS_PER_STATEMENT]
            marks = ", ".join("?" for _ in chunk)
            added.difference_update(
                key for (key,) in conn.execute(f"SELECT dedupe_key FROM inbox WHERE dedupe_key IN ({marks})", chunk)
            )
        for start in range(0, len(params), self.ROWS_PER_STATEMENT):
            chunk_params = params[start : start + self.ROWS_PER_STATEMENT]
            values = ", ".join(self._one_row for _ in chunk_params)
            conn.execute(
                f"INSERT INTO inbox ({self._names}) VALUES {values} ON CONFLICT (dedupe_key) DO NOTHING",
                [value for row in chunk_params for value in row],
            )
        return added

    async def close(self) -> None:
        await self._writer.close()


def _processor(column: Any, dialect: Dialect) -> Callable[[Any], Any]:
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    assert convert is not None
    return convert  # type: ignore[no-any-return]


def _utcnow() -> datetime:
    # Bookkeeping only (finished_at); decisions about time use the `now` the caller passes in.
    return datetime.now(UTC)


def _event_values(event: InboxEvent) -> dict[str, Any]:
    return {
        "dedupe_key": event.dedupe_key,
        "source": InboxSource(event.source).value,
        "project_gid": event.project_gid,
        "resource_gid": event.resource_gid,
        "resource_type": event.resource_type,
        "action": event.action,
        "payload": event.payload,
        "state": PENDING,
        "attempts": 0,
        "lease_until": None,
        "available_at": None,
        "received_at": event.received_at,
        "finished_at": None,
        "park_reason": None,
        "task_gid": event.task_gid,
    }


def _claimed(row: Row[Any]) -> ClaimedEvent:
    m = row._mapping
    event = InboxEvent(
        dedupe_key=m["dedupe_key"],
        source=InboxSource(m["source"]),
        project_gid=ProjectGid(m["project_gid"]),
        resource_gid=m["resource_gid"],
        resource_type=m["resource_type"],
        action=m["action"],
        payload=m["payload"],
        received_at=m["received_at"],
        task_gid=m["task_gid"],
    )
    return ClaimedEvent(id=m["id"], event=event, attempts=m["attempts"], lease_until=m["lease_until"])
