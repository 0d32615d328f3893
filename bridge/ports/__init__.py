"""What the services need from the outside world, as Protocols that speak the bridge's own types: one module per
concern (store protocols by what they keep, Asana, Slack, identity, answers), all importable from here."""

from __future__ import annotations

from bridge.ports.answers import AnswerStore
from bridge.ports.asana import AsanaOAuthPort, AsanaPort, BridgeAsana, PersonalAsana
from bridge.ports.clock import Clock
from bridge.ports.delivery import Leadership, Liveness, OutboxStore, ReplicaStore, RoutingStore
from bridge.ports.identity import IdentityStore
from bridge.ports.inbox import InboxArrivals, InboxStats, InboxStore
from bridge.ports.links import LinkReads, LinkStore, SyncTokenStore, WebhookStore
from bridge.ports.nags import NagIndex, NagLog
from bridge.ports.people import UserMappings, UserSettingsStore
from bridge.ports.reports import ReportStore
from bridge.ports.slack import SlackPort, SlackTeams
from bridge.ports.store import DatabaseHealth, SecretStore, Store
from bridge.ports.tasks import CaptureStore, CommentStore, SlackEventLog, TaskStore

__all__ = [
    "AnswerStore",
    "AsanaOAuthPort",
    "AsanaPort",
    "BridgeAsana",
    "CaptureStore",
    "Clock",
    "CommentStore",
    "DatabaseHealth",
    "IdentityStore",
    "InboxArrivals",
    "InboxStats",
    "InboxStore",
    "Leadership",
    "LinkReads",
    "LinkStore",
    "Liveness",
    "NagIndex",
    "NagLog",
    "OutboxStore",
    "PersonalAsana",
    "ReplicaStore",
    "ReportStore",
    "RoutingStore",
    "SecretStore",
    "SlackEventLog",
    "SlackPort",
    "SlackTeams",
    "Store",
    "SyncTokenStore",
    "TaskStore",
    "UserMappings",
    "UserSettingsStore",
    "WebhookStore",
]
