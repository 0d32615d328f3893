"""The inbox of Asana events as they arrive: deliveries kept before the webhook is answered, unpacked into events
(or events read from the Events API), and how full it is. Workers' claims on the events are inbox_leases.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.inbox_sqlite import SqliteInboxWriter, events_by_delivery
from bridge.adapters.store.sqlite_writer import sqlite_file
from bridge.adapters.store.tables import inbox, inbox_deliveries
from bridge.domain.model import Delivery, InboxEvent, InboxSource, InboxState, ProjectGid, Unpacked

PENDING = InboxState.PENDING.value
LANDED = "landed"  # in inbox_counts: events of deliveries not unpacked yet


class SqlInbox(SqlBase):
    """The inbox: webhook deliveries kept whole, and the events unpacked from them (or read from the Events API).

    Writes arriving together are committed together (group commit): each waits for the commit that holds it, so
    none is answered before it is safe, and a burst costs a few transactions instead of one each."""

    _sqlite_writes: SqliteInboxWriter | None

    async def keep_delivery(self, delivery: Delivery) -> None:
        """Keep a checked webhook delivery whole until `unpack_deliveries`. Returns once committed."""
        await self._grouped("inbox-deliveries-commit", self._keep_deliveries).add(delivery)

    async def enqueue_events(self, events: Sequence[InboxEvent]) -> int:
        """Record new events (a dedupe key seen before is skipped); how many were new. Returns once committed."""
        if not events:
            return 0
        return await self._grouped("inbox-commit", self._commit_events).add(events)

    async def unpack_deliveries(self, *, limit: int, events_of: Callable[[Delivery], Sequence[InboxEvent]]) -> Unpacked:
        """Move up to `limit` kept deliveries, oldest first, into inbox events, in one transaction; a delivery whose
        events cannot be read is kept aside with the reason. On PostgreSQL replicas unpack different deliveries."""
        if (writes := self._sqlite()) is not None:
            assert self._one_writer is not None
            return await writes.unpack_deliveries(limit, events_of, self._one_writer)
        async with self._write() as conn:
            rows = (
                await conn.execute(
                    select(inbox_deliveries)
                    .where(inbox_deliveries.c.park_reason.is_(None))
                    .order_by(inbox_deliveries.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return Unpacked()
            kept = {
                row.id: Delivery(ProjectGid(row.project_gid), row.body, row.events, row.received_at) for row in rows
            }
            made, set_aside = events_by_delivery(kept, events_of)
            events = [event for id_ in sorted(made) for event in made[id_]]
            added = await self._insert_events(conn, events) if events else set()
            if set_aside:
                await conn.execute(
                    update(inbox_deliveries)
                    .where(inbox_deliveries.c.id == bindparam("row_id"))
                    .values(park_reason=bindparam("reason")),
                    [{"row_id": id_, "reason": reason} for id_, reason in set_aside.items()],
                )
            await conn.execute(delete(inbox_deliveries).where(inbox_deliveries.c.id.in_(list(made))))
        return Unpacked(deliveries=len(rows), events=len(events), added=len(added), parked=len(set_aside))

    async def close_inbox_writer(self) -> None:
        """Close the SQLite inbox writer (after the group commits, before the engine)."""
        writes: SqliteInboxWriter | None = getattr(self, "_sqlite_writes", None)
        if writes is not None:
            self._sqlite_writes = None
            await writes.close()

    def _sqlite(self) -> SqliteInboxWriter | None:
        """The one-trip writer on a SQLite file; None elsewhere (PostgreSQL, in-memory SQLite) or once closed."""
        if not hasattr(self, "_sqlite_writes"):
            path = sqlite_file(self._engine.url)
            self._sqlite_writes = SqliteInboxWriter(path, self._engine.dialect) if path else None
        return self._sqlite_writes

    async def _keep_deliveries(self, deliveries: list[Delivery]) -> list[None]:
        if (writes := self._sqlite()) is not None:
            assert self._one_writer is not None
            async with self._one_writer:
                await writes.keep_deliveries(deliveries)
        else:
            async with self._write() as conn:
                await conn.execute(
                    inbox_deliveries.insert(),
                    [
                        {"project_gid": d.project_gid, "body": d.body, "events": d.events, "received_at": d.received_at}
                        for d in deliveries
                    ],
                )
        return [None] * len(deliveries)

    async def _commit_events(self, batches: list[Sequence[InboxEvent]]) -> list[int]:
        events = [event for batch in batches for event in batch]
        if (writes := self._sqlite()) is not None:
            assert self._one_writer is not None
            async with self._one_writer:
                added = await writes.insert_events(events)
        else:
            async with self._write() as conn:
                added = await self._insert_events(conn, events)
        counts = []
        for batch in batches:
            mine = {event.dedupe_key for event in batch} & added
            added -= mine  # a key sent twice in one group counts once, for the first caller
            counts.append(len(mine))
        return counts

    async def _insert_events(self, conn: AsyncConnection, events: Sequence[InboxEvent]) -> set[str]:
        stmt = dialect_insert(conn, inbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
        # RETURNING yields one row per inserted event only: exact on both dialects, unlike executemany's rowcount.
        result = await conn.execute(stmt.returning(inbox.c.dedupe_key), [_event_values(event) for event in events])
        return {row.dedupe_key for row in result}

    async def inbox_counts(self) -> dict[str, int]:
        """Events by state, and `landed`: the events of deliveries kept whole, not unpacked yet (those set aside
        count as parked)."""
        counts = {state.value: 0 for state in InboxState} | {LANDED: 0}
        aside = inbox_deliveries.c.park_reason.is_not(None)
        async with self._read() as conn:
            rows = await conn.execute(select(inbox.c.state, func.count()).group_by(inbox.c.state))
            for state, count in rows:
                counts[state] = count
            kept = await conn.execute(
                select(aside, func.coalesce(func.sum(inbox_deliveries.c.events), 0)).group_by(aside)
            )
            for set_aside, events in kept:
                counts[InboxState.PARKED.value if set_aside else LANDED] += int(events)
        return counts

    async def oldest_pending_at(self) -> datetime | None:
        """When the oldest event still to be relayed arrived (pending, or in a delivery not unpacked yet)."""
        async with self._read() as conn:
            pending: datetime | None = await conn.scalar(
                select(func.min(inbox.c.received_at)).where(inbox.c.state == PENDING)
            )
            landed: datetime | None = await conn.scalar(
                select(func.min(inbox_deliveries.c.received_at)).where(inbox_deliveries.c.park_reason.is_(None))
            )
        return min((moment for moment in (pending, landed) if moment is not None), default=None)


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
