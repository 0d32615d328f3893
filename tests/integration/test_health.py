"""/healthz names every degraded state with its reason (still 200, so a load balancer keeps the replica that can
say what is wrong); only an unreachable database is "down" with 503. /metrics carries the same figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.events import to_inbox
from bridge.domain.model import (
    ChannelId,
    InboxSource,
    Link,
    ProjectGid,
    SlackUserId,
    TeamId,
    WebhookRegistration,
    WebhookStatus,
    WorkspaceGid,
)
from bridge.entrypoints.health import Health
from bridge.metrics import Metrics
from tests.support import FakeClock

PROJECT = ProjectGid("1101")
EVENT = {
    "user": {"gid": "1201", "resource_type": "user"},
    "created_at": "2026-11-30T14:00:00.000Z",
    "action": "changed",
    "resource": {"gid": "1301", "resource_type": "task", "resource_subtype": "default_task"},
    "parent": None,
    "change": {"field": "completed", "action": "changed"},
}


@dataclass
class Probe:
    http: TestClient[web.Request, web.Application]
    clock: FakeClock
    store: SqlStore
    slack_error: list[str | None]

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        response = await self.http.get("/healthz")
        return response.status, await response.json()

    async def metric(self, name: str, **labels: str) -> float | None:
        text = await (await self.http.get("/metrics")).text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return None


async def _serve(store: SqlStore, *, webhooks_expected: bool) -> AsyncIterator[Probe]:
    clock = FakeClock()
    slack_error: list[str | None] = [None]
    health = Health(
        database=store,
        inbox=store,
        links=store,
        webhooks=store,
        clock=clock,
        metrics=Metrics(),
        slack_auth_error=lambda: slack_error[0],
        webhooks_expected=webhooks_expected,
    )
    app = web.Application()
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/metrics", health.metrics)
    async with TestClient(TestServer(app)) as http:
        yield Probe(http, clock, store, slack_error)


@pytest_asyncio.fixture
async def probe(store: SqlStore) -> AsyncIterator[Probe]:
    async for p in _serve(store, webhooks_expected=True):
        yield p


async def _link(probe: Probe, project: ProjectGid = PROJECT) -> None:
    await probe.store.save_link(
        Link(
            team_id=TeamId("T1"),
            channel_id=ChannelId("C" + project),
            project_gid=project,
            project_name="Questions",
            workspace_gid=WorkspaceGid("1001"),
            created_by=SlackUserId("U1"),
            created_at=probe.clock.now(),
        )
    )


async def _hook(probe: Probe, key: str, status: WebhookStatus, *, age: timedelta = timedelta(0)) -> None:
    await probe.store.save_webhook(
        WebhookRegistration(
            hook_key=key,
            team_id=TeamId("T1"),
            channel_id=ChannelId("C" + PROJECT),
            project_gid=PROJECT,
            status=status,
            created_at=probe.clock.now() - age,
            secret="s" * 64 if status is WebhookStatus.ACTIVE else None,
        )
    )


async def test_ok_when_nothing_is_wrong(probe: Probe) -> None:
    await _link(probe)
    await _hook(probe, "hook-active", WebhookStatus.ACTIVE)
    status, body = await probe.healthz()
    assert status == 200 and body["status"] == "ok" and body["problems"] == []
    assert body["checks"]["slack"] == "ok" and body["checks"]["webhooks"] == "ok"
    assert await probe.metric("bridge_health_problems") == 0


async def test_slack_auth_failing_is_degraded_with_the_reason(probe: Probe) -> None:
    probe.slack_error[0] = "token_revoked"
    status, body = await probe.healthz()
    assert status == 200 and body["status"] == "degraded"
    assert body["problems"] == ["slack auth failing: token_revoked"]
    assert await probe.metric("bridge_health_problems") == 1
    probe.slack_error[0] = None  # the next Slack call worked
    assert (await probe.healthz())[1]["status"] == "ok"


async def test_a_linked_project_without_an_active_webhook_is_degraded(probe: Probe) -> None:
    await _link(probe)
    status, body = await probe.healthz()
    assert status == 200 and body["problems"] == [f"webhook missing for project {PROJECT}"]
    await _hook(probe, "hook-registering", WebhookStatus.PENDING)  # inside its handshake window: on its way
    assert (await probe.healthz())[1]["problems"] == []
    probe.clock.advance(timedelta(minutes=5))  # the handshake never came
    assert (await probe.healthz())[1]["problems"] == [f"webhook missing for project {PROJECT}"]
    await _hook(probe, "hook-failed", WebhookStatus.FAILED)
    assert (await probe.healthz())[1]["problems"] == [f"webhook failed for project {PROJECT}"]
    await _hook(probe, "hook-active", WebhookStatus.ACTIVE)
    assert (await probe.healthz())[1]["status"] == "ok"


async def test_without_a_public_url_webhooks_are_not_expected(store: SqlStore) -> None:
    async for probe in _serve(store, webhooks_expected=False):
        await _link(probe)
        status, body = await probe.healthz()
        assert status == 200 and body["status"] == "ok" and "webhooks" not in body["checks"]


async def test_inbox_lag_and_parked_events_are_degraded_and_measured(probe: Probe) -> None:
    events = to_inbox([EVENT], project_gid=PROJECT, source=InboxSource.WEBHOOK, now=probe.clock.now())
    await probe.store.enqueue_events(events)
    probe.clock.advance(timedelta(minutes=10))
    status, body = await probe.healthz()
    assert status == 200 and body["problems"] == ["inbox lagging by 600s"]
    assert await probe.metric("bridge_inbox_lag_seconds") == 600.0
    assert await probe.metric("bridge_inbox_events", state="pending") == 1

    claimed = await probe.store.claim_events(limit=10, now=probe.clock.now(), lease_seconds=30, settle=timedelta(0))
    assert len(claimed) == 1
    await probe.store.park_event(claimed[0].id, "relay kept failing")
    status, body = await probe.healthz()
    assert status == 200 and body["problems"] == ["1 parked events"]
    assert await probe.metric("bridge_parked_events") == 1


async def test_an_unreachable_database_is_down_503(tmp_path: Any) -> None:
    # A PostgreSQL address where nothing listens: the only state in which this replica cannot serve anything.
    store = await SqlStore.connect("postgresql+asyncpg://bridge:pw@127.0.0.1:9/bridge", connect_args={"timeout": 2})
    try:
        async for probe in _serve(store, webhooks_expected=True):
            status, body = await probe.healthz()
            assert status == 503 and body == {
                "status": "down",
                "checks": {"database": "unreachable"},
                "problems": ["database unreachable"],
            }
            # /metrics still renders: it is how the operator sees the rest.
            assert (await probe.http.get("/metrics")).status == 200
    finally:
        await store.close()
