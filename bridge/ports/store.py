"""Durable state: the store protocols together, as the one SQL store satisfies them, and its health and secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bridge.ports.delivery import Leadership, OutboxStore, ReplicaStore, RoutingStore
from bridge.ports.inbox import InboxStore
from bridge.ports.links import LinkStore, SyncTokenStore, WebhookStore
from bridge.ports.nags import NagIndex, NagLog
from bridge.ports.people import UserMappings, UserSettingsStore
from bridge.ports.reports import ReportStore
from bridge.ports.tasks import CaptureStore, CommentStore, SlackEventLog, TaskStore


class SecretStore(Protocol):
    """Server secrets made once and shared by every replica (the report links' signing key)."""

    async def server_secret(self, name: str, *, candidate: str | None, now: datetime) -> str | None:
        """The stored secret `name`; `candidate` becomes it when there is none yet (atomic: one value wins).
        Without a candidate, only a read: None when there is none."""
        ...

    async def replace_server_secret(self, name: str, value: str, *, now: datetime) -> None: ...


class DatabaseHealth(Protocol):
    """Whether the database answers."""

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...


class Store(
    LinkStore,
    WebhookStore,
    InboxStore,
    TaskStore,
    CommentStore,
    CaptureStore,
    SlackEventLog,
    UserMappings,
    UserSettingsStore,
    SyncTokenStore,
    NagLog,
    NagIndex,
    OutboxStore,
    RoutingStore,
    ReplicaStore,
    Leadership,
    ReportStore,
    SecretStore,
    DatabaseHealth,
    Protocol,
):
    """Durable state: the store protocols of this package, as the one SQL store satisfies them. Every method is one
    transaction; uniqueness is enforced by the database. Services take the few protocols they use, never this.
    """
