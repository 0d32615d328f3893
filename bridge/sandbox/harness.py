"""The whole bridge served in the current event loop on a loopback port, against a World of emulators."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bridge.adapters.store.migrate import migrate
from bridge.bootstrap import Bridge, build
from bridge.config import load_settings
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World


@dataclass
class LocalBridge:
    bridge: Bridge
    url: str
    slack: SimulatedSlack
    database_url: str
    runner: web.AppRunner

    async def close(self) -> None:
        await self.slack.close()
        await self.bridge.close()
        await self.runner.cleanup()


def bound_socket() -> socket.socket:
    """A socket on a free loopback port, bound now so that the public URL is known before the bridge is built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_locally(
    world: World, workdir: Path, *, policy: str | None = None, retry_delays: tuple[float, ...] | None = None
) -> LocalBridge:
    """Migrate a SQLite file in `workdir`, build the bridge from the World's environment, serve it, start it.

    `policy` is the text of a bridge.toml for this run; `retry_delays` shortens how captures wait out outages.
    """
    if policy is not None:
        (workdir / "bridge.toml").write_text(policy)
    sock = bound_socket()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite+aiosqlite:///{workdir / 'bridge.db'}"
    await migrate(database_url)
    settings = load_settings(
        world.environment(port=port, database_url=database_url, public_url=url), cwd=workdir, read_dotenv=False
    )
    bridge = await build(settings, retry_delays=retry_delays)
    runner = web.AppRunner(bridge.web_app, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await bridge.start()
    slack = SimulatedSlack(world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
    await slack.start()
    return LocalBridge(bridge=bridge, url=url, slack=slack, database_url=database_url, runner=runner)
