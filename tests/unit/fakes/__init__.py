"""Small recording fakes of the ports (issue 21): what a service decided is read from what they recorded.

One module per port: clock.py, asana.py, slack.py, and the store's protocols in tasks.py and stores.py, each fake
implementing one protocol of bridge/ports over a dict; `FakeStore` is all of them at once, the way the one SQL store
is. `FakeAsana` keeps tasks as Asana's JSON and records every call in `calls`; `FakeSlack` records posts, updates
and ephemerals, and the workspace each call acted for. A method no unit test needs yet raises, so that a test
never passes on a silent default. builders.py makes the usual link and tracked task; all are importable from here.
"""

from __future__ import annotations

from bridge.ports import (
    AsanaPort,
    CaptureStore,
    Clock,
    CommentStore,
    InboxStats,
    Leadership,
    LinkStore,
    NagLog,
    OutboxStore,
    RoutingStore,
    SlackPort,
    SlackTeams,
    TaskStore,
    UserMappings,
    WebhookStore,
)
from tests.unit.fakes.asana import FakeAsana, task_of
from tests.unit.fakes.builders import CHANNEL, PROJECT, TEAM, WORKSPACE, a_link, a_tracked_task
from tests.unit.fakes.clock import START, FakeClock
from tests.unit.fakes.slack import FakeSlack, Person, Post
from tests.unit.fakes.stores import (
    FakeInboxStats,
    FakeLeadership,
    FakeLinks,
    FakeMappings,
    FakeOutbox,
    FakeRouting,
    FakeStore,
    FakeWebhooks,
)
from tests.unit.fakes.tasks import FakeCaptures, FakeComments, FakeNagLog, FakeTasks

__all__ = [
    "CHANNEL",
    "PROJECT",
    "START",
    "TEAM",
    "WORKSPACE",
    "FakeAsana",
    "FakeCaptures",
    "FakeClock",
    "FakeComments",
    "FakeInboxStats",
    "FakeLeadership",
    "FakeLinks",
    "FakeMappings",
    "FakeNagLog",
    "FakeOutbox",
    "FakeRouting",
    "FakeSlack",
    "FakeStore",
    "FakeTasks",
    "FakeWebhooks",
    "Person",
    "Post",
    "a_link",
    "a_tracked_task",
    "task_of",
]


def _conform(
    clock: FakeClock, slack: FakeSlack, asana: FakeAsana, store: FakeStore
) -> tuple[
    Clock,
    SlackPort,
    SlackTeams,
    AsanaPort,
    LinkStore,
    WebhookStore,
    InboxStats,
    TaskStore,
    CommentStore,
    CaptureStore,
    UserMappings,
    NagLog,
    OutboxStore,
    RoutingStore,
    Leadership,
]:
    # mypy checks here that every fake satisfies its port, as sql_store.py checks the SQL store.
    return clock, slack, slack, asana, store, store, store, store, store, store, store, store, store, store, store
