"""Several inbox workers (replicas) on one database drain it together and relay each event exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.model import ClaimedEvent, InboxEvent, InboxSource, ProjectGid
from bridge.entrypoints.workers import InboxWorker
from tests.support import FakeClock

START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


class RecordingRelay:
    """A fake relay that records which events it was given, and fails some tasks the first time."""

    def __init__(self, failing: set[str]) -> None:
        self.relayed: Counter[str] = Counter()
        self.failing = failing

    async def relay_task(self, task_gid: str, events: Sequence[ClaimedEvent]) -> None:
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
            InboxWorker(store=store, relay=relay, clock=clock, window=0.0, batch=15)  # type: ignore[arg-type]
            for store in stores
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
