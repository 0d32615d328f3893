"""The Asana emulator's rate limits and injected faults, as the real client experiences them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asana
import pytest
import urllib3
from asana.rest import ApiException

from bridge.sandbox.oas import OpenApiSpec
from tests import fixtures_asana
from tests.fixtures_asana import SPEC_PATH, AsanaSeed, assert_spec_clean, close_client, make_client, wait_for

# The fixtures, visible here even where tests/conftest.py does not register tests.fixtures_asana.
asana_seed = fixtures_asana.asana_seed
asana_client = fixtures_asana.asana_client
oas_spec = fixtures_asana.oas_spec

SAMPLE_429 = json.loads((Path(SPEC_PATH).parent / "asana-samples/rate-limit-429.json").read_text())


def task_body(seed: AsanaSeed, name: str = "T") -> dict[str, object]:
    return {"data": {"name": name, "projects": [seed.project]}}


async def test_429_on_post_surfaces_and_get_is_retried(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    tasks = asana.TasksApi(asana_client)
    emu.faults.add(method="POST", path_pattern=r"^/tasks$", status=429, retry_after=7, times=1)
    with pytest.raises(ApiException) as limited:
        await asyncio.to_thread(tasks.create_task, task_body(seed), {})
    assert limited.value.status == 429 and limited.value.headers["Retry-After"] == "7"
    assert json.loads(limited.value.body) == SAMPLE_429["body"]
    created = await asyncio.to_thread(tasks.create_task, task_body(seed), {})  # the fault was used up

    emu.faults.add(method="GET", path_pattern=r"^/tasks/\d+$", status=429, retry_after=1, times=1)
    got = await asyncio.to_thread(tasks.get_task, created["gid"], {"opt_fields": "name"})
    assert got == {"gid": created["gid"], "name": "T"}
    assert [c.status for c in emu.calls("GET", r"^/tasks/\d+$")] == [429, 200]  # urllib3 waited Retry-After
    assert_spec_clean(emu, oas_spec)


async def test_per_minute_quota_counts_rejections_and_resets(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    tasks = asana.TasksApi(asana_client)
    emu.rate_limit(per_minute=3)
    for i in range(3):
        await asyncio.to_thread(tasks.create_task, task_body(seed, f"T{i}"), {})
    with pytest.raises(ApiException) as limited:
        await asyncio.to_thread(tasks.create_task, task_body(seed, "over"), {})
    assert limited.value.status == 429 and 1 <= int(limited.value.headers["Retry-After"]) <= 60
    emu.advance(seconds=61)
    await asyncio.to_thread(tasks.create_task, task_body(seed, "next minute"), {})
    # The quota is per token: another user is not affected.
    emu.advance(seconds=61)
    for _ in range(3):
        await asyncio.to_thread(tasks.create_task, task_body(seed), {})
    other = make_client(emu.url, seed.human_token)
    try:
        await asyncio.to_thread(asana.TasksApi(other).create_task, task_body(seed, "Ana's"), {})
    finally:
        close_client(other)
    assert_spec_clean(emu, oas_spec)


async def test_concurrent_writes_beyond_the_cap_get_429(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    emu.concurrency_limits(reads=50, writes=1)
    slow_fault = emu.faults.add(method="POST", path_pattern=r"^/tasks$", delay=0.3, times=1)  # holds the slot
    tasks = asana.TasksApi(asana_client)
    slow = asyncio.create_task(asyncio.to_thread(tasks.create_task, task_body(seed, "slow"), {}))
    await wait_for(lambda: slow_fault.hits == 1)  # the first write is in flight
    with pytest.raises(ApiException) as limited:
        await asyncio.to_thread(tasks.create_task, task_body(seed, "second"), {})
    assert limited.value.status == 429 and limited.value.headers["Retry-After"] == "1"
    assert (await slow)["name"] == "slow"
    # Reads have their own pool.
    await asyncio.to_thread(asana.UsersApi(asana_client).get_user, "me", {})
    assert_spec_clean(emu, oas_spec)


async def test_server_errors_and_dropped_connections(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    tasks = asana.TasksApi(asana_client)
    emu.faults.add(method="POST", path_pattern=r"^/tasks$", status=500, times=1)
    with pytest.raises(ApiException) as failed:
        await asyncio.to_thread(tasks.create_task, task_body(seed), {})
    assert failed.value.status == 500
    assert json.loads(failed.value.body)["errors"][0]["phrase"]

    emu.faults.add(method="GET", path_pattern=r"^/users/me$", status=503, times=1)
    me = await asyncio.to_thread(asana.UsersApi(asana_client).get_user, "me", {"opt_fields": "name"})
    assert me["name"] == "Bridge Bot"

    emu.faults.add(method="POST", path_pattern=r"^/tasks$", drop_connection=True, times=1)
    with pytest.raises(urllib3.exceptions.HTTPError):
        await asyncio.to_thread(tasks.create_task, task_body(seed), {})
    assert emu.calls("POST", r"^/tasks$")[-1].status == 0
    # A seeded probability makes flaky runs repeatable.
    emu.faults.add(method="GET", path_pattern=r"^/users/", status=500, probability=0.5, times=None)
    outcomes = []
    no_retry = make_client(emu.url, seed.bridge_token, retries=0)
    try:
        for _ in range(8):
            try:
                await asyncio.to_thread(asana.UsersApi(no_retry).get_user, "me", {})
                outcomes.append("ok")
            except (ApiException, urllib3.exceptions.HTTPError):
                outcomes.append("fail")
    finally:
        close_client(no_retry)
    assert "ok" in outcomes and "fail" in outcomes
    assert_spec_clean(emu, oas_spec)
