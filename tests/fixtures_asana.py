"""Pytest fixtures for the Asana emulator: a seeded emulator, the real `asana` client on it, the OpenAPI spec."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asana
import pytest
from aiohttp import web
from urllib3.util.retry import Retry

from bridge.sandbox.asana_emulator import AsanaEmulator
from bridge.sandbox.oas import OpenApiSpec

SPEC_PATH = Path(__file__).resolve().parent / "data/specs/asana_oas.yaml"
BRIDGE_TOKEN = "bridge-token-0001"
HUMAN_TOKEN = "ana-token-0001"
PRIORITIES = ("P0", "P1", "P2", "P3")
SECTIONS = ("Needs triage", *PRIORITIES, "Done")


@dataclass
class AsanaSeed:
    """What the `asana_emulator` fixture created, by name."""

    emu: AsanaEmulator
    workspace: str
    bridge_user: str
    human: str
    other_human: str
    project: str
    sections: dict[str, str]
    priority_field: str
    priorities: dict[str, str]
    bridge_token: str = BRIDGE_TOKEN
    human_token: str = HUMAN_TOKEN


def seed_default(emu: AsanaEmulator) -> AsanaSeed:
    """A workspace, the bridge's user, two people, a triage project with priority sections and field."""
    ws = emu.add_workspace("Example Co")
    bridge = emu.add_user("Bridge Bot", "bridge@example.com", [ws], token=BRIDGE_TOKEN)
    ana = emu.add_user("Ana Lopez", "ana@example.com", [ws], token=HUMAN_TOKEN)
    bo = emu.add_user("Bo Chen", "bo@example.com", [ws])
    project = emu.add_project(ws, "Developer Questions", SECTIONS, members=[bridge, ana])
    priority = emu.add_enum_custom_field(ws, "Priority", PRIORITIES, projects=[project])
    return AsanaSeed(
        emu=emu,
        workspace=ws,
        bridge_user=bridge,
        human=ana,
        other_human=bo,
        project=project,
        sections={name: emu.section_gid(project, name) for name in SECTIONS},
        priority_field=priority,
        priorities={name: emu.option_gid(priority, name) for name in PRIORITIES},
    )


@pytest.fixture
async def asana_seed() -> AsyncIterator[AsanaSeed]:
    # Fast retries and batching so delivery tests take milliseconds; production-like timeouts stay.
    emu = AsanaEmulator(batch_window=0.02, retry_delays=(0.02, 0.05, 0.1))
    seed = seed_default(emu)
    await emu.start()
    try:
        yield seed
    finally:
        await emu.stop()


@pytest.fixture
def asana_emulator(asana_seed: AsanaSeed) -> AsanaEmulator:
    """A started, seeded emulator (see AsanaSeed for the gids)."""
    return asana_seed.emu


def make_client(url: str, token: str, *, retries: int = 2) -> asana.ApiClient:
    """The real client aimed at the emulator, with a short retry budget (the default blocks for a minute)."""
    config = asana.Configuration()
    config.host = url
    config.access_token = token
    config.retry_strategy = Retry(total=retries, backoff_factor=0.01, status_forcelist=[429, 500, 502, 503, 504])
    return asana.ApiClient(config)


def close_client(client: asana.ApiClient) -> None:
    client.pool.close()
    client.pool.join()
    client.rest_client.pool_manager.clear()


@pytest.fixture
def asana_client(asana_seed: AsanaSeed) -> Iterator[asana.ApiClient]:
    """asana.ApiClient as the bridge's user. Call it through asyncio.to_thread: it blocks."""
    client = make_client(asana_seed.emu.url, asana_seed.bridge_token)
    try:
        yield client
    finally:
        close_client(client)


@pytest.fixture(scope="session")
def oas_spec() -> OpenApiSpec:
    return OpenApiSpec.load(SPEC_PATH)


@dataclass
class HookReceiver:
    """A webhook target on 127.0.0.1: echoes the handshake, records deliveries with their raw bodies."""

    status: int = 200
    echo: bool = True
    secrets: list[str] = field(default_factory=list)
    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        secret = request.headers.get("X-Hook-Secret")
        if secret is not None:
            self.secrets.append(secret)
            return web.Response(status=200, headers={"X-Hook-Secret": secret} if self.echo else {})
        self.deliveries.append((await request.read(), dict(request.headers)))
        return web.Response(status=self.status, text="" if self.status < 300 else "receiver failure")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/{key}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hooks/project-1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def events(self) -> list[dict[str, Any]]:
        return [e for body, _ in self.deliveries if body for e in json.loads(body)["events"]]


@pytest.fixture
async def hook_receiver() -> AsyncIterator[HookReceiver]:
    receiver = HookReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def assert_spec_clean(emu: AsanaEmulator, spec: OpenApiSpec) -> None:
    """Every request a test made and every answer the emulator gave matches Asana's OpenAPI spec."""
    assert emu.requests, "no API traffic recorded"
    assert spec.validate_exchanges(emu.requests, strict=True) == []


async def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll a condition until it holds (no fixed sleeps as waits)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the predicate is plain state, there is no event to await
            await asyncio.sleep(interval)
