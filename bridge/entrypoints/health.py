"""GET /healthz (is this replica able to work, and if not, why) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bridge.metrics import Metrics
from bridge.ports import Clock, Store

log = logging.getLogger(__name__)

# An inbox event older than this means the worker is stuck or far behind.
LAGGING_AFTER_SECONDS = 300.0


class Health:
    def __init__(self, *, store: Store, clock: Clock, metrics: Metrics) -> None:
        self._store = store
        self._clock = clock
        self._metrics = metrics

    async def healthz(self, request: web.Request) -> web.Response:
        checks: dict[str, object] = {}
        problems: list[str] = []
        try:
            await self._store.ping()
            checks["database"] = "ok"
        except Exception as exc:  # any failure to reach the database is the answer, not a crash
            log.warning("health: database unreachable: %s", type(exc).__name__)
            return web.json_response(
                {"status": "down", "checks": {"database": "unreachable"}, "problems": ["database unreachable"]},
                status=503,
            )
        counts, lag = await self._inbox()
        checks["inbox"] = {**counts, "lag_seconds": round(lag, 1)}
        if lag > LAGGING_AFTER_SECONDS:
            problems.append(f"inbox lagging by {lag:.0f}s")
        if counts.get("parked"):
            problems.append(f"{counts['parked']} parked events")
        return web.json_response({"status": "degraded" if problems else "ok", "checks": checks, "problems": problems})

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            await self._inbox()
        except Exception as exc:  # metrics must still render when the database is away
            log.warning("metrics: inbox figures unavailable: %s", type(exc).__name__)
        return web.Response(body=generate_latest(self._metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _inbox(self) -> tuple[dict[str, int], float]:
        counts = await self._store.inbox_counts()
        oldest = await self._store.oldest_pending_at()
        lag = (self._clock.now() - oldest).total_seconds() if oldest else 0.0
        for state, count in counts.items():
            self._metrics.inbox.labels(state).set(count)
        self._metrics.inbox_lag.set(lag)
        return counts, lag
