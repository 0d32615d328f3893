"""The Asana gateway over real HTTP against the emulator: retries that are safe, errors that are ours, limits kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.adapters.asana_api import AsanaGateway
from bridge.domain.model import ProjectGid, WorkspaceGid
from bridge.domain.work import TaskDraft
from bridge.errors import (
    AsanaForbidden,
    AsanaNotFound,
    AsanaRateLimited,
    AsanaUnavailable,
    SyncTokenExpired,
)
from tests.fixtures_asana import AsanaSeed


@pytest.fixture
def gateway(asana_seed: AsanaSeed) -> Iterator[AsanaGateway]:
    gateway = AsanaGateway(
        base_url=asana_seed.emu.url, token=asana_seed.bridge_token, requests_per_minute=6000, timeout_seconds=2
    )
    yield gateway
    gateway.close()


def _draft(seed: AsanaSeed, name: str = "A task") -> TaskDraft:
    return TaskDraft(name=name, project_gid=ProjectGid(seed.project), section_gid=seed.sections["Needs triage"])


def _posts(seed: AsanaSeed) -> int:
    return len(seed.emu.calls("POST", r"^/tasks$"))


async def test_post_429_is_retried_after_retry_after(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    asana_seed.emu.faults.add(method="POST", path_pattern=r"^/tasks$", status=429, retry_after=1, times=1)
    started = time.monotonic()
    task = await gateway.create_task(_draft(asana_seed))
    assert time.monotonic() - started >= 0.95  # it honoured Retry-After
    assert _posts(asana_seed) == 2 and task.gid in asana_seed.emu.store.tasks


async def test_post_500_is_not_retried_because_it_may_have_landed(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    asana_seed.emu.faults.add(method="POST", path_pattern=r"^/tasks$", status=500, times=1)
    with pytest.raises(AsanaUnavailable) as caught:
        await gateway.create_task(_draft(asana_seed))
    assert caught.value.sent and _posts(asana_seed) == 1


async def test_get_5xx_and_dropped_connections_are_retried(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    task = await gateway.create_task(_draft(asana_seed))
    asana_seed.emu.faults.add(method="GET", path_pattern=r"^/tasks/\d+$", status=503, times=2)
    asana_seed.emu.faults.add(method="GET", path_pattern=r"^/tasks/\d+$", drop_connection=True, times=1)
    again = await gateway.task(task.gid)
    assert again.name == "A task"
    assert len(asana_seed.emu.calls("GET", r"^/tasks/\d+$")) == 4


async def test_slow_answers_time_out_and_become_our_error(asana_seed: AsanaSeed) -> None:
    gateway = AsanaGateway(
        base_url=asana_seed.emu.url, token=asana_seed.bridge_token, timeout_seconds=1, max_attempts=2
    )
    try:
        asana_seed.emu.faults.add(method="GET", path_pattern=r"^/users/me$", delay=2.5, times=None)
        with pytest.raises(AsanaUnavailable):
            await gateway.me()
    finally:
        gateway.close()


async def test_rate_limit_that_persists_surfaces_as_rate_limited(asana_seed: AsanaSeed) -> None:
    gateway = AsanaGateway(base_url=asana_seed.emu.url, token=asana_seed.bridge_token, max_attempts=2)
    try:
        asana_seed.emu.faults.add(method="GET", path_pattern=r"^/users/me$", status=429, retry_after=0, times=None)
        with pytest.raises(AsanaRateLimited):
            await gateway.me()
    finally:
        gateway.close()


async def test_errors_are_mapped(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    with pytest.raises(AsanaNotFound):
        await gateway.task("1999999999999999")
    hidden = asana_seed.emu.add_project(asana_seed.workspace, "Hidden", ("A",), public=False, members=[])
    with pytest.raises((AsanaForbidden, AsanaNotFound)):
        await gateway.project(hidden)
    assert await gateway.user_by_email("nobody@example.com", WorkspaceGid(asana_seed.workspace)) is None
    bad = AsanaGateway(base_url=asana_seed.emu.url, token="wrong", max_attempts=1)
    try:
        with pytest.raises(AsanaForbidden):
            await bad.me()
    finally:
        bad.close()


async def test_events_sync_tokens(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    with pytest.raises(SyncTokenExpired) as caught:
        await gateway.events_since(asana_seed.project, None)
    token = caught.value.sync
    assert token
    await gateway.create_task(_draft(asana_seed, "Evented"))
    page = await gateway.events_since(asana_seed.project, token)
    assert page.sync and not page.has_more
    assert any(e["resource"]["gid"] for e in page.events)


async def test_writes_stay_under_fifteen_in_flight(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    asana_seed.emu.concurrency_limits(reads=50, writes=15)
    asana_seed.emu.faults.add(method="POST", path_pattern=r"^/tasks$", delay=0.2, times=None)
    await asyncio.gather(*(gateway.create_task(_draft(asana_seed, f"t{i}")) for i in range(30)))
    statuses = [r.status for r in asana_seed.emu.calls("POST", r"^/tasks$")]
    assert statuses.count(201) == 30 and 429 not in statuses


async def test_the_event_loop_stays_free_during_a_slow_call(asana_seed: AsanaSeed, gateway: AsanaGateway) -> None:
    asana_seed.emu.faults.add(method="GET", path_pattern=r"^/users/me$", delay=0.5, times=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    await gateway.me()
    beat.cancel()
    assert ticks >= 20  # the loop kept running while the client blocked its worker thread


async def test_a_long_list_is_read_page_by_page_each_page_a_paced_call(
    asana_seed: AsanaSeed, gateway: AsanaGateway
) -> None:
    actor = asana_seed.emu.act(asana_seed.human)
    for n in range(250):
        actor.create_task(f"Listed {n}", project=asana_seed.project)
    before = gateway.calls
    since = datetime(2000, 1, 1, tzinfo=UTC)
    listed = await gateway.tasks_modified_since(asana_seed.project, since)
    assert len({t.gid for t in listed}) == 250
    pages = asana_seed.emu.calls("GET", r"^/tasks$")
    assert len(pages) == 3 and gateway.calls - before == 3  # each page went through the limiter as its own call
    # a page that fails is retried on its own
    asana_seed.emu.faults.add(method="GET", path_pattern=r"^/tasks$", status=503, times=1)
    assert len(await gateway.tasks_modified_since(asana_seed.project, since)) == 250
    assert len(asana_seed.emu.calls("GET", r"^/tasks$")) == 3 + 4
