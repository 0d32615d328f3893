"""Hostile input on the real bridge, one case at a time: each answer is a 4xx (or Slack's 200 for what nobody
handles), never a 5xx; the cases here are the ones that used to answer 500 or reach Bolt unchecked."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio

from bridge.domain.model import WebhookRegistration, WebhookStatus
from bridge.sandbox.world import SIGNING_SECRET
from tests.fixtures_bridge import Running
from tests.support import eventually

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


def sign(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp if timestamp is not None else str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest(),
    }


@pytest_asyncio.fixture
async def http(running: Running) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=running.url) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with http.post(path, data=body, headers=headers, skip_auto_headers=["Content-Type"]) as response:
        return response.status, await response.text()


COMMAND = b"command=%2Fasana&text=help&team_id=T1&channel_id=C1&user_id=U1&trigger_id=1.2.3"


@pytest.mark.parametrize(
    "timestamp",
    [
        "abc",
        "",
        "+{now}",
        " {now}",
        "{now}.0",
        "{now_}",
        "１７００００００００",
        "{future}",
        "{past}",
        "99999999999999",
    ],
    ids=["word", "empty", "plus", "space", "decimal", "underscores", "fullwidth", "10-min-ahead", "6-min-old", "huge"],
)
async def test_timestamps_outside_the_window_or_not_plain_digits_are_401(
    http: aiohttp.ClientSession, timestamp: str
) -> None:
    now = int(time.time())
    timestamp = timestamp.format(now=now, now_=f"{now:_}", future=now + 600, past=now - 360)
    status, _ = await post(http, "/slack/events", COMMAND, {"Content-Type": FORM, **sign(COMMAND, timestamp)})
    assert status == 401


async def test_slack_content_type_encoding_and_headers(http: aiohttp.ClientSession) -> None:
    assert (await post(http, "/slack/events", COMMAND, {"Content-Type": "text/plain", **sign(COMMAND)}))[0] == 415
    assert (await post(http, "/slack/events", COMMAND, sign(COMMAND)))[0] == 415  # no content type at all
    latin1 = "command=/asana&text=café".encode("latin-1")
    assert (await post(http, "/slack/events", latin1, {"Content-Type": FORM, **sign(latin1)}))[0] == 400
    # A charset nobody knows used to be a LookupError (500) in request.text(); Slack only sends UTF-8.
    charset = {"Content-Type": f"{FORM}; charset=nope", **sign(COMMAND)}
    assert (await post(http, "/slack/events", COMMAND, charset))[0] == 200
    deep = b"[" * 100_000 + b"]" * 100_000
    assert (await post(http, "/slack/events", deep, {"Content-Type": JSON_TYPE, **sign(deep)}))[0] == 400
    signed = sign(COMMAND)
    async with http.post(
        "/slack/events",
        data=COMMAND,
        headers=[
            ("Content-Type", FORM),
            ("X-Slack-Request-Timestamp", signed["X-Slack-Request-Timestamp"]),
            ("X-Slack-Signature", "v0=" + "0" * 64),
            ("X-Slack-Signature", signed["X-Slack-Signature"]),
        ],
    ) as response:
        assert response.status == 400  # which of two signatures counts is not for the sender to choose
    non_ascii = {"Content-Type": FORM, **sign(COMMAND), "X-Slack-Signature": "v0=ü" + "0" * 63}
    assert (await post(http, "/slack/events", COMMAND, non_ascii))[0] == 401


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ({"type": "event_callback", "event_id": "EvX1", "event": {"type": "emoji_changed"}}, JSON_TYPE),
        ({"type": "no_such_payload_type"}, JSON_TYPE),
        ({"type": "block_suggestion", "action_id": "nobody"}, "payload"),
        ({"field": "value"}, FORM),
    ],
    ids=["unknown-event", "unknown-type", "unhandled-interactive", "form-without-command"],
)
async def test_what_nothing_handles_is_200_so_slack_does_not_retry_and_is_logged(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, payload: dict[str, object], content_type: str
) -> None:
    caplog.set_level(logging.INFO, logger="bridge")
    if content_type == JSON_TYPE:
        body = json.dumps(payload).encode()
    elif content_type == "payload":
        body = urlencode({"payload": json.dumps(payload)}).encode()
        content_type = FORM
    else:
        body = b"field=value"
    status, _ = await post(http, "/slack/events", body, {"Content-Type": content_type, **sign(body)})
    assert status == 200
    ignored = [r for r in caplog.records if r.getMessage().startswith("ignored a Slack payload")]
    assert ignored and ignored[0].levelno == logging.INFO


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "actions": None, "user": {"id": "U1"}, "team": {"id": "T1"}},
        {"type": "event_callback", "event_id": "EvX2", "event": "not an object"},
        {"type": "event_callback", "event_id": "EvX3", "event": {"type": "message", "channel": 5, "ts": [1]}},
    ],
    ids=["actions-null", "event-string", "event-ids-wrong-types"],
)
async def test_signed_payloads_bolt_cannot_take_apart_are_400(
    http: aiohttp.ClientSession, payload: dict[str, object]
) -> None:
    body = json.dumps(payload).encode()
    status, _ = await post(http, "/slack/events", body, {"Content-Type": JSON_TYPE, **sign(body)})
    assert status == 400


async def test_a_command_missing_its_ids_is_400_not_500(http: aiohttp.ClientSession) -> None:
    body = b"command=%2Ftask&text=hello"
    status, _ = await post(http, "/slack/events", body, {"Content-Type": FORM, **sign(body)})
    assert status == 400


async def test_declared_bodies_over_a_megabyte_are_413_before_reading(running: Running) -> None:
    host, port = running.url.removeprefix("http://").split(":")
    for path in ("/slack/events", "/asana/webhooks/anything"):
        # Only the headers are sent: the declared length alone decides, and the answer comes without the body.
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {1024 * 1024 + 1}\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        writer.close()
        await writer.wait_closed()
        assert status_line.split()[1] == b"413", status_line


async def test_request_ids_are_echoed_when_sane_and_made_otherwise(http: aiohttp.ClientSession) -> None:
    async with http.get("/healthz", headers={"X-Request-Id": "lb-7f3a"}) as response:
        assert response.status == 200 and response.headers["X-Request-Id"] == "lb-7f3a"
    async with http.get("/nowhere", headers={"X-Request-Id": "two words"}) as response:
        assert response.status == 404 and response.headers["X-Request-Id"] != "two words"
        assert len(response.headers["X-Request-Id"]) == 32
    async with http.request("DELETE", "/slack/events?x=1") as response:
        assert response.status == 405 and response.headers["X-Request-Id"]


async def _linked_hook(running: Running) -> tuple[str, str]:
    world = running.world
    await running.user("ana").slash_command(
        "/asana", f"link https://app.asana.com/0/{world.project}/list", world.channel
    )
    hooks = await eventually(
        lambda: _active(running),
        timeout=10,
    )
    return hooks[0].hook_key, str(hooks[0].secret)


async def _active(running: Running) -> list[WebhookRegistration] | None:
    hooks = [h for h in await running.bridge.store.list_webhooks() if h.status is WebhookStatus.ACTIVE]
    return hooks or None


async def test_asana_receiver_refuses_odd_keys_signatures_types_and_bodies(
    running: Running, http: aiohttp.ClientSession
) -> None:
    key, secret = await _linked_hook(running)
    before = await running.bridge.store.inbox_counts()

    def signed(body: bytes) -> dict[str, str]:
        return {
            "Content-Type": JSON_TYPE,
            "X-Hook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        }

    body = json.dumps({"events": []}).encode()
    assert (await post(http, f"/asana/webhooks/{key}", body, signed(body)))[0] == 200  # a heartbeat
    for odd_key in ("%00", "k%C3%BC", "a" * 200, "..%2F..%2Fetc"):
        assert (await post(http, f"/asana/webhooks/{odd_key}", body, signed(body)))[0] == 404
    # A non-ASCII signature used to raise TypeError in hmac.compare_digest (500).
    assert (await post(http, f"/asana/webhooks/{key}", body, {**signed(body), "X-Hook-Signature": "ü" * 64}))[0] == 401
    assert (await post(http, f"/asana/webhooks/{key}", body, {**signed(body), "Content-Type": "text/plain"}))[0] == 415
    deep = b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert (await post(http, f"/asana/webhooks/{key}", deep, signed(deep)))[0] == 400  # was a RecursionError
    async with http.post(
        f"/asana/webhooks/{key}",
        data=body,
        headers=[("Content-Type", JSON_TYPE), ("X-Hook-Signature", "0" * 64), *signed(body).items()],
    ) as response:
        assert response.status == 400
    # The active hook takes no new secret, whatever it looks like.
    for takeover in ("f" * 64, "x", "ü" * 20):
        assert (await post(http, f"/asana/webhooks/{key}", b"", {"X-Hook-Secret": takeover}))[0] == 403
    stored = await running.bridge.store.get_webhook(key)
    assert stored is not None and stored.secret == secret and stored.status is WebhookStatus.ACTIVE
    assert await running.bridge.store.inbox_counts() == before
