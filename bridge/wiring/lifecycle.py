"""The built bridge and its life: check the tokens, learn who it is in Asana, start the loops and Socket Mode, drain."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bridge.adapters.slack_api import SlackGateway
from bridge.adapters.slack_calls import AUTH_ERRORS as SLACK_AUTH_ERRORS
from bridge.config import ConfigError, Settings
from bridge.entrypoints.background import Background
from bridge.entrypoints.loop_lag import LoopLagProbe
from bridge.entrypoints.workers import EventsPoller, NagScheduler
from bridge.errors import AsanaError, AsanaForbidden, SlackError
from bridge.metrics import Metrics
from bridge.ports import Clock
from bridge.services.capture import Capture
from bridge.services.links import Links
from bridge.services.reports import Reports
from bridge.services.webhooks import WebhookReconciler
from bridge.wiring.adapters import HEARTBEAT_SECONDS, Adapters, AsanaClient, BridgeStore, Identity
from bridge.wiring.services import Services
from bridge.wiring.workers import MEMORY_TRIM_SECONDS, Workers

log = logging.getLogger(__name__)

# How often the capture sweeper looks for work left by a dead replica (two small reads when there is none).
SWEEP_SECONDS = 4.0

# How long start-up waits for users/me before serving anyway (Slack and webhook deliveries must not wait on Asana).
IDENTITY_TIMEOUT_SECONDS = 10.0

# What apps.connections.open answers to an app-level token that cannot work: an operator's mistake, not an outage.
APP_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "token_expired", "account_inactive"}
)


@dataclass
class Bridge:
    """The built bridge: serve `web_app`, then `start()`; `close()` drains and releases everything."""

    settings: Settings
    adapters: Adapters
    services: Services
    bolt: AsyncApp
    web_app: web.Application
    workers: Workers
    background: Background
    _socket_mode: Any = None  # AsyncSocketModeHandler, whose methods are untyped
    _identity_task: asyncio.Task[None] | None = None

    # The pieces tests and the demo reach for.
    @property
    def store(self) -> BridgeStore:
        return self.adapters.store

    @property
    def asana(self) -> AsanaClient:
        return self.adapters.asana

    @property
    def slack(self) -> SlackGateway:
        return self.adapters.slack

    @property
    def clock(self) -> Clock:
        return self.adapters.clock

    @property
    def metrics(self) -> Metrics:
        return self.adapters.metrics

    @property
    def identity(self) -> Identity:
        return self.adapters.identity

    @property
    def links(self) -> Links:
        return self.services.links

    @property
    def capture(self) -> Capture:
        return self.services.capture

    @property
    def reports(self) -> Reports:
        return self.services.reports

    @property
    def reconciler(self) -> WebhookReconciler:
        return self.services.reconciler

    @property
    def poller(self) -> EventsPoller:
        return self.workers.poller

    @property
    def nag_scheduler(self) -> NagScheduler:
        return self.workers.nag_scheduler

    @property
    def loop_lag(self) -> LoopLagProbe:
        return self.workers.loop_lag

    async def start(self) -> None:
        """Check both tokens, learn the bridge's Asana identity and, in Socket Mode, connect to Slack.

        A refused token (Slack's or Asana's) stops the start with one line naming its variable, both at once when
        both are refused; an outage does not: deliveries are still accepted into the inbox, the Asana identity is
        learned once Asana answers again, and a Slack outage shows in /healthz until a call works.
        """
        outcomes = await asyncio.gather(self._check_slack_token(), self._check_asana_token(), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, ConfigError):
                raise outcome
        refused = [problem for outcome in outcomes if isinstance(outcome, ConfigError) for problem in outcome.problems]
        if refused:
            raise ConfigError(*refused)
        workers = self.workers
        workers.loop_lag.start()
        # Its first beat (before any claim) makes this replica known and sets its share of the quota.
        await workers.heartbeat.start(every=HEARTBEAT_SECONDS)
        workers.poller.start(time.monotonic, interval=min(1.0, self.settings.events_poll_seconds))
        workers.inbox_worker.start()
        workers.sweeper.start(every=SWEEP_SECONDS)
        workers.retention.start(every=3600.0)
        workers.reconcile_loop.start(time.monotonic, every=self.settings.reconcile_seconds)
        workers.nag_scheduler.start(every=self.settings.tick_seconds)
        workers.memory_trim.start(every=MEMORY_TRIM_SECONDS)
        if self.settings.slack_app_token is not None:
            await self._connect_socket_mode(self.settings.slack_app_token.reveal())

    async def _check_asana_token(self) -> None:
        try:
            await asyncio.wait_for(self._learn_identity(), timeout=IDENTITY_TIMEOUT_SECONDS)
        except AsanaForbidden:
            raise ConfigError("ASANA_ACCESS_TOKEN: Asana refused it (users/me answered 401/403)") from None
        except (AsanaError, TimeoutError) as exc:
            log.warning("Asana is not answering at start (%s); retrying in the background", exc or "timeout")
            self._identity_task = asyncio.get_running_loop().create_task(self._learn_identity_later())

    async def _check_slack_token(self) -> None:
        """auth.test once at start (single-workspace installs; an OAuth install's tokens are checked as they serve)."""
        if self.settings.slack_bot_token is None:
            return
        try:
            await asyncio.wait_for(self.slack.auth_test(), timeout=IDENTITY_TIMEOUT_SECONDS)
        except SlackError as exc:
            if exc.code in SLACK_AUTH_ERRORS:
                raise ConfigError(
                    f"SLACK_BOT_TOKEN: Slack refused it ({exc.code}); copy the Bot User OAuth Token "
                    "from the app's OAuth & Permissions page"
                ) from None
            log.error("Slack auth.test failed at start (%s); /healthz reports it until a call works", exc)
        except TimeoutError:
            log.error("Slack auth.test did not answer at start; /healthz reports it until a call works")

    async def _learn_identity(self) -> None:
        me = await self.asana.me()
        if self.identity.workspace_gid is None:
            if len(me.workspace_gids) != 1:
                raise ConfigError(
                    f"ASANA_WORKSPACE_GID: the Asana user {me.name!r} is in {len(me.workspace_gids)} workspaces; "
                    "set ASANA_WORKSPACE_GID to the one the bridge serves"
                )
            self.identity.workspace_gid = me.workspace_gids[0]
        self.identity.user_gid = me.gid

    async def _learn_identity_later(self, every: float = 30.0) -> None:
        while self.identity.user_gid is None:
            await asyncio.sleep(every)
            try:
                await self._learn_identity()
            except AsanaError as exc:
                log.warning("Asana still not answering (%s)", exc)
            except ConfigError as exc:
                log.error("%s", exc)  # found only now; the operator must fix it, the bridge keeps serving
                return

    async def _connect_socket_mode(self, app_token: str) -> None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        # Open the first link ourselves: slack_sdk's connect() retries every failure forever, so a mistyped or
        # revoked app token would hang start-up (and SIGTERM) instead of failing it with a clear message.
        try:
            opened = await self.bolt.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in APP_TOKEN_ERRORS:
                raise ConfigError(f"SLACK_APP_TOKEN: Slack refused it ({error})") from None
            raise
        # The handler builds an aiohttp session in its constructor, so it must be made inside the loop.
        self._socket_mode = AsyncSocketModeHandler(self.bolt, app_token)
        self._socket_mode.client.wss_uri = opened["url"]  # connect() uses this link instead of asking again
        await self._socket_mode.connect_async()  # not start_async(): that never returns

    async def close(self, *, grace: float = 10.0) -> None:
        """Graceful shutdown: finish in-flight work, then release connections."""
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        if self._identity_task is not None:
            self._identity_task.cancel()
        workers = self.workers
        await workers.poller.stop()
        await workers.reconcile_loop.stop()
        await workers.nag_scheduler.stop()
        await workers.inbox_worker.stop()
        await workers.sweeper.stop()
        await workers.retention.stop()
        await self.background.drain(grace)
        await workers.heartbeat.stop()
        await workers.loop_lag.stop()
        await workers.memory_trim.stop()
        for closer in reversed(self.adapters.closers):
            result = closer()
            if isinstance(result, Awaitable):
                await result
