"""The inbox of Asana events waiting to be handled, and its counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bridge.domain.model import (
    ClaimedEvent,
    Delivery,
    Holder,
    InboxEvent,
    Unpacked,
)


class InboxStats(Protocol):
    """How full the inbox is (status and health)."""

    async def inbox_counts(self) -> dict[str, int]:
        """Counts of events by state: pending, done, parked, and landed (in deliveries not unpacked yet)."""
        ...

    async def oldest_pending_at(self) -> datetime | None: ...


class InboxArrivals(Protocol):
    """What comes into the inbox: webhook deliveries (kept whole) and events read from the Events API."""

    async def keep_delivery(self, delivery: Delivery) -> None:
        """Commit a checked webhook delivery whole; its events are made by `unpack_deliveries`."""
        ...

    async def enqueue_events(self, events: Sequence[InboxEvent]) -> int:
        """Insert the events whose dedupe_key is new; return how many were inserted. One transaction."""
        ...


class InboxStore(InboxArrivals, InboxStats, Protocol):
    """Asana deliveries kept on arrival and the events the worker claims from them."""

    async def unpack_deliveries(self, *, limit: int, events_of: Callable[[Delivery], Sequence[InboxEvent]]) -> Unpacked:
        """Up to `limit` kept deliveries, oldest first, into inbox events (new keys only) and out of the store, in one
        transaction; a delivery whose `events_of` raises is set aside with the reason (counted as parked)."""
        ...

    async def claim_events(
        self,
        *,
        limit: int,
        now: datetime,
        lease_seconds: float,
        settle: timedelta = ...,
        holder: Holder | None = None,
    ) -> list[ClaimedEvent]:
        """Claim pending events (oldest first) whose lease is free or expired, bumping attempts; a task's events
        together, once its newest is `settle` old and none is leased or waiting for a retry. With a holder, the
        claim names it, and events held by a replica that stopped heartbeating are free whatever their lease.

        On PostgreSQL uses FOR UPDATE SKIP LOCKED so replicas never claim the same row.
        """
        ...

    async def extend_lease(self, ids: Sequence[int], *, held_until: datetime, until: datetime) -> bool:
        """Keep a claim longer; False if it is no longer ours (it ran out and another worker claimed the events)."""
        ...

    async def finish_events(self, ids: Sequence[int]) -> None: ...

    async def release_event(self, event_id: int, *, retry_at: datetime) -> None:
        """Give a claimed event back, not to be claimed again before retry_at."""
        ...

    async def park_event(self, event_id: int, reason: str) -> None: ...

    async def forget_finished_events(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` done events finished before `before` (oldest first); how many."""
        ...
