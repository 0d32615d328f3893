"""Bolt listeners: ack at once, parse, hand the work to one service in the background, answer the person.

One middleware for every request, then the listener tables of the slack_* modules, in order."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.response import BoltResponse

from bridge.adapters.slack_respond import LastingRespond
from bridge.entrypoints import (
    slack_asana,
    slack_commands,
    slack_home,
    slack_identity,
    slack_messages,
    slack_nags,
    slack_routing,
    slack_shortcuts,
    slack_suggest,
    slack_unfurls,
)
from bridge.entrypoints.slack_listener import Listener, Listeners, attach

log = logging.getLogger(__name__)

# Bolt tries listeners in the order they were registered: /task first, the command people send most.
TABLES: tuple[tuple[Listener, ...], ...] = (
    slack_commands.LISTENERS,
    slack_asana.LISTENERS,
    slack_messages.LISTENERS,
    slack_shortcuts.LISTENERS,
    slack_unfurls.LISTENERS,
    slack_home.LISTENERS,
    slack_identity.LISTENERS,
    slack_nags.LISTENERS,
    slack_routing.LISTENERS,
    slack_suggest.LISTENERS,
)


class BeforeListeners(AsyncMiddleware):
    """The one middleware, for every request. A class, not a decorated function: Bolt builds every listener
    argument (ack, say, respond, …) for each function middleware it calls, a tenth of an ack's CPU."""

    def __init__(self, deps: Listeners) -> None:
        self._deps = deps

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        context = req.context
        if context.response_url:  # answers to the person are retried through Slack's failures (Bolt's are not)
            context["respond"] = LastingRespond(response_url=context.response_url, session=context.client.session)
        # Slack re-sends an event it thinks we missed with the same event_id: handle it once.
        event_id = req.body.get("event_id")
        events, clock = self._deps.slack_events, self._deps.clock
        if isinstance(event_id, str) and not await events.remember_slack_event(event_id, clock.now()):
            log.info("dropping repeated Slack event %s", event_id)
            return BoltResponse(status=200, body="")
        return await next()


def register(app: AsyncApp, deps: Listeners) -> None:
    """Attach every listener to the Bolt app."""
    app.use(BeforeListeners(deps))
    for table in TABLES:
        for listener in table:
            attach(app, listener, deps)
