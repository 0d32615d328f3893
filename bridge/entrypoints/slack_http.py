"""POST /slack/events: what reaches Bolt has Slack's content type, a valid signature inside the 5-minute window,
a UTF-8 body that parses to an object; what Bolt cannot place is answered without a 5xx.

Slack retries every event it did not get a 200 for (three times), so a payload nobody handles is answered 200 and
logged, and a payload that breaks a listener is answered 400: a retry would break it again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.internals import parse_body
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_step,
    to_view,
)
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "application/json"})
REPLAY_WINDOW_SECONDS = 300
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Headers that only Bolt itself sets (lazy listeners on FaaS); never taken from the network.
INTERNAL_HEADERS = ("x-slack-bolt-lazy-only", "x-slack-bolt-lazy-function-name")
SIGNED_HEADERS = ("X-Slack-Request-Timestamp", "X-Slack-Signature")
# What a listener raises when a signed payload lacks a field or has one of another type.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class SlackEndpoint:
    def __init__(self, *, bolt: AsyncApp, signing_secret: str | None, now: Callable[[], float] = time.time) -> None:
        self._bolt = bolt
        self._secret = signing_secret.encode() if signing_secret else None
        self._now = now

    def verified(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature over the raw bytes, with the timestamp no more than 5 minutes off either way."""
        if self._secret is None or not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
            return False
        if abs(self._now() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return False
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_type not in CONTENT_TYPES:
            return _error(415, "expected application/x-www-form-urlencoded or application/json")
        if any(len(request.headers.getall(name, ())) > 1 for name in SIGNED_HEADERS):
            return _error(400, "repeated signature headers")
        raw = await request.read()
        # The signature is checked on the raw bytes before anything parses them (Bolt parses first and answers
        # 500 to a malformed body); the timestamp window refuses replays, from the past or the future.
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not self.verified(raw, timestamp, request.headers.get("X-Slack-Signature", "")):
            return _error(401, "invalid request")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "body is not UTF-8")
        headers: dict[str, str | Sequence[str]] = {name.lower(): value for name, value in request.headers.items()}
        for name in INTERNAL_HEADERS:
            headers.pop(name, None)
        headers["content-type"] = request.content_type  # what was checked, whatever parameters came with it
        # Bolt parses the body (once: parsing it ahead as well was a tenth of an ack's cost); what it cannot parse
        # to a non-empty object is a malformed body, what it parses but cannot take apart a malformed payload.
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
        except Exception as exc:
            if not _parses(body, request.content_type):
                return _error(400, "malformed body")
            log.info("refused a Slack payload (%s) of an unexpected shape: %r", describe(bolt_request_body(body)), exc)
            return _error(400, "malformed payload")
        if not (isinstance(bolt_request.body, dict) and bolt_request.body):
            return _error(400, "malformed body")
        try:
            _readable(bolt_request.body)
        except Exception as exc:  # Bolt reads ids and parts out of the payload before and around every listener
            log.info("refused a Slack payload (%s) of an unexpected shape: %r", describe(bolt_request.body), exc)
            return _error(400, "malformed payload")
        try:
            answer = await self._bolt.async_dispatch(bolt_request)
        except SHAPE_ERRORS:  # raised again inside Bolt's own error handling: never a reason for a 5xx
            log.exception("a Slack payload (%s) broke Bolt's dispatch", describe(bolt_request.body))
            return _error(400, "payload not handled")
        return await to_aiohttp_response(answer)


def _readable(body: dict[str, Any]) -> None:
    """Raise if Bolt cannot take the payload apart: it does so for every listener, middleware and error handler
    (kwargs injection), so such a payload would fail even the error handler."""
    for part in (to_options, to_shortcut, to_action, to_view, to_command, to_event, to_message, to_step):
        part(body)


def bolt_request_body(body: str) -> Any:
    try:
        return parse_body(body, None)
    except (ValueError, RecursionError):
        return None


def _parses(body: str, content_type: str) -> bool:
    """Whether Bolt will read the body as a non-empty object (the same parser Bolt uses, so both agree)."""
    try:
        parsed = parse_body(body, content_type)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and bool(parsed)


def describe(body: Any) -> str:
    """What kind of payload this is, for logs: types and ids of the kind, never tokens or user text."""
    if not isinstance(body, dict):
        return type(body).__name__
    event = body.get("event")
    parts = [
        body.get("type"),
        event.get("type") if isinstance(event, dict) else None,
        body.get("command"),
        body.get("callback_id"),
    ]
    return "/".join(str(p)[:40] for p in parts if isinstance(p, str) and p) or "untyped"


def install_error_handler(bolt: AsyncApp) -> None:
    """Bolt's answer when nothing or something broken handles a signed payload (its defaults: 404 and 500)."""

    async def on_error(error: Exception, body: Any, response: BoltResponse | None) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            log.info("ignored a Slack payload that nothing handles: %s", describe(body))
            answer = BoltResponse(status=200, body="")
        elif isinstance(error, SHAPE_ERRORS):
            log.warning("a Slack payload (%s) could not be handled", describe(body), exc_info=error)
            answer = BoltResponse(status=400, body='{"error": "payload not handled"}')
        else:  # the database or another dependency failed: worth Slack's retry
            log.error("a Slack payload (%s) failed", describe(body), exc_info=error)
            answer = BoltResponse(status=503, body='{"error": "temporarily unavailable"}')
        # After ack() the HTTP answer is gone already; Bolt then passes no response to change.
        return answer if response is not None else None

    bolt.error(on_error)
