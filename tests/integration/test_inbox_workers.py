"""Several inbox workers (replicas) on one database drain it together and relay each event exactly once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.adapters.clock import SystemClock
from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.events import delivery_events
from bridge.domain.model import ClaimedEvent, Delivery, InboxEvent, InboxSource, ProjectGid
from bridge.entrypoints.asana_webhooks import DeliveryPace
from bridge.entrypoints.inbox_worker import InboxRetention, InboxWorker
from tests.support import FakeClock, eventually

START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


class RecordingRelay:
    """A fake relay that records which events it was given, and fails some tasks the first time."""

    def __init__(self, failing: set[str]) -> None:
        self.relayed: Counter[str] = Counter()
        self.failing = failing

    async def relay_task(self, task_gid: str, events: Sequence[ClaimedEvent], *, untracked: bool = False) -> None:
        await asyncio.sleep(0)  # let the other replica run in between
        if task_gid in self.failing:
            self.failing.discard(task_gid)
            raise RuntimeError("the first try fails")
        self.relayed.update(e.event.dedupe_key for e in events)


def _event(index: int) -> InboxEvent:
    task = f"{1000 + index % 20}"
    return InboxEvent(
        dedupe_key=f"k{index}",
        source=InboxSource.WEBHOOK,
        project_gid=ProjectGid("1"),
        resource_gid=task,
        resource_type="task",
        action="changed",
        payload={"resource": {"gid": task, "resource_type": "task"}, "action": "changed", "user": None},
        received_at=START,
    )


async def test_two_replicas_relay_every_event_once(database_url: str) -> None:
    stores = [await SqlStore.connect(database_url) for _ in range(2)]
    try:
        await stores[0].enqueue_events([_event(i) for i in range(200)])
        clock = FakeClock(START + timedelta(seconds=10))
        relay = RecordingRelay(failing={"1003", "1007"})
        workers = [
            InboxWorker(inbox=store, tasks=store, relay=relay, clock=clock, window=0.0, batch=15) for store in stores
        ]
        for _ in range(60):
            await asyncio.gather(*(worker.drain_once() for worker in workers))
            clock.advance(timedelta(seconds=5))  # failed tasks come back after their backoff
            if (await stores[0].inbox_counts()).get("pending", 0) == 0:
                break
        assert sorted(relay.relayed) == sorted(f"k{i}" for i in range(200))
        assert set(relay.relayed.values()) == {1}
        assert (await stores[0].inbox_counts()).get("done") == 200
    finally:
        for store in stores:
            await store.close()


def _delivery(index: int, *, at: datetime = START, events: int = 5) -> Delivery:
    """A webhook delivery as kept on arrival; neighbours share an event (a resend of the same change)."""
    numbers = [*range(index * events, index * events + events - 1), 10_000 + index // 2]
    body = {
        "events": [
            {
                "user": {"gid": "9", "resource_type": "user"},
                "created_at": f"2026-11-30T14:00:00.{n % 1000:03d}Z" if n < 10_000 else "2026-11-30T13:00:00.000Z",
                "action": "changed",
                "resource": {"gid": f"{1000 + n % 20}", "resource_type": "task"},
                "parent": None,
                "change": {"field": "name", "action": "changed", "new_value": str(n)},
            }
            for n in numbers
        ]
    }
    return Delivery(ProjectGid("1"), json.dumps(body).encode(), len(numbers), received_at=at)


async def test_two_replicas_unpack_kept_deliveries_and_relay_each_event_once(database_url: str) -> None:
    stores = [await SqlStore.connect(database_url) for _ in range(2)]
    try:
        deliveries = [_delivery(i) for i in range(60)]
        await asyncio.gather(*(stores[i % 2].keep_delivery(d) for i, d in enumerate(deliveries)))
        expected = {e.dedupe_key for d in deliveries for e in delivery_events(d)}
        assert len(expected) == 60 * 4 + 30  # the shared events once
        assert (await stores[0].inbox_counts())["landed"] == 300
        clock = FakeClock(START + timedelta(seconds=10))
        relay = RecordingRelay(failing=set())
        workers = [
            InboxWorker(inbox=store, tasks=store, relay=relay, clock=clock, window=0.0, batch=15) for store in stores
        ]
        for _ in range(100):
            await asyncio.gather(*(worker.drain_once() for worker in workers))
            counts = await stores[0].inbox_counts()
            if counts["pending"] == counts["landed"] == 0:
                break
        assert sorted(relay.relayed) == sorted(expected)
        assert set(relay.relayed.values()) == {1}
        assert await stores[0].inbox_counts() == {"landed": 0, "pending": 0, "done": len(expected), "parked": 0}
    finally:
        for store in stores:
            await store.close()


async def test_a_burst_of_deliveries_is_answered_first_and_unpacked_within_half_the_window(store: SqlStore) -> None:
    clock = FakeClock(START)
    pace = DeliveryPace()
    relay = RecordingRelay(failing=set())
    worker = InboxWorker(inbox=store, tasks=store, relay=relay, clock=clock, window=2.0, pace=pace)

    async def arrives(index: int) -> None:
        await store.keep_delivery(_delivery(index, at=clock.now()))
        pace.kept(clock.now())

    async def landed() -> int:
        return (await store.inbox_counts())["landed"]

    # Quiet before: a delivery is unpacked at the next round.
    await arrives(0)
    clock.advance(timedelta(milliseconds=60))
    assert await worker.unpack() == 1 and await landed() == 0
    # A stream: each round sees a delivery kept in the last 50 ms, and holds them, up to 1 s (half the window).
    for index in range(1, 10):
        clock.advance(timedelta(milliseconds=40))
        await arrives(index)
        assert await worker.unpack() == 0
    assert await landed() == 9 * 5
    clock.advance(timedelta(milliseconds=40))
    await arrives(10)
    assert await worker.unpack() == 0  # 0.36 s into the burst (it began with the first delivery held)
    clock.advance(timedelta(milliseconds=600))
    await arrives(11)
    assert await worker.unpack() == 0  # 0.96 s
    clock.advance(timedelta(milliseconds=40))
    await arrives(12)
    # 1 s into the burst: unpacked as it comes from now on, while the stream goes on.
    assert await worker.unpack() == 12 and await landed() == 0
    for index in range(13, 16):
        clock.advance(timedelta(milliseconds=40))
        await arrives(index)
        assert await worker.unpack() == 1
    # The stream stops: the next burst is held again.
    clock.advance(timedelta(milliseconds=60))
    assert await worker.unpack() == 0
    await arrives(16)
    assert await worker.unpack() == 0 and await landed() == 5


async def test_retention_sweeps_relayed_events_in_chunks(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    await store.enqueue_events([_event(i) for i in range(25)])
    claimed = await store.claim_events(limit=100, now=START + timedelta(minutes=1), lease_seconds=30)
    await store.finish_events([c.id for c in claimed[:23]])
    monkeypatch.setattr(InboxRetention, "CHUNK", 5)
    kept = InboxRetention(store=store, clock=FakeClock(datetime.now(UTC) + timedelta(days=8)), keep=timedelta(days=7))
    assert await kept.sweep() == 23
    assert await store.inbox_counts() == {"landed": 0, "pending": 2, "done": 0, "parked": 0}
    recent = InboxRetention(store=store, clock=FakeClock(datetime.now(UTC)), keep=timedelta(days=7))
    await store.finish_events([claimed[23].id])
    assert await recent.sweep() == 0


class CountingInbox:
    """The store, counting the loops' looks at it: a test then knows a loop has looked and is resting."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self.unpacks = 0
        self.unpacked_last = -1  # deliveries the last look found
        self.claims = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def unpack_deliveries(self, **kwargs: Any) -> Any:
        unpacked = await self._store.unpack_deliveries(**kwargs)
        self.unpacks += 1
        self.unpacked_last = unpacked.deliveries
        return unpacked

    async def claim_events(self, **kwargs: Any) -> Any:
        try:
            return await self._store.claim_events(**kwargs)
        finally:
            self.claims += 1


RESTING = 60.0  # an idle rest no test waits out: what is relayed before it was woken


async def test_a_kept_delivery_wakes_the_resting_unpacker(store: SqlStore) -> None:
    pace = DeliveryPace()
    inbox = CountingInbox(store)
    relay = RecordingRelay(failing=set())
    worker = InboxWorker(inbox=inbox, tasks=store, relay=relay, clock=SystemClock(), window=0.0, pace=pace)  # type: ignore[arg-type]
    pace.on_kept(worker.delivery_kept)  # as wiring/workers.py does

    async def kept(index: int) -> set[str]:
        delivery = _delivery(index, at=datetime.now(UTC))
        await store.keep_delivery(delivery)
        return {e.dedupe_key for e in delivery_events(delivery)}

    first = await kept(0)  # before the start, and no stream: unpacked in the first round
    worker.start(interval=0.05, idle=RESTING)
    try:
        await eventually(lambda: set(relay.relayed) >= first)
        await eventually(lambda: inbox.unpacked_last == 0)  # it looked again, found nothing, and rests
        second = await kept(1)
        pace.kept(datetime.now(UTC))
        await eventually(lambda: set(relay.relayed) >= first | second)
    finally:
        await worker.stop()


async def test_events_from_the_poller_are_relayed_within_the_window_without_a_wake(store: SqlStore) -> None:
    inbox = CountingInbox(store)
    relay = RecordingRelay(failing=set())
    worker = InboxWorker(inbox=inbox, tasks=store, relay=relay, clock=SystemClock(), window=0.3)  # type: ignore[arg-type]
    worker.start(interval=0.05, idle=RESTING)
    try:
        await eventually(lambda: inbox.claims >= 1)  # the relay looked, found nothing, and rests
        await store.enqueue_events([replace(_event(i), received_at=datetime.now(UTC)) for i in range(5)])
        # The relay rests no longer than the window its events settle in, then polls until they have.
        await eventually(lambda: len(relay.relayed) == 5)
    finally:
        await worker.stop()
