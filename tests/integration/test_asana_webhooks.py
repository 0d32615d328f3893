"""The webhook receiver: handshake only while registering, signatures on the raw body, events into the inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.events import delivery_events
from bridge.domain.model import ChannelId, ProjectGid, TeamId, Unpacked, WebhookRegistration, WebhookStatus
from bridge.entrypoints.asana_webhooks import AsanaWebhookReceiver
from bridge.metrics import Metrics
from tests.support import FakeClock

Http = tuple[TestClient[web.Request, web.Application], FakeClock]
SECRET = "a" * 64
EVENT = {
    "user": {"gid": "1201", "resource_type": "user"},
    "created_at": "2026-11-30T14:00:00.000Z",
    "action": "changed",
    "resource": {"gid": "1301", "resource_type": "task", "resource_subtype": "default_task"},
    "parent": None,
    "change": {"field": "completed", "action": "changed"},
}


@pytest_asyncio.fixture
async def client(store: SqlStore) -> AsyncIterator[Http]:
    clock = FakeClock()
    receiver = AsanaWebhookReceiver(webhooks=store, inbox=store, clock=clock, metrics=Metrics())
    app = web.Application()
    app.router.add_post("/asana/webhooks/{hook_key}", receiver.handle)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, clock


async def _register(store: SqlStore, clock: FakeClock, key: str = "hook1") -> None:
    await store.save_webhook(
        WebhookRegistration(
            hook_key=key,
            team_id=TeamId("T1"),
            channel_id=ChannelId("C1"),
            project_gid=ProjectGid("1101"),
            status=WebhookStatus.PENDING,
            created_at=clock.now(),
        )
    )


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


async def test_handshake_once_then_signed_deliveries_reach_the_inbox(client: Http, store: SqlStore) -> None:
    http, clock = client
    await _register(store, clock)
    first = await http.post("/asana/webhooks/hook1", headers={"X-Hook-Secret": SECRET})
    assert first.status == 200 and first.headers["X-Hook-Secret"] == SECRET
    second = await http.post("/asana/webhooks/hook1", headers={"X-Hook-Secret": "b" * 64})
    assert second.status == 403
    stored = await store.get_webhook("hook1")
    assert stored is not None and stored.secret == SECRET and stored.status is WebhookStatus.ACTIVE

    body = json.dumps({"events": [EVENT, {**EVENT, "created_at": "2026-11-30T14:00:01.000Z"}]}).encode()
    ok = await http.post("/asana/webhooks/hook1", data=body, headers=_signed(body))
    assert ok.status == 200
    # Committed whole before the 200; the worker makes the events.
    assert await store.inbox_counts() == {"landed": 2, "pending": 0, "done": 0, "parked": 0}
    assert await store.unpack_deliveries(limit=10, events_of=delivery_events) == Unpacked(1, 2, added=2)
    assert await store.inbox_counts() == {"landed": 0, "pending": 2, "done": 0, "parked": 0}
    again = await http.post("/asana/webhooks/hook1", data=body, headers=_signed(body))  # Asana resends
    assert again.status == 200
    assert await store.unpack_deliveries(limit=10, events_of=delivery_events) == Unpacked(1, 2, added=0)
    assert await store.inbox_counts() == {"landed": 0, "pending": 2, "done": 0, "parked": 0}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hook-Signature": ""},
        {"X-Hook-Signature": "0" * 64},
        _signed(b'{"events": []}', secret="b" * 64),
        _signed(b'{"events":[]}'),  # signed over other bytes than the body sent
    ],
    ids=["missing", "empty", "zeros", "other-secret", "re-serialised"],
)
async def test_unsigned_or_mis_signed_deliveries_are_refused_and_change_nothing(
    client: Http, store: SqlStore, headers: dict[str, str]
) -> None:
    http, clock = client
    await _register(store, clock)
    await http.post("/asana/webhooks/hook1", headers={"X-Hook-Secret": SECRET})
    body = json.dumps({"events": [EVENT]}).encode()
    response = await http.post("/asana/webhooks/hook1", data=body, headers=headers)
    assert response.status == 401
    assert not any((await store.inbox_counts()).values())


async def test_handshake_outside_the_registration_window_is_refused(client: Http, store: SqlStore) -> None:
    http, clock = client
    await _register(store, clock)
    clock.advance(timedelta(minutes=3))
    response = await http.post("/asana/webhooks/hook1", headers={"X-Hook-Secret": SECRET})
    assert response.status == 403
    stored = await store.get_webhook("hook1")
    assert stored is not None and stored.secret is None


async def test_unknown_hook_is_404_and_malformed_body_is_400(client: Http, store: SqlStore) -> None:
    http, clock = client
    assert (await http.post("/asana/webhooks/nope", headers={"X-Hook-Secret": SECRET})).status == 404
    await _register(store, clock)
    await http.post("/asana/webhooks/hook1", headers={"X-Hook-Secret": SECRET})
    mistyped = [json.dumps({"events": [{**EVENT, name: "x"}]}).encode() for name in ("parent", "user", "change")]
    for body in (b"not json", b'{"events": "x"}', b'{"events": [{"action": "added"}]}', b"[]", *mistyped):
        response = await http.post("/asana/webhooks/hook1", data=body, headers=_signed(body))
        assert response.status == 400, body
    heartbeat = b'{"events":[]}'
    assert (await http.post("/asana/webhooks/hook1", data=heartbeat, headers=_signed(heartbeat))).status == 200
    assert not any((await store.inbox_counts()).values())
