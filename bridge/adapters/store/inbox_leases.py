"""The inbox's leases: workers claim a task's settled events together, keep the claim while they work, and finish,
retry later or park each event; relayed events are forgotten after a while."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, delete, func, not_, or_, select, true, tuple_, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.shared_limits import held_by_the_silent
from bridge.adapters.store.tables import inbox
from bridge.domain.model import ClaimedEvent, Holder, InboxEvent, InboxSource, InboxState, ProjectGid

PENDING = InboxState.PENDING.value


class SqlInboxLeases(SqlBase):
    """Claims on the inbox's events (SqlInbox keeps them as they arrive). A claim is a lease: an event whose lease
    ran out, or whose holder stopped heartbeating, can be claimed again."""

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


def _utcnow() -> datetime:
    # Bookkeeping only (finished_at); decisions about time use the `now` the caller passes in.
    return datetime.now(UTC)


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
