"""The whole bridge in Socket Mode (SLACK_APP_TOKEN, no signing secret, no public URL), in this process and as
`bridge serve`: commands arrive over the Slack emulator's WebSocket link and are answered in the acks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bridge.bootstrap import build
from bridge.config import ConfigError, load_settings
from bridge.sandbox.harness import LocalBridge, bound_socket, serve_locally
from bridge.sandbox.slack import Message, SimulatedSlack, SocketModeSlack
from bridge.sandbox.world import SIGNING_SECRET, World
from tests.support import eventually

REPO = Path(__file__).resolve().parents[2]
POLLING = "polled from Asana's Events API"


@pytest_asyncio.fixture
async def socket_bridge(world: World, tmp_path: Path) -> AsyncIterator[LocalBridge[SocketModeSlack]]:
    local = await serve_locally(world, tmp_path, socket_mode=True)
    try:
        yield local
    finally:
        await local.close()


def _posts(world: World, text: str) -> list[Message]:
    return [m for m in world.slack.messages(world.channel) if text in m.text]


def _tasks(world: World, name: str) -> list[Any]:
    return [t for t in world.asana.store.tasks.values() if t.name == name and not t.deleted]


# in this process


async def test_commands_arrive_over_the_socket_and_the_request_url_is_shut(
    world: World, socket_bridge: LocalBridge[SocketModeSlack]
) -> None:
    settings = socket_bridge.bridge.settings
    assert settings.socket_mode and settings.slack_signing_secret is None and settings.public_url is None
    assert len(world.slack.socket_mode.live) == 1 and len(world.slack.calls_to("apps.connections.open")) == 1
    ana = socket_bridge.slack.user("ana")

    help_ack = await ana.slash_command("/asana", "help", world.channel)
    assert help_ack.status == 200 and "/asana link" in help_ack.body
    assert any("/asana link" in shown.text for shown in world.slack.ephemerals("ana"))
    # Events are acked too, so Slack does not send them again (gotcha 3).
    said = await ana.post_message(world.channel, "a plain message")
    assert said.status == 200 and said.envelope is not None and said.envelope["type"] == "events_api"

    assert (await ana.slash_command("/asana", f"link {world.project}", world.channel)).status == 200
    [linked] = await eventually(lambda: _posts(world, "Linked this channel"))
    assert POLLING in linked.text and world.asana.webhooks == []  # no public URL, so no webhook to register
    # ...and the project is read from Asana's Events API instead.
    await eventually(lambda: socket_bridge.bridge.store.get_sync_token(world.project))

    ack = await ana.slash_command("/task", "Rotate the webhook secret p2", world.channel)
    assert ack.status == 200 and ack.body
    await eventually(lambda: _tasks(world, "Rotate the webhook secret"))
    await eventually(lambda: _posts(world, "Rotate the webhook"))
    assert all(e.acked for e in world.slack.socket_mode.envelopes)

    # Without a signing secret the HTTP Request URL refuses everything, even correctly signed requests.
    async with SimulatedSlack(
        world.slack, request_url=f"{socket_bridge.url}/slack/events", signing_secret=SIGNING_SECRET
    ) as http:
        refused = await http.user("ana").slash_command("/task", "Over HTTP", world.channel)
    assert refused.status == 401


async def test_the_bridge_opens_a_new_link_when_slack_refreshes_or_drops_one(
    world: World, socket_bridge: LocalBridge[SocketModeSlack]
) -> None:
    link = world.slack.socket_mode
    ana = socket_bridge.slack.user("ana")
    [first] = link.live
    await link.disconnect()
    await eventually(lambda: first.closed_by is not None and len(link.live) == 1)
    assert (first.closed_by, first.close_code) == ("app", 1000)
    assert (await ana.slash_command("/asana", "help", world.channel)).status == 200
    assert link.envelopes[-1].connection == link.live[0].id != first.id

    await link.drop()  # no warning this time; the next command waits for the new link within Slack's 3 s
    ack = await ana.slash_command("/asana", "help", world.channel)
    assert ack.status == 200 and "/asana link" in ack.body
    assert len(link.connections) == 3 and link.envelopes[-1].connection == link.connections[-1].id


async def test_closing_the_bridge_closes_its_link_cleanly(world: World, tmp_path: Path) -> None:
    local = await serve_locally(world, tmp_path, socket_mode=True)
    try:
        [connection] = world.slack.socket_mode.live
    finally:
        await local.close()
    assert (connection.closed_by, connection.close_code) == ("app", 1000)
    assert world.slack.socket_mode.live == []


async def test_a_refused_app_token_fails_start_instead_of_retrying_forever(world: World, tmp_path: Path) -> None:
    env = world.environment(port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", socket_mode=True)
    settings = load_settings({**env, "SLACK_APP_TOKEN": "xapp-1-A0-1-revoked"}, cwd=tmp_path, read_dotenv=False)
    bridge = await build(settings)
    try:
        with pytest.raises(ConfigError, match="SLACK_APP_TOKEN: Slack refused it \\(invalid_auth\\)"):
            # slack_sdk alone would retry this forever; the bound makes a regression fail instead of hang.
            await asyncio.wait_for(bridge.start(), 5)
    finally:
        await bridge.close()
    assert world.slack.socket_mode.connections == []


# `bridge serve` as a process


def _serve_env(world: World, tmp_path: Path) -> dict[str, str]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()  # the process binds it itself
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    # This checkout's code, whichever copy of the package is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    return {**env, **world.environment(port=port, database_url=database_url, socket_mode=True)}


async def test_bridge_serve_in_socket_mode_answers_creates_and_closes_cleanly(world: World, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait for it
            [sys.executable, "-m", "bridge", "serve"],
            cwd=tmp_path,
            env=_serve_env(world, tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    link = world.slack.socket_mode
    try:

        def connected() -> bool:
            assert process.poll() is None, log.read_text()
            return bool(link.live)

        await eventually(connected, timeout=20)
        async with SocketModeSlack(world.slack) as slack:
            ana = slack.user("ana")
            help_ack = await ana.slash_command("/asana", "help", world.channel)
            assert help_ack.status == 200 and "/asana link" in help_ack.body and help_ack.elapsed < 1.0
            await ana.slash_command("/asana", f"link {world.project}", world.channel)
            [linked] = await eventually(lambda: _posts(world, "Linked this channel"))
            assert POLLING in linked.text and world.asana.webhooks == []
            ack = await ana.slash_command("/task", "Rotate the webhook secret p2", world.channel)
            assert ack.status == 200 and ack.elapsed < 3.0
            await eventually(lambda: _tasks(world, "Rotate the webhook secret"))
            await eventually(lambda: _posts(world, "Rotate the webhook"))

        process.send_signal(signal.SIGTERM)
        await eventually(lambda: process.poll() is not None, timeout=15)
        output = log.read_text()
        assert process.returncode == 0, output
        [connection] = link.connections
        assert (connection.closed_by, connection.close_code) == ("app", 1000), output
        assert "(socket mode)" in output and "Traceback" not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
