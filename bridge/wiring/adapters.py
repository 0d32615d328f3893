"""The outbound pieces built from Settings: the store, the Asana and Slack gateways, metrics, clock and this replica."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.adapters.asana_api import AsanaGateway
from bridge.adapters.clock import SystemClock
from bridge.adapters.limits import SharedChannelPacer
from bridge.adapters.slack_api import SlackGateway
from bridge.adapters.slack_calls import RepeatableServerErrorRetryHandler
from bridge.adapters.slack_installations import SqlInstallationStore, WorkspaceTokens
from bridge.adapters.store.crypto import Cipher
from bridge.adapters.store.sql_store import SqlStore
from bridge.config import Settings
from bridge.domain.model import Holder
from bridge.entrypoints.workers import QuotaShare
from bridge.metrics import Metrics
from bridge.ports import AnswerStore, BridgeAsana, Clock, IdentityStore, Store
from bridge.services.answers import IndexAsana

log = logging.getLogger(__name__)

# How often each replica says it is alive. A replica silent for REPLICA_DEAD_AFTER is taken for dead: the others
# take over its claimed work (and its share of the Asana quota). Three beats, so one slow write is not a death;
# short, so that a kill -9 (or a restart of the only process) costs seconds of silence, not a lease.
HEARTBEAT_SECONDS = 2.0
REPLICA_DEAD_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)


class BridgeStore(Store, IdentityStore, AnswerStore, Protocol):
    """The store as the composition root uses it (SqlStore is the one): every port, and the SQL engine it runs on,
    which slack_sdk's installation and OAuth-state stores share and whose dialect picks the search and the pacing."""

    @property
    def engine(self) -> AsyncEngine: ...

    async def reserve_post_slot(self, channel: str, interval: float) -> float:
        """A channel's next free post slot, shared by the replicas on PostgreSQL (seconds to wait for it)."""
        ...


class AsanaClient(BridgeAsana, IndexAsana, Protocol):
    """The Asana gateway as the composition root uses it (AsanaGateway is the one): the ports, and the quota the
    replicas share."""

    @property
    def limiter(self) -> QuotaShare: ...


@dataclass
class Identity:
    """Who the bridge is in Asana, learned from users/me at start (the workspace may come from settings)."""

    workspace_gid: str | None = None
    user_gid: str | None = None


@dataclass
class Adapters:
    """The outbound pieces every builder after this one takes, and what the bridge closes when it stops."""

    store: BridgeStore
    asana: AsanaClient
    slack: SlackGateway
    slack_client: AsyncWebClient  # Bolt's client too: the SDK's, not a port
    installations: SqlInstallationStore | None  # each workspace's token, when the app is installed by OAuth
    metrics: Metrics
    clock: Clock
    holder: Holder  # this replica, as its claims name it
    identity: Identity
    closers: list[Callable[[], object]] = field(default_factory=list)  # in the order they were opened; some async


async def build_adapters(
    settings: Settings,
    *,
    store: BridgeStore | None = None,
    asana: AsanaClient | None = None,
    slack_client: AsyncWebClient | None = None,
    clock: Clock | None = None,
    slack_post_interval: float = 1.0,
) -> Adapters:
    """Each piece from Settings unless a test passed its own (whose closing is then the test's)."""
    closers: list[Callable[[], object]] = []
    metrics = Metrics()
    cipher = Cipher(settings.encryption_key.reveal()) if settings.encryption_key else None
    if store is None:
        sql_store = await SqlStore.connect(settings.database_url, cipher=cipher)
        closers.append(sql_store.close)
        store = sql_store
    installations = _installations(settings, store.engine, cipher)
    if asana is None:
        gateway = _asana(settings, metrics)
        closers.append(gateway.close)
        asana = gateway
    if slack_client is None:
        session = aiohttp.ClientSession()  # one shared session; without it slack_sdk opens one per call
        closers.append(session.close)
        slack_client = _slack_client(settings, session)
    return Adapters(
        store=store,
        asana=asana,
        slack=_slack(store, slack_client, metrics, installations, slack_post_interval),
        slack_client=slack_client,
        installations=installations,
        metrics=metrics,
        clock=clock or SystemClock(),
        holder=Holder(secrets.token_hex(8), alive_within=REPLICA_DEAD_AFTER),
        identity=Identity(workspace_gid=settings.asana_workspace_gid),
        closers=closers,
    )


def _installations(settings: Settings, engine: AsyncEngine, cipher: Cipher | None) -> SqlInstallationStore | None:
    if not settings.oauth:
        return None
    assert settings.slack_client_id is not None
    if settings.slack_bot_token is not None:
        log.warning("SLACK_BOT_TOKEN is not used: SLACK_CLIENT_ID is set, so each workspace's token is installed")
    # slack_sdk's stores share the bridge's database (and engine); the migrations made their tables.
    return SqlInstallationStore(client_id=settings.slack_client_id, engine=engine, cipher=cipher)


def _asana(settings: Settings, metrics: Metrics) -> AsanaGateway:
    return AsanaGateway(
        base_url=settings.asana_api_url,
        token=settings.asana_access_token.reveal(),
        requests_per_minute=settings.asana_requests_per_minute,
        timeout_seconds=settings.asana_timeout_seconds,
        metrics=metrics,
    )


def _slack_client(settings: Settings, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(
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


def _slack(
    store: BridgeStore,
    client: AsyncWebClient,
    metrics: Metrics,
    installations: SqlInstallationStore | None,
    post_interval: float,
) -> SlackGateway:
    # Replicas on PostgreSQL share each channel's pace through the database; one SQLite process paces in memory.
    pacer = None
    if store.engine.dialect.name == "postgresql":
        pacer = SharedChannelPacer(store.reserve_post_slot, post_interval)
    return SlackGateway(
        client,
        metrics=metrics,
        post_interval=post_interval,
        pacer=pacer,
        tokens=WorkspaceTokens(installations) if installations is not None else None,
    )
