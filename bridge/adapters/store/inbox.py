"""The inbox of Asana events: deliveries kept before the webhook is answered, unpacked into events, claimed by
workers under a lease."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.inbox_sqlite import SqliteInboxWriter, events_by_delivery
from bridge.adapters.store.shared_limits import held_by_the_silent
from bridge.adapters.store.sqlite_writer import sqlite_file
from bridge.adapters.store.tables import inbox, inbox_deliveries
from bridge.domain.model import (
    ClaimedEvent,
    Delivery,
    Holder,
    InboxEvent,
    InboxSource,
    InboxState,
    ProjectGid,
    Unpacked,
)

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

    async def claim_events(
        self,
        *,
        limit: int,
        now: datetime,
        lease_seconds: float,
        settle: timedelta = timedelta(0),
        holder: Holder | None = None,
    ) -> list[ClaimedEvent]:
        """Claim up to `limit` events, oldest first. A task's events are claimed together, and only once its newest
        event is `settle` old and none of them is leased or waiting for a retry: a burst settles into one claim.

        With a `holder`, the claim names it, and events whose holder stopped heartbeating are free again at once
        (their lease notwithstanding): a dead replica's work, or this process's own before a restart."""
        if limit <= 0:
            return []
        lease_until = now + timedelta(seconds=lease_seconds)
        orphaned = held_by_the_silent(inbox.c.claimed_by, now, holder)
        only: tuple[list[str], list[int]] | None = None
        if self._one_writer is not None:
            # SQLite has one writer for the whole file, and finding what is claimable reads every pending row (tens
            # of ms with a backlog), which would hold up the webhook deliveries waiting to commit. So it is found
            # by a read first; then, as the writer, the same statement is run over only what was found.
            async with self._read() as conn:
                found = (
                    await conn.execute(self._claimable(now=now, limit=limit, settle=settle, orphaned=orphaned))
                ).all()
            if not found:
                return []
            only = ([row.task_gid for row in found if row.task_gid is not None], [row.id for row in found])
        claimable = self._claimable(now=now, limit=limit, settle=settle, orphaned=orphaned, only=only)
        stmt = (
            update(inbox)
            .where(inbox.c.id.in_(claimable.with_only_columns(inbox.c.id).scalar_subquery()))
            .values(
                attempts=inbox.c.attempts + 1,
                lease_until=lease_until,
                claimed_by=None if holder is None else holder.replica_id,
            )
            .returning(*inbox.c)
        )
        async with self._write() as conn:
            rows = (await conn.execute(stmt)).all()
        claimed = [_claimed(row) for row in rows]
        # RETURNING does not promise an order.
        claimed.sort(key=lambda c: (c.event.received_at, c.id))
        return claimed

    def _claimable(
        self,
        *,
        now: datetime,
        limit: int,
        settle: timedelta,
        orphaned: ColumnElement[bool],
        only: tuple[list[str], list[int]] | None = None,
    ) -> Select[tuple[int, str | None]]:
        """The claimable events (id, task_gid), oldest first; `only` narrows them to these tasks and task-less ids."""
        leased = and_(inbox.c.lease_until > now, not_(orphaned))
        busy = or_(leased, inbox.c.available_at > now)
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
                or_(inbox.c.lease_until.is_(None), inbox.c.lease_until <= now, orphaned),
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

    async def forget_finished_events(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` relayed (done) events finished before `before`, oldest first; how many. Parked and
        pending events stay."""
        old = (
            select(inbox.c.id)
            .where(inbox.c.state == InboxState.DONE.value, inbox.c.finished_at < before)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        async with self._write() as conn:
            result = await conn.execute(delete(inbox).where(inbox.c.id.in_(old.scalar_subquery())))
            return int(result.rowcount)

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
