"""The composition root: the one place that builds every concrete piece from Settings (tests override any)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.adapters.asana_api import AsanaGateway
from bridge.adapters.asana_oauth import AsanaOAuth
from bridge.adapters.clock import SystemClock
from bridge.adapters.errors import AsanaError, AsanaForbidden, SlackError
from bridge.adapters.limits import SharedChannelPacer
from bridge.adapters.malloc import give_back
from bridge.adapters.slack_api import AUTH_ERRORS as SLACK_AUTH_ERRORS
from bridge.adapters.slack_api import RepeatableServerErrorRetryHandler, SlackGateway
from bridge.adapters.slack_installations import SqlInstallationStore, WorkspaceTokens, oauth_state_store
from bridge.adapters.store.crypto import Cipher
from bridge.adapters.store.sql_store import SqlStore
from bridge.config import ConfigError, Settings
from bridge.domain.identity import OWN_WRITE_WINDOW
from bridge.domain.model import Holder
from bridge.entrypoints import slack as slack_listeners
from bridge.entrypoints import slack_install
from bridge.entrypoints.asana_connect import AsanaConnectPage
from bridge.entrypoints.asana_webhooks import AsanaWebhookReceiver, DeliveryPace
from bridge.entrypoints.background import Background
from bridge.entrypoints.health import Health
from bridge.entrypoints.inbox_worker import InboxRetention, InboxWorker
from bridge.entrypoints.loop_lag import LoopLagProbe
from bridge.entrypoints.periodic import Every
from bridge.entrypoints.report import ReportPages
from bridge.entrypoints.slack_oauth import cached_authorize, oauth_settings
from bridge.entrypoints.web import build_web_app
from bridge.entrypoints.workers import (
    CaptureSweeper,
    EventsPoller,
    NagScheduler,
    ReplicaHeartbeat,
    WebhookReconcileLoop,
)
from bridge.metrics import Metrics
from bridge.ports import Clock, IdentityStore, Store
from bridge.services.access import Access
from bridge.services.answers import AnswerIndex
from bridge.services.capture import Capture, Captured, CaptureRequest
from bridge.services.cards import Cards
from bridge.services.home import Home
from bridge.services.identity import Identities
from bridge.services.links import Links
from bridge.services.nag_actions import NagActions
from bridge.services.nags import Nagger
from bridge.services.people import People
from bridge.services.pool import Pool
from bridge.services.presence import Presence
from bridge.services.relay import Relay
from bridge.services.reports import Reports
from bridge.services.routing import Router
from bridge.services.suggest import Suggestions
from bridge.services.threads import Threads
from bridge.services.undo import Undo
from bridge.services.unfurls import Unfurls
from bridge.services.webhooks import WebhookReconciler, WebhookRegistrar

log = logging.getLogger(__name__)

# How often each replica says it is alive. A replica silent for REPLICA_DEAD_AFTER is taken for dead: the others
# take over its claimed work (and its share of the Asana quota). Three beats, so one slow write is not a death;
# short, so that a kill -9 (or a restart of the only process) costs seconds of silence, not a lease.
HEARTBEAT_SECONDS = 2.0
REPLICA_DEAD_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)
# How often the capture sweeper looks for work left by a dead replica (two small reads when there is none).
SWEEP_SECONDS = 4.0
MEMORY_TRIM_SECONDS = 60.0

# How long start-up waits for users/me before serving anyway (Slack and webhook deliveries must not wait on Asana).
IDENTITY_TIMEOUT_SECONDS = 10.0


def _not_token_skipped(record: logging.LogRecord) -> bool:
    return record.getMessage() != "As you gave `client` as well, `token` will be unused."


# What apps.connections.open answers to an app-level token that cannot work: an operator's mistake, not an outage.
APP_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "token_expired", "account_inactive"}
)


async def _give_back_memory() -> None:
    started = time.perf_counter()
    given = give_back()
    log.debug(
        "malloc_trim: %s in %.1f ms",
        "pages given back" if given else "nothing to give",
        (time.perf_counter() - started) * 1000,
    )


@dataclass
class Identity:
    """Who the bridge is in Asana, learned from users/me at start (the workspace may come from settings)."""

    workspace_gid: str | None = None
    user_gid: str | None = None


@dataclass
class Bridge:
    settings: Settings
    store: Store
    asana: AsanaGateway
    slack: SlackGateway
    bolt: AsyncApp
    web_app: web.Application
    metrics: Metrics
    background: Background
    clock: Clock
    links: Links
    reports: Reports
    capture: Capture
    identity: Identity
    poller: EventsPoller
    inbox_worker: InboxWorker
    sweeper: CaptureSweeper
    retention: InboxRetention
    heartbeat: ReplicaHeartbeat
    reconciler: WebhookReconciler
    reconcile_loop: WebhookReconcileLoop
    nag_scheduler: NagScheduler
    loop_lag: LoopLagProbe
    # Native memory the threads freed goes back to the system once a minute (bridge.adapters.malloc says why).
    memory_trim: Every = field(default_factory=lambda: Every("memory-trim", _give_back_memory))
    _closers: list[Any] = field(default_factory=list)
    _socket_mode: Any = None  # AsyncSocketModeHandler, whose methods are untyped
    _identity_task: asyncio.Task[None] | None = None

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
        self.loop_lag.start()
        # Its first beat (before any claim) makes this replica known and sets its share of the quota.
        await self.heartbeat.start(every=HEARTBEAT_SECONDS)
        self.poller.start(time.monotonic, interval=min(1.0, self.settings.events_poll_seconds))
        self.inbox_worker.start()
        self.sweeper.start(every=SWEEP_SECONDS)
        self.retention.start(every=3600.0)
        self.reconcile_loop.start(time.monotonic, every=self.settings.reconcile_seconds)
        self.nag_scheduler.start(every=self.settings.tick_seconds)
        self.memory_trim.start(every=MEMORY_TRIM_SECONDS)
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
        await self.poller.stop()
        await self.reconcile_loop.stop()
        await self.nag_scheduler.stop()
        await self.inbox_worker.stop()
        await self.sweeper.stop()
        await self.retention.stop()
        await self.background.drain(grace)
        await self.heartbeat.stop()
        await self.loop_lag.stop()
        await self.memory_trim.stop()
        for closer in reversed(self._closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result


async def build(
    settings: Settings,
    *,
    store: Store | None = None,
    asana: AsanaGateway | None = None,
    slack_client: AsyncWebClient | None = None,
    clock: Clock | None = None,
    slack_post_interval: float = 1.0,
    retry_delays: tuple[float, ...] | None = None,
) -> Bridge:
    if settings.slack_bot_token is None and not settings.oauth:
        raise ConfigError("SLACK_BOT_TOKEN: required unless SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set")
    closers: list[Any] = []
    metrics = Metrics()
    pace = DeliveryPace()  # webhook deliveries kept, as the inbox worker sees them
    clock = clock or SystemClock()
    holder = Holder(secrets.token_hex(8), alive_within=REPLICA_DEAD_AFTER)  # this replica, as its claims name it
    cipher = Cipher(settings.encryption_key.reveal()) if settings.encryption_key else None
    if store is None:
        sql_store = await SqlStore.connect(settings.database_url, cipher=cipher)
        closers.append(sql_store.close)
        store = sql_store
    installations: SqlInstallationStore | None = None
    if settings.oauth:
        assert settings.slack_client_id is not None
        if settings.slack_bot_token is not None:
            log.warning("SLACK_BOT_TOKEN is not used: SLACK_CLIENT_ID is set, so each workspace's token is installed")
        # slack_sdk's stores share the bridge's database (and engine); the migrations made their tables.
        engine: AsyncEngine = store.engine  # type: ignore[attr-defined]
        installations = SqlInstallationStore(client_id=settings.slack_client_id, engine=engine, cipher=cipher)
    if asana is None:
        asana = AsanaGateway(
            base_url=settings.asana_api_url,
            token=settings.asana_access_token.reveal(),
            requests_per_minute=settings.asana_requests_per_minute,
            timeout_seconds=settings.asana_timeout_seconds,
            metrics=metrics,
        )
        closers.append(asana.close)
    if slack_client is None:
        session = aiohttp.ClientSession()  # one shared session; without it slack_sdk opens one per call
        closers.append(session.close)
        slack_client = AsyncWebClient(
            # OAuth: no token of its own; each workspace's comes from the installation store.
            token=settings.slack_bot_token.reveal() if settings.slack_bot_token and not settings.oauth else None,
            base_url=settings.slack_api_url,
            session=session,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                RepeatableServerErrorRetryHandler(max_retry_count=2),
            ],
        )
    # Replicas on PostgreSQL share each channel's pace through the database; one SQLite process paces in memory.
    pacer = None
    if isinstance(store, SqlStore) and store.engine.dialect.name == "postgresql":
        pacer = SharedChannelPacer(store.reserve_post_slot, slack_post_interval)
    slack = SlackGateway(
        slack_client,
        metrics=metrics,
        post_interval=slack_post_interval,
        pacer=pacer,
        tokens=WorkspaceTokens(installations) if installations is not None else None,
    )
    identity = Identity(workspace_gid=settings.asana_workspace_gid)
    # Bolt gets its client, token and signing secret explicitly so it never reads the environment.
    # Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client, then warns at every start that
    # it will not use it; the client (built from Settings) is the one source of the token.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_not_token_skipped)
    bolt = AsyncApp(
        client=slack_client,
        signing_secret=settings.slack_signing_secret.reveal() if settings.slack_signing_secret else "",
        name="slack-asana-bridge",
        # Every request reaches Bolt through entrypoints/slack_http.py, which checks the signature on the raw bytes
        # first (and Socket Mode has none): Bolt checking it again was 2-3 % of an ack.
        request_verification_enabled=False,
        raise_error_for_unhandled_request=True,  # answered 200 and logged by entrypoints/slack_http.py
        **(_oauth(settings, installations, oauth_state_store(engine), slack_client) if installations else {}),
    )
    background = Background()
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    cards = Cards(store=store, slack=slack, people=people, clock=clock, policy=settings.policy)
    links = Links(
        store=store,
        asana=asana,
        clock=clock,
        policy=settings.policy,
        webhook_target=settings.webhook_target,
        workspace_gid=lambda: identity.workspace_gid,
    )
    identity_store = cast(IdentityStore, store)  # the SQL store keeps people's Asana connections too
    identities = build_identities(
        settings,
        identity_store,
        asana,
        slack,
        clock,
        workspace_gid=lambda: identity.workspace_gid,
        bridge_user=lambda: identity.user_gid,
    )
    acting_for = identities.for_person if identities.configured else None
    # The index of resolved work lives in the SQL store, on its engine's own full-text search.
    assert isinstance(store, SqlStore), "the bridge's store is a SqlStore"
    answers = AnswerIndex(store=store, asana=asana, slack=slack, clock=clock)
    suggestions = Suggestions(
        store=store,
        asana=asana,
        slack=slack,
        clock=clock,
        policy=settings.policy,
        asker_of=lambda team, user, link: people.asana_user(team, user, link.workspace_gid),
        engine=store.engine.dialect.name,
        access=Access(asana=asana),
        cards=cards,
    )

    async def suggest_soon(captured: Captured, request: CaptureRequest) -> None:
        # Beside the capture, not in its way: the capture ends (and forgets its /task) without waiting on the search.
        background.spawn(suggestions.for_capture(captured, request), name=f"suggest {captured.task.gid}")

    capture = Capture(
        store=store,
        asana=asana,
        slack=slack,
        people=people,
        clock=clock,
        policy=settings.policy,
        cards=cards,
        holder=holder,
        acting_for=acting_for,
        after_capture=suggest_soon,
    )
    threads = Threads(
        store=store, asana=asana, slack=slack, clock=clock, people=people, acting_for=acting_for, answers=answers
    )
    reconciler = WebhookReconciler(
        store=store,
        asana=asana,
        slack=slack,
        clock=clock,
        registrar=WebhookRegistrar(store=store, asana=asana, clock=clock, webhook_target=settings.webhook_target),
        workspace_gid=lambda: identity.workspace_gid,
    )
    # One view of people's hours and absences (and their caches) for routing and nags.
    presence = Presence(slack=slack, pool=Pool(store=store, asana=asana, slack=slack))
    router = Router(
        store=store,
        asana=asana,
        slack=slack,
        people=people,
        clock=clock,
        policy=settings.policy,
        presence=presence,
        cards=cards,
    )
    reports = Reports(
        store=store,
        slack=slack,
        clock=clock,
        policy=settings.policy,
        base_url=settings.base_url,
        secret=settings.report_secret.reveal() if settings.report_secret else None,
        operator_token=settings.report_token.reveal() if settings.report_token else None,
        deflections=store,
    )
    unfurls = Unfurls(
        asana=asana,
        slack=slack,
        people=people,
        policy=settings.policy,
        workspace_gid=lambda: identity.workspace_gid,
        store=store,
        acting_for=acting_for,
    )
    # First: the team a request acts for is known before any listener runs, and uninstall beats the quiet no-op.
    slack_install.register(
        bolt,
        links=links,
        background=background,
        installations=installations,
        forget_team=slack.forget_team,
        forget_people=identities.forget_workspace,
    )
    slack_listeners.register(
        bolt,
        slack_listeners.Listeners(
            links=links,
            capture=capture,
            threads=threads,
            store=store,
            slack=slack,
            clock=clock,
            policy=settings.policy,
            background=background,
            unfurls=unfurls,
            home=Home(
                store=store,
                slack=slack,
                people=people,
                clock=clock,
                policy=settings.policy,
                workspace_gid=lambda: identity.workspace_gid,
                identities=identities,
            ),
            nag_actions=NagActions(
                store=store,
                asana=asana,
                slack=slack,
                people=people,
                clock=clock,
                policy=settings.policy,
                cards=cards,
                acting_for=acting_for,
            ),
            router=router,
            reports=reports,
            undo=Undo(store=store, asana=asana, slack=slack, clock=clock),
            identities=identities,
            suggestions=suggestions,
            answers=answers,
            **({"retry_delays": retry_delays} if retry_delays is not None else {}),
        ),
    )
    web_app = build_web_app(
        bolt=bolt,
        signing_secret=settings.slack_signing_secret.reveal() if settings.slack_signing_secret else None,
        receiver=AsanaWebhookReceiver(store=store, clock=clock, metrics=metrics, pace=pace),
        health=Health(
            store=store,
            clock=clock,
            metrics=metrics,
            slack_auth_error=lambda: slack.auth_error,
            webhooks_expected=settings.public_url is not None,
        ),
        metrics=metrics,
        report=ReportPages(reports),
        asana_connect=AsanaConnectPage(identities) if identities.configured else None,
    )
    return Bridge(
        settings=settings,
        store=store,
        asana=asana,
        slack=slack,
        bolt=bolt,
        web_app=web_app,
        metrics=metrics,
        background=background,
        clock=clock,
        links=links,
        reports=reports,
        capture=capture,
        identity=identity,
        poller=EventsPoller(
            store=store,
            asana=asana,
            clock=clock,
            fast_seconds=settings.events_poll_seconds,
            slow_seconds=settings.events_poll_seconds * 10,
            reconcile_seconds=settings.reconcile_seconds,
        ),
        inbox_worker=InboxWorker(
            store=store,
            relay=Relay(
                store=store,
                asana=asana,
                slack=slack,
                clock=clock,
                bridge_user=lambda: identity.user_gid,
                policy=settings.policy,
                cards=cards,
                people=people,
                # A post recorded by a worker whose claim has not run out may still be on its way.
                in_flight_for=timedelta(seconds=2 * settings.inbox_lease_seconds),
                holder=holder,
                own_writes=(
                    (lambda task: identity_store.own_writes_of(task, since=clock.now() - OWN_WRITE_WINDOW))
                    if identities.configured
                    else None
                ),
                answers=answers,
            ),
            clock=clock,
            window=settings.relay_window_seconds,
            lease_seconds=settings.inbox_lease_seconds,
            metrics=metrics,
            pace=pace,
            holder=holder,
        ),
        reconciler=reconciler,
        reconcile_loop=WebhookReconcileLoop(reconciler),
        nag_scheduler=NagScheduler(
            Nagger(
                store=store,
                asana=asana,
                slack=slack,
                clock=clock,
                policy=settings.policy,
                on_sent=lambda kind: metrics.nags_sent.labels(kind).inc(),
                presence=presence,
                people=people,
            ),
            router,
        ),
        # Longer than a capture's own retries (about 16 minutes), so the two never work on one message at once.
        sweeper=CaptureSweeper(store=store, capture=capture, clock=clock, after=timedelta(minutes=20), holder=holder),
        retention=InboxRetention(store=store, clock=clock, keep=timedelta(days=settings.inbox_retention_days)),
        heartbeat=ReplicaHeartbeat(
            store=store,
            clock=clock,
            limiter=asana.limiter,
            holder=holder,
            on_share=lambda per_minute: metrics.asana_quota.set(per_minute),
        ),
        loop_lag=LoopLagProbe(metrics=metrics),
        _closers=closers,
    )


def build_identities(
    settings: Settings,
    store: IdentityStore,
    asana: AsanaGateway,
    slack: SlackGateway,
    clock: Clock,
    *,
    workspace_gid: Callable[[], str | None],
    bridge_user: Callable[[], str | None],
) -> Identities:
    """People acting as themselves in Asana when an Asana OAuth app is configured (else all act as the bridge);
    each replica builds its own on its own store connection."""
    oauth = None
    if settings.asana_client_id is not None and settings.asana_client_secret is not None:
        oauth = AsanaOAuth(
            api_url=settings.asana_api_url,
            client_id=settings.asana_client_id,
            client_secret=settings.asana_client_secret.reveal(),
            redirect_uri=settings.asana_oauth_redirect,
        )
    return Identities(
        store=store,
        oauth=oauth,
        asana=asana,
        slack=slack,
        clock=clock,
        policy=settings.policy,
        workspace_gid=workspace_gid,
        bridge_user=bridge_user,
    )


def _oauth(
    settings: Settings,
    installations: SqlInstallationStore,
    states: AsyncSQLAlchemyOAuthStateStore,
    client: AsyncWebClient,
) -> dict[str, Any]:
    """Bolt's arguments for the multi-workspace install: the OAuth flow, and authorize with its cache on."""
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    secret = settings.slack_client_secret.reveal()
    return {
        "oauth_settings": oauth_settings(
            client_id=settings.slack_client_id,
            client_secret=secret,
            api_url=settings.slack_api_url,
            public_url=settings.public_url,
            installations=installations,
            states=states,
        ),
        "authorize": cached_authorize(
            client_id=settings.slack_client_id, client_secret=secret, installations=installations, client=client
        ),
    }
