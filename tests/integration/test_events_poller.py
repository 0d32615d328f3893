"""The Events API poller: sync tokens, pages, expiry, and de-duplication against webhook deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.adapters.asana_api import AsanaGateway
from bridge.adapters.clock import SystemClock
from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.model import ProjectGid
from bridge.entrypoints.workers import EventsPoller
from tests.fixtures_asana import AsanaSeed
from tests.fixtures_bridge import Running
from tests.support import eventually


@pytest.fixture
def gateway(asana_seed: AsanaSeed) -> Iterator[AsanaGateway]:
    gateway = AsanaGateway(base_url=asana_seed.emu.url, token=asana_seed.bridge_token, requests_per_minute=6000)
    yield gateway
    gateway.close()


async def test_tokens_pages_and_expiry(asana_seed: AsanaSeed, gateway: AsanaGateway, store: SqlStore) -> None:
    poller = EventsPoller(
        sync_tokens=store, inbox=store, tasks=store, links=store, webhooks=store, asana=gateway, clock=SystemClock()
    )
    project = ProjectGid(asana_seed.project)
    assert await poller.poll_project(project) == 0  # the first read only obtains a token (412)
    first = await store.get_sync_token(project)
    assert first is not None and first.token

    ana = asana_seed.emu.act(asana_seed.human)
    for index in range(60):  # about 120 events: more than one page of 100
        ana.create_task(f"t{index}", project=asana_seed.project)
    added = await poller.poll_project(project)
    assert added >= 120
    assert await poller.poll_project(project) == 0  # nothing new, nothing twice
    pending = (await store.inbox_counts()).get("pending", 0)
    assert pending == added

    asana_seed.emu.advance(hours=25)  # tokens live 24 h
    ana.create_task("after the gap", project=asana_seed.project)
    assert await poller.poll_project(project) >= 1  # the gap is re-crawled, not skipped
    renewed = await store.get_sync_token(project)
    assert renewed is not None and renewed.token != first.token
    assert asana_seed.emu.requests and all(r.status in (200, 412) for r in asana_seed.emu.calls("GET", r"^/events$"))


async def test_polling_and_webhooks_feed_one_inbox_without_duplicates(running: Running) -> None:
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    poller = running.bridge.poller
    project = ProjectGid(world.project)
    await poller.poll_project(project)  # token now
    task = world.asana.act(world.asana_people["bo"]).create_task("Seen twice", project=world.project)
    world.asana.act(world.asana_people["bo"]).complete(task)
    await world.asana.deliveries_idle(timeout=10)
    store = running.bridge.store

    async def unpacked() -> int:
        # The worker unpacks the kept deliveries (and may relay them already): every event counts, in any state.
        counts = await store.inbox_counts()
        return 0 if counts["landed"] else sum(counts.values())

    by_webhook = await eventually(unpacked)
    assert by_webhook >= 3
    assert await poller.poll_project(project) == 0  # the same changes read again add nothing
    assert await unpacked() == by_webhook
    # Read before their delivery is unpacked, events are not taken twice either: tests/integration/
    # test_inbox_deliveries.py (unpacking skips events seen before).


async def test_an_expired_token_is_followed_by_a_recrawl(
    asana_seed: AsanaSeed, gateway: AsanaGateway, store: SqlStore
) -> None:
    poller = EventsPoller(
        sync_tokens=store, inbox=store, tasks=store, links=store, webhooks=store, asana=gateway, clock=SystemClock()
    )
    project = ProjectGid(asana_seed.project)
    await poller.poll_project(project)
    ana = asana_seed.emu.act(asana_seed.human)
    kept = ana.create_task("Existing", project=asana_seed.project)
    assert await poller.poll_project(project) > 0
    asana_seed.emu.expire_sync_tokens()  # as if the poller had been away for more than a day
    ana.complete(kept)
    ana.create_task("Made during the gap", project=asana_seed.project)
    before = (await store.inbox_counts()).get("pending", 0)
    await poller.poll_project(project)
    claimed = await store.claim_events(limit=500, now=SystemClock().now(), lease_seconds=60)
    recrawled = [c.event.payload for c in claimed if (c.event.payload.get("change") or {}).get("field") == "recrawl"]
    added = [c.event.payload for c in claimed if c.event.payload.get("user") is None and c.event.action == "added"]
    assert kept in {e["resource"]["gid"] for e in recrawled} or kept in {e["resource"]["gid"] for e in added}
    assert len(claimed) > before
    await store.finish_events([c.id for c in claimed])
    await poller.poll_project(project)  # nothing changed since: the new token reads nothing, no second re-crawl
    assert (await store.inbox_counts()).get("pending", 0) == 0
