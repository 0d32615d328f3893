"""The one aiohttp application: Slack (through Bolt), Asana webhooks, the report, health and metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import Counter
from slack_bolt.async_app import AsyncApp

from bridge.entrypoints.asana_connect import AsanaConnectPage
from bridge.entrypoints.asana_webhooks import AsanaWebhookReceiver
from bridge.entrypoints.guard import MAX_BODY_BYTES, guard
from bridge.entrypoints.health import Health
from bridge.entrypoints.report import ReportPages
from bridge.entrypoints.slack_http import SlackEndpoint, install_error_handler
from bridge.entrypoints.slack_oauth import install_routes
from bridge.metrics import Metrics

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_web_app(
    *,
    bolt: AsyncApp,
    signing_secret: str | None,
    receiver: AsanaWebhookReceiver,
    health: Health,
    metrics: Metrics,
    report: ReportPages,
    asana_connect: AsanaConnectPage | None = None,
) -> web.Application:
    slack = SlackEndpoint(bolt=bolt, signing_secret=signing_secret)
    install_error_handler(bolt)

    counters: dict[tuple[str, int], Counter] = {}  # (route, status) → its counter: label lookups once each

    def count(route: str, status: int) -> None:
        counter = counters.get((route, status))
        if counter is None:
            counter = counters[(route, status)] = metrics.http_requests.labels(route, str(status))
        counter.inc()

    @web.middleware
    async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            count(route, exc.status)
            raise
        count(route, response.status)
        return response

    # The guard runs inside the count, so that its own answers (413, 500) are counted too.
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[count_requests, guard])
    app.add_routes(
        [
            web.post("/slack/events", slack.handle),
            web.post("/asana/webhooks/{hook_key}", receiver.handle),
            web.get("/healthz", health.healthz),
            web.get("/metrics", health.metrics),
            *report.routes(),
        ]
    )
    if asana_connect is not None:
        app.add_routes(asana_connect.routes())  # people connecting their own Asana account
    if bolt.oauth_flow is not None:
        app.add_routes(install_routes(bolt.oauth_flow))  # multi-workspace: /slack/install, /slack/oauth_redirect
    return app
