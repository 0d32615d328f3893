"""Webhook traffic: the X-Hook-Secret handshake and signed, batched, retried event deliveries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bridge.sandbox.asana.clock import Clock
from bridge.sandbox.asana.errors import ApiError
from bridge.sandbox.asana.model import Event, Webhook, WebhookFilter
from bridge.sandbox.asana.store import Store

log = logging.getLogger(__name__)

HANDSHAKE_FAILED = "The remote server did not respond with the handshake secret."


@dataclass
class DeliveryRecord:
    """One POST to a webhook target (or one batch lost on purpose), for tests to inspect."""

    webhook: str
    target: str
    body: bytes
    events: list[dict[str, Any]]
    status: int | None  # None: timeout, connection error or lost on purpose
    error: str | None
    lost: bool = False


@dataclass
class DeliverySettings:
    """Timing of deliveries. Asana batches within seconds and retries with backoff for 24 h."""

    batch_window: float = 0.05
    retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # the last one repeats
    delivery_timeout: float = 10.0  # a target must answer 2xx within 10 s
    handshake_timeout: float = 10.0
    failure_window: timedelta = timedelta(hours=24)  # then the webhook is deleted
    max_batch: int = 100


@dataclass
class _Outbox:
    pending: list[Event] = field(default_factory=list)
    worker: asyncio.Task[None] | None = None


def passes(event: Event, filters: list[WebhookFilter]) -> bool:
    """The filter list is an allow-list: an event goes out if it passes any one filter (none = all)."""
    if not filters:
        return True
    for f in filters:
        if f.resource_type is not None and f.resource_type != event.resource.resource_type:
            continue
        if f.resource_subtype is not None and f.resource_subtype != event.resource.resource_subtype:
            continue
        if f.action is not None and f.action != event.action:
            continue
        if f.fields is not None and (event.change is None or event.change.get("field") not in f.fields):
            continue
        return True
    return False


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeliveryEngine:
    """Per-webhook outboxes drained by background tasks; the API answer never waits for a delivery."""

    def __init__(self, store: Store, clock: Clock, settings: DeliverySettings, seed: int = 0) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.records: list[DeliveryRecord] = []
        self.loss_probability = 0.0
        self._rng = random.Random(seed)
        self._drop_next = 0
        self._outboxes: dict[str, _Outbox] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._running = False

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._running = True
        for gid, outbox in self._outboxes.items():
            if outbox.pending and outbox.worker is None:
                self._spawn_worker(gid, outbox)

    async def stop(self) -> None:
        self._running = False
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for outbox in self._outboxes.values():
            outbox.worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def drop_next(self, batches: int = 1) -> None:
        """Lose the next N batches silently: Asana delivers at most once."""
        self._drop_next += batches

    async def idle(self, timeout: float) -> None:
        """Wait until no delivery is pending or in flight; raise TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    # ---------------------------------------------------------------- handshake

    async def handshake(self, target: str) -> str:
        """POST an empty body with X-Hook-Secret; the target must echo it with 200/204 (inside the create)."""
        secret = secrets.token_hex(32)
        session = self._require_session()
        try:
            async with session.post(
                target,
                data=b"",
                headers={"X-Hook-Secret": secret},
                timeout=aiohttp.ClientTimeout(total=self.settings.handshake_timeout),
            ) as response:
                echoed = response.headers.get("X-Hook-Secret")
                ok = response.status in (200, 204) and echoed is not None and hmac.compare_digest(echoed, secret)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("webhook handshake to %s failed: %s", target, exc)
            ok = False
        if not ok:
            raise ApiError(400, HANDSHAKE_FAILED)
        return secret

    # ---------------------------------------------------------------- events

    def publish(self, event: Event, targets: frozenset[str]) -> None:
        for hook in list(self.store.webhooks.values()):
            if hook.active and hook.resource in targets and passes(event, hook.filters):
                outbox = self._outboxes.setdefault(hook.gid, _Outbox())
                outbox.pending.append(event)
                if outbox.worker is None and self._running:
                    self._spawn_worker(hook.gid, outbox)

    def forget(self, webhook_gid: str) -> None:
        outbox = self._outboxes.pop(webhook_gid, None)
        if outbox is not None and outbox.worker is not None:
            outbox.worker.cancel()

    def heartbeat(self, webhook_gid: str | None = None) -> None:
        """Send `{"events": []}` to one webhook or all, as Asana does every 8 hours."""
        hooks = [self.store.webhooks[webhook_gid]] if webhook_gid else list(self.store.webhooks.values())
        for hook in hooks:
            self._track(asyncio.get_running_loop().create_task(self._beat(hook)))

    async def _beat(self, hook: Webhook) -> None:
        await self._send(hook, [])

    def _spawn_worker(self, gid: str, outbox: _Outbox) -> None:
        outbox.worker = asyncio.get_running_loop().create_task(self._drain(gid, outbox))
        self._track(outbox.worker)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, gid: str, outbox: _Outbox) -> None:
        try:
            while outbox.pending:
                # Asana batches events that happen close together into one POST.
                await asyncio.sleep(self.settings.batch_window)
                batch = outbox.pending[: self.settings.max_batch]
                del outbox.pending[: len(batch)]
                hook = self.store.webhooks.get(gid)
                if hook is None:
                    return
                if self._lose():
                    payload = [e.to_json() for e in batch]
                    self.records.append(DeliveryRecord(gid, hook.target, b"", payload, None, "lost", lost=True))
                    continue
                attempt = 0
                while not await self._send(hook, batch):
                    if gid not in self.store.webhooks:
                        return  # deleted after failing for the whole failure window
                    delays = self.settings.retry_delays
                    delay = delays[min(attempt, len(delays) - 1)] if delays else 0.0
                    hook.next_attempt_after = self.clock.now() + timedelta(seconds=delay)
                    await asyncio.sleep(delay)  # Asana's retry backoff, not a test wait
                    attempt += 1
        finally:
            outbox.worker = None

    def _lose(self) -> bool:
        if self._drop_next > 0:
            self._drop_next -= 1
            return True
        return self.loss_probability > 0 and self._rng.random() < self.loss_probability

    async def _send(self, hook: Webhook, batch: list[Event]) -> bool:
        events = [e.to_json() for e in batch]
        body = json.dumps({"events": events}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hook-Signature": sign(hook.secret, body)}
        status: int | None = None
        error: str | None = None
        try:
            async with self._require_session().post(
                hook.target,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.settings.delivery_timeout),
            ) as response:
                status = response.status
                if not 200 <= status < 300:
                    text = await response.text(errors="replace")
                    error = f"{status} {response.reason}\n\n{text[:500]}"
        except TimeoutError:
            error = "Timed out waiting for a response"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {exc}"
        self.records.append(DeliveryRecord(hook.gid, hook.target, body, events, status, error))
        now = self.clock.now()
        if error is None:
            hook.last_success_at = now
            hook.delivery_retry_count = 0
            hook.first_failure_at = None
            hook.next_attempt_after = None
            return True
        hook.last_failure_at = now
        hook.last_failure_content = error
        hook.delivery_retry_count += 1
        hook.first_failure_at = hook.first_failure_at or now
        if self._expired(hook, now):
            log.info("webhook %s failed for %s: deleted", hook.gid, self.settings.failure_window)
            self.store.webhooks.pop(hook.gid, None)
            self._outboxes.pop(hook.gid, None)
        return False

    def _expired(self, hook: Webhook, now: datetime) -> bool:
        return hook.first_failure_at is not None and now - hook.first_failure_at >= self.settings.failure_window

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the Asana emulator is not started")
        return self._session
