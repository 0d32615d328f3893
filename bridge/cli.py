"""The `bridge` command: serve, demo, check, migrate, rotate-report-secret."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge import logs
from bridge.config import ConfigError, Settings, load_settings
from bridge.secret import Secret

log = logging.getLogger("bridge")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bridge", description="Slack ⇄ Asana bridge")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the bot (HTTP mode; Socket Mode when SLACK_APP_TOKEN is set)")
    demo = commands.add_parser("demo", help="play a scripted day against built-in emulators (no accounts needed)")
    demo.add_argument("--keep-running", action="store_true", help="leave everything up afterwards")
    commands.add_parser("check", help="validate configuration, tokens and manifest")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser(
        "rotate-report-secret", help="make a new secret for report links: every link handed out stops working"
    )
    args = parser.parse_args(argv)
    try:
        redactor = logs.configure(
            # The demo's transcript is the output; its logs only say what went wrong unless asked for more.
            level=os.environ.get("BRIDGE_LOG_LEVEL", "WARNING" if args.command == "demo" else "INFO"),
            fmt=os.environ.get("BRIDGE_LOG_FORMAT", "text").strip().lower() or "text",
        )
    except ValueError as exc:
        print(f"bridge: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "demo":
            from bridge.sandbox.demo import run_demo

            return asyncio.run(run_demo(keep_running=args.keep_running))
        settings = load_settings(os.environ)
        redactor.add(secret_values(settings))
        if args.command == "serve":
            asyncio.run(serve(settings))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            print(f"database is up to date: {_safe_url(settings.database_url)}")
        elif args.command == "check":
            return asyncio.run(check(settings))
        elif args.command == "rotate-report-secret":
            return asyncio.run(rotate_report_secret(settings))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"bridge: configuration error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


async def _migrate(settings: Settings) -> None:
    from bridge.adapters.store.migrate import migrate

    await migrate(settings.database_url)


async def rotate_report_secret(settings: Settings) -> int:
    """Replace the report-link secret kept in the database; every replica signs with the new one at once."""
    from datetime import UTC, datetime

    from bridge.adapters.store.sql_store import SqlStore
    from bridge.services.reports import SECRET_NAME, new_secret

    if settings.report_secret is not None:
        print(
            "bridge: BRIDGE_REPORT_SECRET is set, so report links are signed with it: "
            "change it (on every replica) to revoke every link",
            file=sys.stderr,
        )
        return 1
    await _migrate(settings)
    store = await SqlStore.connect(settings.database_url)
    try:
        await store.replace_server_secret(SECRET_NAME, new_secret(), now=datetime.now(UTC))
    finally:
        await store.close()
    print("report secret rotated: every report link handed out so far is revoked; /asana report gives new ones")
    return 0


async def serve(settings: Settings) -> None:
    """Migrate, listen, learn who we are, and run until SIGTERM/SIGINT; then drain and stop."""
    from aiohttp import web

    from bridge.adapters.malloc import MALLOC_ARENAS, limit_arenas
    from bridge.bootstrap import build

    limit_arenas(MALLOC_ARENAS)  # before any thread starts (bridge.adapters.malloc says why)
    await _migrate(settings)
    bridge = await build(settings)
    runner = web.AppRunner(bridge.web_app, handle_signals=False, access_log_class=logs.AccessLog)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await bridge.start()
        # What start-up made (modules, Bolt, SQLAlchemy, clients: ~180k objects) lives as long as the process; kept
        # out of the collector's reach, a full collection no longer walks it, a ~100 ms pause of the loop (the
        # slowest 1% of acks and webhook answers) that came back every few thousand requests.
        gc.collect()
        gc.freeze()
        log.info(
            "bridge listening on %s:%s (%s mode)",
            settings.host,
            settings.port,
            "socket" if settings.socket_mode else "http",
        )
        await stop.wait()
        log.info("shutting down: draining in-flight work")
    finally:
        # Stop taking requests and let in-flight ones finish, then drain background work, then close clients.
        await runner.cleanup()
        await bridge.close()


async def check(settings: Settings) -> int:
    """Print what is wrong with tokens and manifest; exit status 1 when anything is."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    from bridge.adapters.asana_api import AsanaGateway
    from bridge.errors import AsanaError, AsanaForbidden

    problems: list[str] = []
    print("configuration: ok")
    if settings.slack_bot_token is not None:
        client = AsyncWebClient(token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url)
        try:
            auth = await client.auth_test()
            print(f"slack: ok, bot {auth.get('user')} in team {auth.get('team')}")
        except SlackApiError as exc:
            problems.append(f"SLACK_BOT_TOKEN: Slack refused it (auth.test: {exc.response.get('error')})")
        except Exception as exc:
            problems.append(f"SLACK_API_URL: cannot reach {settings.slack_api_url} ({type(exc).__name__})")
    asana = AsanaGateway(
        base_url=settings.asana_api_url, token=settings.asana_access_token.reveal(), timeout_seconds=10, max_attempts=1
    )
    try:
        me = await asana.me()
        print(f"asana: ok, user {me.name} in {len(me.workspace_gids)} workspace(s)")
        if settings.asana_workspace_gid and settings.asana_workspace_gid not in me.workspace_gids:
            problems.append(f"ASANA_WORKSPACE_GID: the Asana user is not in workspace {settings.asana_workspace_gid}")
        if settings.asana_workspace_gid is None and len(me.workspace_gids) != 1:
            problems.append("ASANA_WORKSPACE_GID: required, the Asana user is in several workspaces")
    except AsanaForbidden as exc:
        problems.append(f"ASANA_ACCESS_TOKEN: Asana refused it (users/me: {exc})")
    except AsanaError as exc:
        problems.append(f"ASANA_API_URL: users/me failed at {settings.asana_api_url} ({exc})")
    finally:
        asana.close()
    problems.extend(_manifest_here())
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if problems else 0


REQUIRED_EVENTS = (
    "message.channels",
    "message.groups",
    "reaction_added",
    "app_home_opened",
    "app_mention",
    "link_shared",
    "app_uninstalled",
    "tokens_revoked",
)


def _manifest_here() -> list[str]:
    """The Slack app's manifest.yml in this folder; elsewhere (an installed bridge) there is nothing to check."""
    manifest = Path("manifest.yml")
    if not manifest.is_file():
        print(f"manifest: not checked (no manifest.yml in {Path.cwd()})")
        return []
    return check_manifest(manifest)


def check_manifest(path: Path) -> list[str]:
    """The contract surface (DESIGN §4) that the Slack app's manifest must declare."""
    import yaml

    if not path.is_file():
        return [f"manifest: {path} not found (run `bridge check` from the repository or install folder)"]
    try:
        manifest = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return [f"manifest: not valid YAML: {exc}"]
    problems = []
    features = manifest.get("features") or {}
    commands = {c.get("command") for c in features.get("slash_commands") or []}
    problems += [f"manifest: slash command {c} missing" for c in ("/task", "/asana") if c not in commands]
    shortcuts = {s.get("callback_id") for s in features.get("shortcuts") or [] if s.get("type") == "message"}
    if "create_task" not in shortcuts:
        problems.append("manifest: message shortcut create_task missing")
    if not (features.get("app_home") or {}).get("home_tab_enabled"):
        problems.append("manifest: the Home tab is not enabled")
    if "app.asana.com" not in (features.get("unfurl_domains") or []):
        problems.append("manifest: unfurl domain app.asana.com missing")
    events = set(((manifest.get("settings") or {}).get("event_subscriptions") or {}).get("bot_events") or [])
    problems += [f"manifest: bot event {e} missing" for e in REQUIRED_EVENTS if e not in events]
    return problems


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for the log redactor: tokens, the signing secret, the database password."""
    from sqlalchemy.engine import make_url

    values = [value.reveal() for value in vars(settings).values() if isinstance(value, Secret)]
    password = make_url(settings.database_url).password
    return [*values, *([str(password)] if password else [])]


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
