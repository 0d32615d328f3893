"""How a call reaches Asana: the official (blocking) `asana` client run in a bounded thread pool, paced and retried.

Why the care: the client blocks, and Asana's webhook handshake arrives while `create_webhook` is still open, so
no call may run on the event loop. The client never retries POSTs on 429, ends GET retries in MaxRetryError,
has no default timeout and ignores float timeouts (reference/asana.md §6.5): all of that is handled here, and the
calls themselves (adapters/asana_api.py) only say what to ask and how to read the answer.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asana
import urllib3
from asana.rest import ApiException
from urllib3.util.retry import Retry

from bridge.adapters.limits import RateLimiter
from bridge.errors import (
    AsanaBadRequest,
    AsanaError,
    AsanaForbidden,
    AsanaNotFound,
    AsanaRateLimited,
    AsanaUnavailable,
)
from bridge.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

# Asana's concurrency caps are per token: 50 reads and 15 writes in flight (reference/asana.md §3.1).
MAX_READS_IN_FLIGHT = 50
MAX_WRITES_IN_FLIGHT = 15
PAGE_SIZE = 100  # the most Asana returns per page


class _Configuration(asana.Configuration):  # type: ignore[misc]
    """The client's configuration, whose token can be a person's for the call running on this thread: one client
    (one connection pool, one thread pool) serves the bridge's token and every connected person's."""

    person = threading.local()

    def auth_settings(self) -> dict[str, Any]:
        token = getattr(self.person, "token", None) or self.access_token
        return {"token": {"type": "token", "in": "header", "key": "Authorization", "value": "Bearer " + token}}


class AsanaTransport:
    """One `asana.ApiClient` and the rules for calling it: off the loop, within Asana's caps and quota, retried
    when that is safe, its exceptions turned into the bridge's (bridge.errors)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_minute: int,
        timeout_seconds: int,
        max_threads: int,
        max_attempts: int,
        metrics: Metrics | None,
        limiter: RateLimiter | None,
    ) -> None:
        config = _Configuration()
        config.host = base_url.rstrip("/")
        config.access_token = token
        # Retries are ours (429 for every method, Retry-After shared by all callers), so urllib3 makes none.
        config.retry_strategy = Retry(total=0, connect=0, read=0, status=0, redirect=0, raise_on_status=False)
        config.connection_pool_maxsize = max_threads
        self.client = asana.ApiClient(config)
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="asana")
        self.limiter = limiter or RateLimiter(requests_per_minute)
        # A call is stamped by the limiter only once a thread is free to send it, so it reaches Asana right away.
        self._threads = asyncio.Semaphore(max_threads)
        self._reads = asyncio.Semaphore(MAX_READS_IN_FLIGHT)
        self._writes = asyncio.Semaphore(MAX_WRITES_IN_FLIGHT)
        self._timeout = int(timeout_seconds)  # the client silently ignores float timeouts
        self._max_attempts = max_attempts
        self._metrics = metrics
        self.calls = 0  # every HTTP call made, for tests and benchmarks that count API cost
        self._person_token: str | None = None

    def acting_as(self, token: str) -> AsanaTransport:
        """The same client, threads and pace, sending a person's OAuth access token."""
        person = copy.copy(self)
        person._person_token = token
        return person

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.rest_client.pool_manager.clear()
        # The client starts a multiprocessing ThreadPool of its own that its __del__ joins noisily at exit.
        pool = getattr(self.client, "pool", None)
        if pool is not None:
            pool.close()
            pool.join()
            del self.client.pool

    async def call_list(self, name: str, method: Callable[..., Any], *args: Any) -> list[Any]:
        """Every page of a list (the options come last in `args`), 100 at a time, each page its own paced and retried
        call: Asana counts every page against the quota, which a walk inside one call would hide from the limiter."""
        *head, opts = args
        rows: list[Any] = []
        offset: str | None = None
        while True:
            page_opts = {**opts, "limit": PAGE_SIZE, **({"offset": offset} if offset else {})}
            page = await self.call(name, method, *head, page_opts, full_payload=True)
            rows.extend(page.get("data") or [])
            offset = (page.get("next_page") or {}).get("offset")
            if not offset:
                return rows

    async def call(
        self,
        name: str,
        method: Callable[..., T],
        *args: Any,
        write: bool = False,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> T:
        """Run one client call off the loop, paced, with retries that are safe for its kind."""
        idempotent = (not write) if idempotent is None else idempotent
        kwargs["_request_timeout"] = self._timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(name, method, args, kwargs, write=write)
            except (AsanaRateLimited, AsanaUnavailable) as exc:
                error: AsanaError = exc
            if isinstance(error, AsanaRateLimited):
                if self._metrics:
                    self._metrics.api_rate_limited.labels("asana").inc()
                self.limiter.pause(error.retry_after)
                retry = True  # a 429 was refused, not processed: safe for every method
            else:
                retry = isinstance(error, AsanaUnavailable) and (idempotent or not error.sent)
            if not retry or attempt >= self._max_attempts:
                raise error
            delay = error.retry_after if isinstance(error, AsanaRateLimited) else _backoff(attempt)
            log.warning("asana %s failed (%s); retry %d in %.1fs", name, error, attempt, delay)
            await asyncio.sleep(delay)

    async def _attempt(
        self, name: str, method: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], *, write: bool
    ) -> T:
        """One try: within the caps and the quota, on a pool thread; a failure raised as the bridge's error."""
        async with self._writes if write else self._reads, self._threads:
            await self.limiter.acquire()
            started = time.perf_counter()
            try:
                self.calls += 1
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._pool, self._as_token, method, args, kwargs)
            except ApiException as exc:
                self._record(name, str(exc.status), started)
                raise _map_api_exception(exc, name) from exc
            except urllib3.exceptions.HTTPError as exc:
                self._record(name, "network", started)
                # Refused before anything was sent is always safe to retry; a timeout after sending is not.
                unsent = isinstance(exc, urllib3.exceptions.NewConnectionError) or isinstance(
                    getattr(exc, "reason", None), urllib3.exceptions.NewConnectionError
                )
                raise AsanaUnavailable(f"{name}: {type(exc).__name__}", sent=not unsent) from exc
            self._record(name, "ok", started)
            return result

    def _as_token(self, method: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        """On a pool thread: the call, with this transport's token (a person's, or the bridge's)."""
        _Configuration.person.token = self._person_token
        try:
            return method(*args, **kwargs)
        finally:
            _Configuration.person.token = None

    def _record(self, name: str, outcome: str, started: float) -> None:
        if self._metrics:
            self._metrics.api_calls.labels("asana", name, outcome).inc()
            self._metrics.api_latency.labels("asana").observe(time.perf_counter() - started)


def _backoff(attempt: int) -> float:
    return float(min(10.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))


def json_body(body: Any) -> dict[str, Any]:
    """An error answer's JSON object; empty when it is not one."""
    try:
        data = json.loads(body or b"{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _map_api_exception(exc: ApiException, name: str) -> AsanaError:
    errors = json_body(exc.body).get("errors") or [{}]
    message = f"{name}: {errors[0].get('message') or exc.reason or 'error'}"
    status = int(exc.status or 0)
    if status == 429:
        header = (exc.headers or {}).get("Retry-After")
        try:
            retry_after = max(0.0, float(header)) if header is not None else None
        except ValueError:
            retry_after = None
        # A missing or unreadable Retry-After happens on concurrency 429s: wait a little, with jitter.
        return AsanaRateLimited(message, retry_after=1.0 + random.random() if retry_after is None else retry_after)
    if status == 404:
        return AsanaNotFound(message, status=status)
    if status in (401, 402, 403):
        return AsanaForbidden(message, status=status)
    if status in (400, 412):
        return AsanaBadRequest(message, status=status)
    if status == 0 or status >= 500:
        return AsanaUnavailable(message, status=status or None)
    return AsanaError(message, status=status)
