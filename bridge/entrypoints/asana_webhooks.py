"""POST /asana/webhooks/{hook_key}: the handshake while a hook registers, then signed deliveries into the inbox.

Asana wants a 2xx within 10 s and delivers at most once, so the delivery is committed to the inbox, whole, and
answered at once; the inbox worker unpacks it into events and processes them after the 200. The handshake is
accepted only for a hook that is registering right now (no secret takeover), and every delivery's
X-Hook-Signature is checked on the raw body.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web

from bridge.domain.events import MalformedEvents, parse_delivery
from bridge.domain.model import Delivery, WebhookRegistration, WebhookStatus
from bridge.lookups import Lookups
from bridge.metrics import Metrics
from bridge.ports import Clock, InboxArrivals, WebhookStore

log = logging.getLogger(__name__)

# Asana performs the handshake inside the create call; a registration older than this is not registering.
HANDSHAKE_WINDOW = timedelta(minutes=2)


# Keys are made by secrets.token_urlsafe; anything else is not ours and never reaches the database.
HOOK_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Asana sends 64 hex digits; the secret is echoed in a header and stored, so nothing outside plain tokens is taken.
HOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,512}")
HOOK_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
HOOK_HEADERS = ("X-Hook-Secret", "X-Hook-Signature")


# An active hook's secret is kept this long in memory: deliveries come in streams, and a secret changes only
# when the hook is made again (under a new key) or deleted (a late delivery then lands in an inbox that ignores it).
ACTIVE_HOOK_MEMORY = 30.0


class DeliveryPace:
    """When this process last kept a webhook delivery: while deliveries stream in, the inbox worker leaves them
    whole for a while (see services/inbox.py, Inbox.unpack), so that a burst is answered at the pace of a commit."""

    def __init__(self) -> None:
        self.last_kept: datetime | None = None
        self._listeners: list[Callable[[], None]] = []

    def kept(self, at: datetime) -> None:
        self.last_kept = at
        for listener in self._listeners:
            listener()

    def on_kept(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each delivery kept (the inbox worker wakes its unpacker)."""
        self._listeners.append(listener)


class AsanaWebhookReceiver:
    def __init__(
        self,
        *,
        webhooks: WebhookStore,
        inbox: InboxArrivals,
        clock: Clock,
        metrics: Metrics,
        pace: DeliveryPace | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._webhooks = webhooks
        self._inbox = inbox
        self._clock = clock
        self._metrics = metrics
        self._pace = pace or DeliveryPace()
        # Only active hooks are remembered (bridge.lookups); anything else is read from the store every time.
        self._active: Lookups[str, WebhookRegistration] = Lookups(
            found_seconds=ACTIVE_HOOK_MEMORY, missing_seconds=0.0, maxsize=1_000, timer=timer
        )

    async def _registration(self, hook_key: str) -> WebhookRegistration | None:
        known = self._active.get(hook_key)
        if known is not None:
            return known
        registration = await self._webhooks.get_webhook(hook_key)
        if registration is not None and registration.status is WebhookStatus.ACTIVE and registration.secret:
            self._active.put(hook_key, registration)
        else:
            self._active.forget(hook_key)
        return registration

    async def handle(self, request: web.Request) -> web.Response:
        hook_key = request.match_info["hook_key"]
        if not (hook_key.isascii() and HOOK_KEY.fullmatch(hook_key)):
            return _error(404, "unknown webhook")
        if any(len(request.headers.getall(name, ())) > 1 for name in HOOK_HEADERS):
            return _error(400, "repeated webhook headers")
        registration = await self._registration(hook_key)
        if registration is None:
            return _error(404, "unknown webhook")
        handshake = request.headers.get("X-Hook-Secret")
        if handshake is not None:
            fresh = self._clock.now() - registration.created_at < HANDSHAKE_WINDOW
            if (
                registration.status is WebhookStatus.PENDING
                and fresh
                and handshake.isascii()
                and HOOK_SECRET.fullmatch(handshake)
                and await self._webhooks.complete_handshake(hook_key, handshake)
            ):
                log.info("webhook handshake completed for project %s", registration.project_gid)
                return web.Response(status=200, headers={"X-Hook-Secret": handshake})
            log.warning("refused a handshake for hook of project %s: not registering", registration.project_gid)
            return _error(403, "handshake not expected")
        if registration.status is not WebhookStatus.ACTIVE or not registration.secret:
            return _error(401, "webhook not active")
        signature = request.headers.get("X-Hook-Signature", "").strip()
        body = await request.read()
        expected = hmac.digest(registration.secret.encode(), body, "sha256").hex()  # one-shot: OpenSSL's fast path
        if not (
            signature.isascii()
            and HOOK_SIGNATURE.fullmatch(signature)
            and hmac.compare_digest(expected, signature.lower())
        ):
            self._metrics.webhook_events.labels("bad_signature").inc()
            return _error(401, "invalid signature")
        # Checked after the signature, and leniently: a signed delivery that declares no type (octet-stream) is still
        # Asana's JSON, and refusing it would lose events (deliveries are at most once); another type is refused.
        if not _json_or_undeclared(request.content_type):
            return _error(415, "expected application/json")
        try:
            events = parse_delivery(json.loads(body))
        except (ValueError, RecursionError, MalformedEvents) as exc:
            self._metrics.webhook_events.labels("malformed").inc()
            return _error(400, str(exc) if isinstance(exc, MalformedEvents) else "body is not JSON")
        if events:
            # Kept whole: the inbox worker makes its events (keys, rows, de-duplication) many deliveries at a time.
            now = self._clock.now()
            await self._inbox.keep_delivery(Delivery(registration.project_gid, body, len(events), received_at=now))
            self._pace.kept(now)
        return web.json_response({"ok": True})


def _json_or_undeclared(content_type: str) -> bool:
    return content_type in ("application/json", "application/octet-stream") or content_type.endswith("+json")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
