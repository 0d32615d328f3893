"""Fixtures for the emulated Slack: a started emulator with people and a channel, the simulated Slack that
signs requests to an app, a Bolt app served on 127.0.0.1, and helpers to compare payloads with real samples."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.slack_user import SimulatedSlack

SIGNING_SECRET = "sandbox-signing-secret"
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "specs" / "slack-payloads"


class ManualClock:
    """A clock tests move by hand, for Slack's time rules (trigger expiry, rate limits) without sleeping."""

    def __init__(self, start: float = 1_732_862_400.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def populate(emu: SlackEmulator) -> SlackEmulator:
    """The standard workspace: people ana and bo, and #questions with both of them and the bot."""
    ana = emu.add_user("ana", "ana@example.com")
    bo = emu.add_user("bo", "bo@example.com")
    emu.add_channel("questions", members=[ana, bo, emu.team.bot.user_id])
    return emu


@pytest_asyncio.fixture
async def slack_emulator() -> AsyncIterator[SlackEmulator]:
    """A started Slack emulator with ana, bo and #questions (see `populate`)."""
    async with SlackEmulator() as emu:
        yield populate(emu)


@pytest.fixture
def slack_signing_secret() -> str:
    return SIGNING_SECRET


@pytest.fixture
def slack_client(slack_emulator: SlackEmulator) -> AsyncWebClient:
    """The real slack_sdk client pointed at the emulator, retrying 429s as the bridge should."""
    return AsyncWebClient(
        base_url=slack_emulator.api_url,
        token=slack_emulator.bot_token,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


@pytest.fixture
def no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt reads SLACK_* variables behind our back (client id/secret switch OAuth on); tests start clean."""
    for key in list(os.environ):
        if key.startswith("SLACK_"):
            monkeypatch.delenv(key)


@pytest_asyncio.fixture
async def serve_bolt() -> AsyncIterator[Callable[[AsyncApp], Awaitable[str]]]:
    """Serve a Bolt AsyncApp on /slack/events of an ephemeral port; returns the Request URL."""
    runners: list[web.AppRunner] = []

    async def serve(app: AsyncApp) -> str:
        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

        web_app = web.Application()
        web_app.router.add_post("/slack/events", events)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"

    yield serve
    for runner in runners:
        await runner.cleanup()


@pytest_asyncio.fixture
async def simulated_slack(
    slack_emulator: SlackEmulator,
) -> AsyncIterator[Callable[..., Awaitable[SimulatedSlack]]]:
    """Factory: ``await simulated_slack(request_url, **options)`` → a started SimulatedSlack, closed at teardown."""
    started: list[SimulatedSlack] = []

    async def connect(request_url: str, **options: Any) -> SimulatedSlack:
        options.setdefault("signing_secret", SIGNING_SECRET)
        slack = SimulatedSlack(slack_emulator, request_url=request_url, **options)
        await slack.start()
        started.append(slack)
        return slack

    yield connect
    for slack in started:
        await slack.close()


def sample(name: str) -> Any:
    """A real Slack payload from tests/data/specs/slack-payloads/."""
    return json.loads((SAMPLES / name).read_text())


def key_diff(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two payloads differ in key structure: ``+a.b`` only ours has, ``-a.b`` only the sample has.
    Lists are compared by their first items; values and types are not compared."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        diffs: list[str] = []
        for key in sorted(set(ours) | set(theirs)):
            where = f"{path}.{key}" if path else key
            if key not in theirs:
                diffs.append(f"+{where}")
            elif key not in ours:
                diffs.append(f"-{where}")
            else:
                diffs.extend(key_diff(ours[key], theirs[key], where))
        return diffs
    if isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
        return key_diff(ours[0], theirs[0], f"{path}[0]")
    return []


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    yield ManualClock()
