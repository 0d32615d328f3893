"""Webhook deliveries kept whole on arrival and unpacked into inbox events, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bridge.adapters.store import SqlStore, migrate
from bridge.adapters.store.tables import inbox
from bridge.domain.events import dedupe_key, delivery_events
from bridge.domain.model import Delivery, ProjectGid, Unpacked
from tests.fixtures_db import on_both_sqlite_paths

pytest_plugins = ["tests.fixtures_db"]

NOW = datetime(2026, 3, 2, 15, 30, 0, 123456, tzinfo=UTC)
P = ProjectGid("1200000000000001")


def asana_event(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "user": {"gid": "1201", "resource_type": "user"},
        "created_at": f"2026-03-02T15:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "action": "changed",
        "resource": {"gid": f"13{n % 7}", "resource_type": "task", "resource_subtype": "default_task"},
        "parent": None,
        "change": {"field": "name", "action": "changed"},
    } | changes


def delivery(*numbers: int, at: datetime = NOW) -> Delivery:
    body = json.dumps({"events": [asana_event(n) for n in numbers]}).encode()
    return Delivery(P, body, len(numbers), received_at=at)


async def unpack_all(store: SqlStore, limit: int = 100) -> Unpacked:
    return await store.unpack_deliveries(limit=limit, events_of=delivery_events)


async def test_a_kept_delivery_becomes_its_events_once_unpacked(store: SqlStore) -> None:
    kept = delivery(1, 2, 3)
    await store.keep_delivery(kept)
    assert await store.inbox_counts() == {"landed": 3, "pending": 0, "done": 0, "parked": 0}
    assert await store.oldest_pending_at() == NOW  # waiting to be relayed, though not unpacked yet
    assert await unpack_all(store) == Unpacked(deliveries=1, events=3, added=3)
    assert await store.inbox_counts() == {"landed": 0, "pending": 3, "done": 0, "parked": 0}
    claimed = await store.claim_events(limit=10, now=NOW + timedelta(minutes=1), lease_seconds=30)
    assert sorted((c.event for c in claimed), key=lambda e: e.dedupe_key) == sorted(
        delivery_events(kept), key=lambda e: e.dedupe_key
    )
    assert await unpack_all(store) == Unpacked()  # nothing left


async def test_unpacking_skips_events_seen_before_and_resends_within_a_batch(store: SqlStore) -> None:
    await store.keep_delivery(delivery(1, 2))
    assert (await unpack_all(store)).added == 2
    # A resend of 2, a delivery sharing 3 with the next one, and an event also read from the Events API.
    await store.enqueue_events(delivery_events(delivery(5)))
    for kept in (delivery(2, 3), delivery(3, 4), delivery(5)):
        await store.keep_delivery(kept)
    assert await unpack_all(store) == Unpacked(deliveries=3, events=5, added=2)
    assert await store.inbox_counts() == {"landed": 0, "pending": 5, "done": 0, "parked": 0}


async def test_oldest_first_and_at_most_the_limit(store: SqlStore) -> None:
    for n in range(5):
        await store.keep_delivery(delivery(n, at=NOW + timedelta(seconds=n)))
    assert (await store.unpack_deliveries(limit=2, events_of=delivery_events)).deliveries == 2
    claimed = await store.claim_events(limit=10, now=NOW + timedelta(minutes=1), lease_seconds=30)
    assert [c.event.received_at for c in claimed] == [NOW, NOW + timedelta(seconds=1)]
    await store.finish_events([c.id for c in claimed])
    assert await store.oldest_pending_at() == NOW + timedelta(seconds=2)
    assert (await unpack_all(store)).deliveries == 3


async def test_a_delivery_whose_events_cannot_be_made_is_set_aside_not_retried(store: SqlStore) -> None:
    await store.keep_delivery(delivery(1))
    await store.keep_delivery(Delivery(P, b'{"events": [{"surprise": true}]}', 1, received_at=NOW))
    await store.keep_delivery(delivery(2))
    assert await unpack_all(store) == Unpacked(deliveries=3, events=2, added=2, parked=1)
    assert await store.inbox_counts() == {"landed": 0, "pending": 2, "done": 0, "parked": 1}
    assert await unpack_all(store) == Unpacked()
    assert await store.oldest_pending_at() == NOW  # the pending events; the one set aside waits for nobody


async def test_deliveries_arriving_together_are_all_kept(store: SqlStore) -> None:
    await asyncio.gather(*(store.keep_delivery(delivery(n)) for n in range(40)))
    assert (await store.inbox_counts())["landed"] == 40
    assert await unpack_all(store, limit=1000) == Unpacked(deliveries=40, events=40, added=40)


async def test_replicas_unpack_different_deliveries(database_url: str) -> None:
    stores = [await SqlStore.connect(database_url) for _ in range(3)]
    try:
        for n in range(90):
            await stores[0].keep_delivery(delivery(2 * n, 2 * n + 1))
        results: list[Unpacked] = []
        while True:
            batch = await asyncio.gather(*(s.unpack_deliveries(limit=7, events_of=delivery_events) for s in stores))
            results.extend(batch)
            if not any(r.deliveries for r in batch):
                break
        assert sum(r.deliveries for r in results) == 90
        assert sum(r.added for r in results) == sum(r.events for r in results) == 180
        assert await stores[0].inbox_counts() == {"landed": 0, "pending": 180, "done": 0, "parked": 0}
    finally:
        for s in stores:
            await s.close()


async def test_sqlite_writer_keeps_and_unpacks_what_sqlalchemy_would(tmp_path: Path) -> None:
    # On a SQLite file, deliveries and events are written by the inbox's own connection with hand-made SQL: the
    # rows must be those SQLAlchemy makes (the PostgreSQL path), byte for byte, or reads would see something else.
    when = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    odd = json.dumps({"events": [asana_event(7, note="é\u2028\U0001f600", numbers=[1, 2.5, None, True])]}).encode()
    kept = [delivery(1, 2, at=when), Delivery(P, odd, 1, received_at=NOW), delivery(2, 3)]

    async def work(sqlite_store: SqlStore) -> tuple[list[Any], list[Any]]:
        for d in kept:
            await sqlite_store.keep_delivery(d)
        async with sqlite_store.engine.connect() as conn:
            landed = list((await conn.exec_driver_sql("SELECT * FROM inbox_deliveries ORDER BY id")).all())
        assert await sqlite_store.unpack_deliveries(limit=2, events_of=delivery_events) == Unpacked(2, 3, 3)
        assert await sqlite_store.unpack_deliveries(limit=2, events_of=delivery_events) == Unpacked(1, 2, 1)
        async with sqlite_store.engine.connect() as conn:
            return landed, list((await conn.exec_driver_sql("SELECT * FROM inbox ORDER BY id")).all())

    tables = await on_both_sqlite_paths(tmp_path, work)
    assert tables[0] == tables[1]
    assert len(tables[0][0]) == 3 and len(tables[0][1]) == 4


async def test_migration_0014_gives_stored_keys_the_time_prefix_new_keys_have(empty_database_url: str) -> None:
    # Events stored before 0014 have bare digests; after it, a resend of one must meet its key.
    payloads: list[dict[str, Any]] = [
        asana_event(1),
        asana_event(2, created_at="2026-03-02T15:00:02.000Z" + "9" * 40),  # longer than the prefix keeps
        asana_event(3, created_at=1700000000),  # not a string: no prefix
        {k: v for k, v in asana_event(4).items() if k != "created_at"},
        asana_event(5, created_at="2026~03~02"),  # the separator inside the time
    ]
    await migrate(empty_database_url, "0013")
    store = await SqlStore.connect(empty_database_url)
    try:
        async with store.engine.begin() as conn:
            for n, payload in enumerate(payloads):
                old_key = dedupe_key(payload).rpartition("~")[2]
                await conn.execute(insert(inbox).values(**_row(old_key, payload, n)))
    finally:
        await store.close()
    await migrate(empty_database_url)
    store = await SqlStore.connect(empty_database_url)
    try:
        async with store.engine.connect() as conn:
            stored = (await conn.execute(inbox.select().order_by(inbox.c.id))).all()
        assert [row.dedupe_key for row in stored] == [dedupe_key(payload) for payload in payloads]
        assert await store.enqueue_events(delivery_events(delivery(1))) == 0  # a resend meets the stored key
    finally:
        await store.close()


def _row(key: str, payload: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "source": "webhook",
        "project_gid": P,
        "resource_gid": f"res-{n}",
        "resource_type": "task",
        "action": "changed",
        "payload": payload,
        "state": "done",
        "attempts": 1,
        "received_at": NOW,
    }


async def test_relayed_events_are_forgotten_once_old_and_the_rest_kept(store: SqlStore) -> None:
    await store.enqueue_events(delivery_events(delivery(1, 2, 3, 4)))
    claimed = await store.claim_events(limit=10, now=NOW + timedelta(minutes=1), lease_seconds=30)
    await store.finish_events([c.id for c in claimed[:2]])  # two relayed, finished just now
    await store.park_event(claimed[2].id, "poison")  # one parked, one still pending
    soon = datetime.now(UTC) + timedelta(minutes=1)
    assert await store.forget_finished_events(before=soon - timedelta(hours=1), limit=10) == 0  # not old yet
    assert await store.forget_finished_events(before=soon, limit=1) == 1
    assert await store.forget_finished_events(before=soon, limit=10) == 1
    assert await store.inbox_counts() == {"landed": 0, "pending": 1, "done": 0, "parked": 1}
    # Forgotten: a resend of one of them is new again (why they are kept for days first).
    assert await store.enqueue_events(delivery_events(delivery(1))) == 1
