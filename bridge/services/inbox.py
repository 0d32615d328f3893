"""The inbox's rules: kept webhook deliveries unpacked into events (a burst left whole a moment), settled events
claimed and relayed a task at a time under a lease that is renewed, failures retried with a growing delay and parked
after too many tries, and relayed events forgotten once old. entrypoints/inbox_worker.py runs them in loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bridge.domain.events import delivery_events
from bridge.domain.model import ClaimedEvent, Holder, TaskGid
from bridge.domain.relay import group_by_task, task_of
from bridge.errors import AsanaError, AsanaRateLimited, SlackError
from bridge.metrics import Metrics
from bridge.ports import Clock, InboxStore, TaskStore
from bridge.services.outbox import PostInFlight

log = logging.getLogger(__name__)

RELAY_LANES = 4  # tasks relayed at once by one worker
FINISH_BATCH = 50
# Kept deliveries unpacked per transaction: enough to share its cost, few enough that the deliveries arriving
# meanwhile (they wait for the same SQLite writer) are not held up for more than a few milliseconds.
UNPACK_BATCH = 20
# Deliveries kept within this long count as a stream still coming in (see Inbox.unpack).
STREAMING = timedelta(milliseconds=50)


class TaskRelay(Protocol):
    """What the worker asks of the relay (services/relay.py): tell one task's burst of events."""

    async def relay_task(self, task_gid: str, events: Sequence[ClaimedEvent], *, untracked: bool = False) -> None: ...


class Arrivals(Protocol):
    """When this process last kept a webhook delivery (entrypoints/asana_webhooks.py's DeliveryPace)."""

    @property
    def last_kept(self) -> datetime | None: ...


class Inbox:
    """Drains the inbox: claims events, lets a burst on one task settle for `window` seconds, relays it once.

    A failure gives the events back with a growing delay; after `max_attempts` they are parked with the reason,
    so one poison task never blocks the queue. On PostgreSQL several replicas drain together (SKIP LOCKED).
    """

    def __init__(
        self,
        *,
        inbox: InboxStore,
        tasks: TaskStore,
        relay: TaskRelay,
        clock: Clock,
        window: float = 2.0,
        lease_seconds: float = 120.0,
        batch: int = 200,
        max_attempts: int = 25,
        metrics: Metrics | None = None,
        pace: Arrivals | None = None,
        holder: Holder | None = None,
    ) -> None:
        self._inbox = inbox
        self._tasks = tasks
        self._relay = relay
        self._clock = clock
        self._window = timedelta(seconds=window)
        self._lease = lease_seconds
        self._batch = batch
        self._max_attempts = max_attempts
        self._metrics = metrics
        self._pace = pace
        self._holder = holder  # claims name this replica; a dead replica's claims are taken over at once
        # A burst is left whole for at most half the relay window: its events are unpacked before they would have
        # settled anyway, so what the relay tells, and when, does not change.
        self._hold_burst = self._window / 2
        self._burst_since: datetime | None = None
        self._caught_up = True  # the last unpack emptied the kept deliveries

    async def drain_once(self) -> int:
        """One round of both loops of entrypoints/inbox_worker.py: unpack kept deliveries, then relay what has
        settled. Returns how many deliveries were unpacked and events finished or parked."""
        return await self.unpack() + await self.relay_settled()

    @property
    def window(self) -> timedelta:
        """How long a task's events settle before they are relayed."""
        return self._window

    @property
    def streaming(self) -> bool:
        """Whether deliveries are streaming in (see unpack: left whole for a while, then unpacked as they come)."""
        return self._burst_since is not None

    async def waiting(self) -> bool:
        """Whether any event is still to be relayed (settling, waiting for a retry, claimed by another worker) or
        any delivery still to be unpacked."""
        return await self._inbox.oldest_pending_at() is not None

    async def unpack(self) -> int:
        """Kept webhook deliveries into inbox events (new ones only); how many deliveries.

        While a burst of deliveries streams in, and nothing was left over from before it, they are left whole for
        up to half the relay window: answering Asana comes first (each delivery then costs one small commit), and
        unpacking them would take the same CPU and the same SQLite writer as the deliveries still arriving. A
        longer stream is unpacked as it comes, after that."""
        if self._hold_unpacking():
            return 0
        unpacked = await self._inbox.unpack_deliveries(limit=UNPACK_BATCH, events_of=delivery_events)
        self._caught_up = unpacked.deliveries < UNPACK_BATCH
        if self._metrics is not None and unpacked.events:
            self._metrics.webhook_events.labels("accepted").inc(unpacked.added)
            self._metrics.webhook_events.labels("duplicate").inc(unpacked.events - unpacked.added)
        return unpacked.deliveries

    def _hold_unpacking(self) -> bool:
        now = self._clock.now()
        last = self._pace.last_kept if self._pace is not None else None
        if last is None or now - last > STREAMING:
            self._burst_since = None
            return False
        if self._burst_since is None:
            if not self._caught_up:
                return False  # behind already: a stream that outlasted its hold is unpacked as it comes
            self._burst_since = now
        if now - self._burst_since < self._hold_burst:
            return True
        self._caught_up = False  # held long enough: unpack until nothing is left over
        return False

    async def relay_settled(self) -> int:
        """Claims settled events and relays them a task at a time, a few tasks at once: each waits mostly on Asana
        and Slack, and the Slack gateway keeps each channel to its pace. How many events were finished or parked."""
        now = self._clock.now()
        claimed = await self._inbox.claim_events(
            limit=self._batch, now=now, lease_seconds=self._lease, settle=self._window, holder=self._holder
        )
        groups = group_by_task(claimed)
        # Most events of a busy project are about tasks nobody follows: one read tells them apart for the whole
        # claim, instead of one per task. (A task followed a moment later, by a capture finishing, is told by the
        # capture itself, as when the read comes first.)
        followed = {t.task_gid for t in await self._tasks.tracked_tasks_of([TaskGid(g) for g in groups if g])}
        lanes = asyncio.Semaphore(RELAY_LANES)
        # Finished events are recorded a few dozen at a time, not one write per task: the inbox's writes compete
        # with the webhook deliveries being committed.
        finished: list[int] = []

        async def finish(ids: list[int], *, now_or_later: bool = False) -> None:
            finished.extend(ids)
            if len(finished) >= FINISH_BATCH or (now_or_later and finished):
                done, finished[:] = list(finished), []
                await self._inbox.finish_events(done)

        async def settle(task_gid: str, items: list[ClaimedEvent]) -> None:
            ids = [item.id for item in items]
            if not task_gid:
                await finish(ids)  # not about a task (a section, the project): nothing to tell
                return
            async with lanes:
                # A round of many tasks can outlast the claim: once a third of it is used, renew it before each
                # task, and leave a task whose claim ran out (another worker has it now) to that worker.
                started = self._clock.now()
                if started > items[0].lease_until - timedelta(seconds=self._lease * 2 / 3):
                    renewed = started + timedelta(seconds=self._lease)
                    if not await self._inbox.extend_lease(ids, held_until=items[0].lease_until, until=renewed):
                        log.info("claim on task %s ran out; another worker relays it", task_gid)
                        return
                    items = [replace(item, lease_until=renewed) for item in items]
                try:
                    await self._relay.relay_task(task_gid, items, untracked=task_gid not in followed)
                except Exception as exc:
                    await self._retry_or_park(items, exc, now)
                else:
                    await finish(ids)

        await asyncio.gather(*(settle(task_gid, items) for task_gid, items in groups.items()))
        await finish([], now_or_later=True)
        return len(claimed)

    async def _retry_or_park(self, items: list[ClaimedEvent], exc: Exception, now: datetime) -> None:
        expected = isinstance(exc, (AsanaError, SlackError, PostInFlight))
        if not expected:
            log.exception("relay of task %s failed", task_of(items[0].event.payload), exc_info=exc)
        for item in items:
            if item.attempts >= self._max_attempts:
                await self._inbox.park_event(item.id, f"{type(exc).__name__}: {exc}"[:500])
            else:
                delay = retry_delay(exc, item.attempts)
                await self._inbox.release_event(item.id, retry_at=now + timedelta(seconds=delay))
        if isinstance(exc, PostInFlight):  # the usual moment of waiting (a card on its way), not a problem
            log.info("relay of task %s waits: %s", task_of(items[0].event.payload), (exc.__doc__ or "").strip())
        elif expected:
            log.warning("relay of task %s delayed: %s", task_of(items[0].event.payload), exc)


def retry_delay(exc: Exception, attempts: int) -> float:
    """How long a failed relay waits before its next try. An API failing for a while (5xx, 429, timeouts) or a
    thread still on its way: 1 s, 2 s, 4 s, then every 8 s (after a 429, at least its Retry-After), so a flaky
    minute delays what is told by seconds. Anything else: doubling up to 5 minutes, as for a poison event."""
    if isinstance(exc, (AsanaRateLimited, SlackError)) and exc.retry_after:
        return max(exc.retry_after, _transient(attempts))
    if isinstance(exc, (AsanaError, SlackError, PostInFlight)):
        return _transient(attempts)
    return min(300.0, 2.0 ** min(attempts, 8))


def _transient(attempts: int) -> float:
    return float(min(8.0, 2.0 ** max(0, attempts - 1)))


class Retention:
    """Deletes relayed events once they are `keep` old. Until then a resend of one (Asana retries a failed delivery
    for a day; the Events API's sync token lasts a day) meets its key and is skipped; without this the inbox would
    grow by every event ever received. Replicas may sweep at once: deleting a row twice is harmless."""

    CHUNK = 1000  # rows per transaction: short holds of SQLite's writer

    def __init__(self, *, store: InboxStore, clock: Clock, keep: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._keep = keep

    async def sweep(self) -> int:
        before = self._clock.now() - self._keep
        forgotten = 0
        while True:
            deleted = await self._store.forget_finished_events(before=before, limit=self.CHUNK)
            forgotten += deleted
            if deleted < self.CHUNK:
                break
        if forgotten:
            log.info("forgot %d relayed inbox events finished before %s", forgotten, before.isoformat())
        return forgotten
