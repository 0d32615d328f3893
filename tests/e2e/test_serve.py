"""`bridge serve` as a real process against both emulators: the foundation's promises, over real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.model import ProjectGid
from bridge.sandbox.harness import bound_socket
from bridge.sandbox.slack.delivery import SentRequest
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World
from tests.support import eventually, serving

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    world: World
    process: subprocess.Popen[bytes]
    url: str
    slack: SimulatedSlack
    store: SqlStore
    log: Path


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


@pytest_asyncio.fixture
async def served(world: World, tmp_path: Path) -> AsyncIterator[Served]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()  # the process binds it itself; the port stays free in the meantime on loopback
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    env = {**_base_env(), **world.environment(port=port, database_url=database_url, public_url=url)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait for it
            [sys.executable, "-m", "bridge", "serve"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    store = await SqlStore.connect(database_url)
    slack = SimulatedSlack(world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
    await slack.start()
    try:
        await serving(url, process, log=log)
        yield Served(world, process, url, slack, store, log)
    finally:
        await slack.close()
        await store.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 15)  # off the loop, where the emulators answer
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_url_verification_and_signed_commands(served: Served) -> None:
    answer = await served.slack.url_verification("challenge-123")
    assert answer.status == 200 and answer.json()["challenge"] == "challenge-123"
    ack = await served.slack.user("ana").slash_command("/asana", "help", served.world.channel)
    assert ack.status == 200 and ack.elapsed < 1.0 and "/asana link" in ack.body


async def test_link_then_task_through_the_running_process(served: Served) -> None:
    world = served.world
    ana = served.slack.user("ana")
    ack = await ana.slash_command("/asana", f"link {world.project}", world.channel)
    assert ack.status == 200 and ack.elapsed < 3.0
    # The real asana client (in the bridge's thread pool) created the webhook; the emulator's handshake reached
    # the running process while that create call was still open.
    await eventually(lambda: world.asana.webhooks)
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked" in m.text])
    ack = await ana.slash_command("/task", "Rotate the webhook secret p2", world.channel)
    assert ack.status == 200 and ack.elapsed < 3.0
    await eventually(lambda: [t for t in world.asana.store.tasks.values() if t.name == "Rotate the webhook secret"])
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Rotate the webhook" in m.text])


@pytest.mark.parametrize(("age", "tamper"), [(0.0, True), (360.0, False)], ids=["forged", "six-minutes-old"])
async def test_bad_or_stale_signatures_are_refused_and_do_nothing(served: Served, age: float, tamper: bool) -> None:
    world = served.world
    ana = served.slack.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked" in m.text])
    first = await ana.slash_command("/task", "Only once", world.channel)
    await eventually(lambda: [t for t in world.asana.store.tasks.values() if t.name == "Only once"])
    assert first.request is not None
    replay = await served.slack.deliver(first.request, age=age, tamper=tamper)
    assert replay.status == 401
    garbage = SentRequest(first.request.kind, "application/json", "{not json", {})  # over HTTP only `body` is sent
    assert (await served.slack.deliver(garbage, tamper=True)).status == 401
    # A later good request is a barrier: once its task exists, a wrongly accepted replay would have acted too.
    await ana.slash_command("/task", "Barrier", world.channel)
    await eventually(lambda: [t for t in world.asana.store.tasks.values() if t.name == "Barrier"])
    assert len([t for t in world.asana.store.tasks.values() if t.name == "Only once"]) == 1


async def test_asana_deliveries_are_verified_and_land_in_the_inbox(served: Served) -> None:
    world = served.world
    ana = served.slack.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    hook = world.asana.webhooks[0]
    registration = (await served.store.webhooks_for_project(ProjectGid(world.project)))[0]
    assert registration.secret and hook.target.endswith(registration.hook_key)

    # A change in Asana: the emulator signs and delivers it; the bridge commits it to the inbox.
    task = world.asana.act(world.asana_people["bo"]).create_task("From Asana", project=world.project)
    await world.asana.deliveries_idle(timeout=10)
    assert any(d.status == 200 for d in world.asana.deliveries)
    counts = await eventually(lambda: _in_inbox(served.store))
    assert counts >= 1 and task

    async with aiohttp.ClientSession() as http:
        body = json.dumps({"events": []}).encode()
        bad = {"X-Hook-Signature": hmac.new(b"wrong", body, hashlib.sha256).hexdigest()}
        async with http.post(hook.target, data=body, headers=bad) as response:
            assert response.status == 401
        good = {"X-Hook-Signature": hmac.new(registration.secret.encode(), body, hashlib.sha256).hexdigest()}
        async with http.post(hook.target, data=body, headers=good) as response:
            assert response.status == 200
        async with http.post(hook.target, headers={"X-Hook-Secret": "f" * 64}) as response:
            assert response.status == 403  # a second handshake on a registered hook: no secret takeover
    stored = await served.store.get_webhook(registration.hook_key)
    assert stored is not None and stored.secret == registration.secret


async def _in_inbox(store: SqlStore) -> int:
    """Events the inbox holds in any state: kept whole, pending, or relayed already."""
    return sum((await store.inbox_counts()).values())


async def test_sigterm_drains_and_exits_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    await eventually(lambda: served.process.poll() is not None, timeout=15)
    assert served.process.returncode == 0, served.log.read_text()


def _run_serve(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "serve"],
        cwd=tmp_path,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def served_env(world: World, tmp_path: Path) -> dict[str, str]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    return {**_base_env(), **world.environment(port=port, database_url=database_url, public_url=None)}


@pytest.fixture
def minimal_env() -> Iterator[dict[str, str]]:
    yield {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "ASANA_ACCESS_TOKEN": "t", "BRIDGE_PORT": "0"}


def test_missing_signing_secret_exits_with_one_clear_line(tmp_path: Path, minimal_env: dict[str, str]) -> None:
    result = _run_serve(tmp_path, {**minimal_env, "SLACK_SIGNING_SECRET": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0] and "Traceback" not in result.stderr


def test_unparsable_policy_exits_with_one_clear_line(tmp_path: Path, minimal_env: dict[str, str]) -> None:
    (tmp_path / "bridge.toml").write_text("[sla\nP0 = {")
    result = _run_serve(tmp_path, minimal_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bridge.toml" in lines[0] and "Traceback" not in result.stderr


async def test_a_refused_asana_token_stops_the_start_with_one_line(world: World, tmp_path: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = world.environment(port=port, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    result = await asyncio.to_thread(_run_serve, tmp_path, {**env, "ASANA_ACCESS_TOKEN": "revoked-token"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("bridge: configuration error: ASANA_ACCESS_TOKEN") and "Traceback" not in result.stderr
    assert "revoked-token" not in result.stderr


@pytest.mark.parametrize(
    ("refused", "variables"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-2000000000-3000000000-RefusedTokenValue0123"}, ["SLACK_BOT_TOKEN"]),
        (
            {"SLACK_BOT_TOKEN": "xoxb-2000000000-3000000000-RefusedTokenValue0123", "ASANA_ACCESS_TOKEN": "revoked"},
            ["SLACK_BOT_TOKEN", "ASANA_ACCESS_TOKEN"],
        ),
    ],
)
async def test_a_refused_slack_token_stops_the_start_like_asanas(
    world: World, tmp_path: Path, refused: dict[str, str], variables: list[str]
) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = world.environment(port=port, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    result = await asyncio.to_thread(_run_serve, tmp_path, {**env, **refused})
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("bridge: configuration error: ")]
    assert [line.split(": ")[2] for line in errors] == variables  # both at once, one line each
    assert "Slack refused it (invalid_auth)" in errors[0] and "Traceback" not in result.stderr
    for value in refused.values():
        assert value not in result.stderr + result.stdout
    assert "will be unused" not in result.stderr  # Bolt's warning about a token it reads from the environment


async def test_an_asana_outage_at_start_does_not_stop_the_bridge(
    world: World, served_env: dict[str, str], tmp_path: Path
) -> None:
    world.asana.faults.add(method="GET", path_pattern=r"^/users/me$", status=503, times=None)
    with (tmp_path / "serve.log").open("wb") as log:  # a file, not a pipe nobody reads: that could block the process
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait for it
            [sys.executable, "-m", "bridge", "serve"], env=served_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        await serving(f"http://127.0.0.1:{served_env['BRIDGE_PORT']}", process)
        # Asana has been refusing users/me for a while (the client retries with backoff) and the bridge serves.
        await eventually(lambda: len(world.asana.calls("GET", r"^/users/me$")) >= 4, timeout=20)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        # Wait off the loop: the emulators live on it, and the bridge may be mid-call to them.
        await asyncio.to_thread(process.wait, 20)


def test_half_an_oauth_install_is_refused(tmp_path: Path, minimal_env: dict[str, str]) -> None:
    # The multi-workspace install (tests/e2e/test_oauth_serve.py) needs the client id and its secret.
    result = _run_serve(tmp_path, {**minimal_env, "SLACK_CLIENT_ID": "1.2"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("bridge: configuration error: SLACK_CLIENT_ID") and "Traceback" not in result.stderr
