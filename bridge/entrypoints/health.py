"""GET /healthz (is this replica able to work, and if not, why) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bridge.domain.model import WebhookStatus
from bridge.entrypoints.asana_webhooks import HANDSHAKE_WINDOW
from bridge.metrics import Metrics
from bridge.ports import Clock, DatabaseHealth, InboxStats, LinkReads, WebhookStore

log = logging.getLogger(__name__)
FAILURES_SHOWN_FOR = timedelta(hours=24)  # Asana deletes a webhook failing that long; reconcile makes a new one

# An inbox event older than this means the worker is stuck or far behind.
LAGGING_AFTER_SECONDS = 300.0


class Health:
    """Degraded states still answer 200 (a load balancer must not take away the replica that can tell why);
    only an unreachable database, which no request can be served without, answers 503 "down"."""

    def __init__(
        self,
        *,
        database: DatabaseHealth,
        inbox: InboxStats,
        links: LinkReads,
        webhooks: WebhookStore,
        clock: Clock,
        metrics: Metrics,
        slack_auth_error: Callable[[], str | None] = lambda: None,
        webhooks_expected: bool = False,
    ) -> None:
        self._database = database
        self._inbox_stats = inbox
        self._links = links
        self._registrations = webhooks
        self._clock = clock
        self._metrics = metrics
        self._slack_auth_error = slack_auth_error
        self._webhooks_expected = webhooks_expected  # a public URL is set: every linked project should have one

    async def healthz(self, request: web.Request) -> web.Response:
        checks: dict[str, object] = {}
        problems: list[str] = []
        try:
            await self._database.ping()
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
        slack_error = self._slack_auth_error()
        checks["slack"] = "ok" if slack_error is None else f"auth failing: {slack_error}"
        if slack_error is not None:
            problems.append(f"slack auth failing: {slack_error}")
        if self._webhooks_expected:
            webhook_problems = await self._webhooks()
            checks["webhooks"] = "ok" if not webhook_problems else f"{len(webhook_problems)} problem(s)"
            problems.extend(webhook_problems)
        self._metrics.health_problems.set(len(problems))
        return web.json_response({"status": "degraded" if problems else "ok", "checks": checks, "problems": problems})

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            await self._inbox()
        except Exception as exc:  # metrics must still render when the database is away
            log.warning("metrics: inbox figures unavailable: %s", type(exc).__name__)
        return web.Response(body=generate_latest(self._metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _webhooks(self) -> list[str]:
        """A linked project whose webhook failed, or that has no active one (a registration still inside its
        handshake window is on its way). Deliveries are then missed until the reconcile job re-creates it."""
        hooks = await self._registrations.list_webhooks()
        now = self._clock.now()
        problems = []
        for project in sorted({link.project_gid for link in await self._links.list_links()}):
            mine = [h for h in hooks if h.project_gid == project]
            if any(h.status is WebhookStatus.ACTIVE for h in mine):
                continue
            if any(h.status is WebhookStatus.PENDING and now - h.created_at < HANDSHAKE_WINDOW for h in mine):
                continue
            failed = any(h.status is WebhookStatus.FAILED for h in mine)
            problems.append(f"webhook {'failed' if failed else 'missing'} for project {project}")
        for hook in hooks:
            # Asana told of failed deliveries (the linked channels heard one line; the log has Asana's detail).
            if hook.failure_alerted_at is not None and now - hook.failure_alerted_at < FAILURES_SHOWN_FOR:
                problems.append(
                    f"webhook deliveries failing for project {hook.project_gid} (Asana's last failure at "
                    f"{hook.failure_alerted_at.isoformat()}; the log has its detail; the Events API fills the gap)"
                )
        return problems

    async def _inbox(self) -> tuple[dict[str, int], float]:
        counts = await self._inbox_stats.inbox_counts()
        oldest = await self._inbox_stats.oldest_pending_at()
        lag = (self._clock.now() - oldest).total_seconds() if oldest else 0.0
        for state, count in counts.items():
            self._metrics.inbox.labels(state).set(count)
        self._metrics.inbox_lag.set(lag)
        self._metrics.parked.set(counts.get("parked", 0))
        return counts, lag
