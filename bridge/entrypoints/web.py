"""The one aiohttp application: Slack (through Bolt), Asana webhooks, the report, health and metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bridge.entrypoints.asana_webhooks import AsanaWebhookReceiver
from bridge.entrypoints.health import Health
from bridge.entrypoints.report import ReportPages
from bridge.metrics import Metrics

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_web_app(
    *,
    bolt: AsyncApp,
    signing_secret: str | None,
    receiver: AsanaWebhookReceiver,
    health: Health,
    metrics: Metrics,
    report: ReportPages,
) -> web.Application:
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def slack_events(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        # Check the signature (and its 5-minute window) before anything parses the body: Bolt parses first
        # and answers 500 to a malformed unsigned body (reference/slack.md gotcha 13).
        if verifier is None or not verifier.is_valid(
            body,
            request.headers.get("X-Slack-Request-Timestamp", ""),
            request.headers.get("X-Slack-Signature", ""),
        ):
            return web.json_response({"error": "invalid request"}, status=401)
        if not _parses(body, request.content_type):
            return web.json_response({"error": "malformed body"}, status=400)
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    @web.middleware
    async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            metrics.http_requests.labels(route, str(exc.status)).inc()
            raise
        metrics.http_requests.labels(route, str(response.status)).inc()
        return response

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[count_requests])
    app.add_routes(
        [
            web.post("/slack/events", slack_events),
            web.post("/asana/webhooks/{hook_key}", receiver.handle),
            web.get("/healthz", health.healthz),
            web.get("/metrics", health.metrics),
            *report.routes(),
        ]
    )
    return app


def _parses(body: str, content_type: str) -> bool:
    """Whether a signed Slack body is one of the shapes Slack sends: JSON, or a form (maybe with JSON payload=)."""
    try:
        if content_type == "application/json":
            return isinstance(json.loads(body), dict)
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return bool(form)
    except ValueError:
        return False
