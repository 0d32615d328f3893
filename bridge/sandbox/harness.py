"""The whole bridge served in the current event loop on a loopback port, against a World of emulators, with Slack
reaching it over HTTP (signed requests) or over Socket Mode (the emulator's WebSocket link)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, overload

from aiohttp import web
from typing_extensions import TypeVar

from bridge import logs
from bridge.adapters.store.migrate import migrate
from bridge.bootstrap import Bridge, build
from bridge.config import load_settings
from bridge.sandbox.slack import SlackSender, SocketModeSlack
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World

# How Slack reaches the bridge: SimulatedSlack over HTTP (the default), SocketModeSlack over the socket.
S = TypeVar("S", bound=SlackSender, default=SimulatedSlack)


@dataclass
class LocalBridge(Generic[S]):
    bridge: Bridge
    url: str
    slack: S
    database_url: str
    runner: web.AppRunner

    async def close(self) -> None:
        """In `bridge serve`'s order: stop taking requests (in-flight ones finish), drain the work, close."""
        await self.slack.close()
        await self.runner.cleanup()
        await self.bridge.close()


def bound_socket() -> socket.socket:
    """A socket on a free loopback port, bound now so that the public URL is known before the bridge is built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@overload
async def serve_locally(
    world: World,
    workdir: Path,
    *,
    policy: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    socket_mode: Literal[False] = False,
    database_url: str | None = None,
    oauth: bool = False,
    env: dict[str, str] | None = None,
    asana_oauth: bool = False,
) -> LocalBridge[SimulatedSlack]: ...
@overload
async def serve_locally(
    world: World,
    workdir: Path,
    *,
    policy: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    socket_mode: Literal[True],
    database_url: str | None = None,
    oauth: bool = False,
    env: dict[str, str] | None = None,
    asana_oauth: bool = False,
) -> LocalBridge[SocketModeSlack]: ...
async def serve_locally(
    world: World,
    workdir: Path,
    *,
    policy: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    socket_mode: bool = False,
    database_url: str | None = None,
    oauth: bool = False,
    env: dict[str, str] | None = None,
    asana_oauth: bool = False,
) -> LocalBridge[SimulatedSlack] | LocalBridge[SocketModeSlack]:
    """Migrate a SQLite file in `workdir`, build the bridge from the World's environment, serve it, start it.

    `policy` is the text of a bridge.toml for this run; `retry_delays` shortens how captures wait out outages.
    With `oauth` the bridge is the multi-workspace install (its redirect URL registered with the emulated app);
    `env` adds to or overrides the World's environment. With `asana_oauth` people can connect their own Asana account.
    With `socket_mode` the bridge has an app-level token and no signing secret and connects to the emulator's
    Socket Mode link; there is no public URL then, so no Asana webhooks either. `database_url` replaces the
    SQLite file (a PostgreSQL database, say); it is migrated likewise. `env` adds to (or replaces) the
    World's environment, as an operator's extra settings would.
    """
    if policy is not None:
        (workdir / "bridge.toml").write_text(policy)
    sock = bound_socket()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'bridge.db'}"
    await migrate(database_url)
    environment = world.environment(
        port=port,
        database_url=database_url,
        public_url=None if socket_mode else url,
        socket_mode=socket_mode,
        oauth=oauth,
        asana_oauth=asana_oauth,
    )
    if oauth:
        world.slack.oauth.app.redirect_urls.append(f"{url}/slack/oauth_redirect")
    settings = load_settings({**environment, **(env or {})}, cwd=workdir, read_dotenv=False)
    world.live_with_the_team(settings.policy.business_hours.timezone)
    bridge = await build(settings, retry_delays=retry_delays)
    runner = web.AppRunner(bridge.web_app, handle_signals=False, access_log_class=logs.AccessLog)  # as `serve` logs
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await bridge.start()
    if socket_mode:
        link = SocketModeSlack(world.slack)
        await link.start()
        return LocalBridge(bridge=bridge, url=url, slack=link, database_url=database_url, runner=runner)
    # Like Slack, the bot hears its own posts as message events: the bridge must ignore them itself.
    slack = SimulatedSlack(
        world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET, echo_bot_messages=True
    )
    await slack.start()
    return LocalBridge(bridge=bridge, url=url, slack=slack, database_url=database_url, runner=runner)
