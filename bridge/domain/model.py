"""The bridge's own records: links, webhook registrations, inbox events, tracked tasks and caches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, NewType

TeamId = NewType("TeamId", str)
ChannelId = NewType("ChannelId", str)
SlackUserId = NewType("SlackUserId", str)
MessageTs = NewType("MessageTs", str)
ProjectGid = NewType("ProjectGid", str)
TaskGid = NewType("TaskGid", str)
AsanaUserGid = NewType("AsanaUserGid", str)
WorkspaceGid = NewType("WorkspaceGid", str)


class CaptureMode(StrEnum):
    OFF = "off"
    ALL = "all"
    REACTION = "reaction"


@dataclass(frozen=True)
class Link:
    """A Slack channel linked to one Asana project ("one project per channel")."""

    team_id: TeamId
    channel_id: ChannelId
    project_gid: ProjectGid
    project_name: str
    workspace_gid: WorkspaceGid
    created_by: SlackUserId
    created_at: datetime
    triage_section_gid: str | None = None
    priority_field_gid: str | None = None
    capture_mode: CaptureMode = CaptureMode.OFF
    relay_kinds: frozenset[str] | None = None  # which kinds of change are told in threads; None: every kind
    quiet: bool = False  # only keep the task's root message up to date


class WebhookStatus(StrEnum):
    PENDING = "pending"  # created locally, handshake expected: the only state that accepts X-Hook-Secret
    ACTIVE = "active"  # handshake done, secret stored: deliveries must carry a valid X-Hook-Signature
    FAILED = "failed"  # registration did not complete


@dataclass(frozen=True)
class WebhookRegistration:
    """One Asana webhook per linked project; `hook_key` is the last path segment of its target URL."""

    hook_key: str
    team_id: TeamId
    channel_id: ChannelId
    project_gid: ProjectGid
    status: WebhookStatus
    created_at: datetime
    webhook_gid: str | None = None
    secret: str | None = field(default=None, repr=False)
    # Asana's last_failure_at that the linked channels were last told about (one alert per failing streak).
    failure_alerted_at: datetime | None = None


class InboxSource(StrEnum):
    WEBHOOK = "webhook"
    EVENTS_API = "events_api"


@dataclass(frozen=True)
class InboxEvent:
    """An Asana event accepted for processing; `dedupe_key` makes a resend or a second source harmless."""

    dedupe_key: str
    source: InboxSource
    project_gid: ProjectGid
    resource_gid: str
    resource_type: str
    action: str
    payload: dict[str, Any]
    received_at: datetime
    task_gid: str | None = None  # the task it is about (a comment's task), so a burst is claimed as one


@dataclass(frozen=True)
class Delivery:
    """A signed webhook delivery kept whole, as Asana sent it, until the inbox worker unpacks it into events.

    Keeping the body is all a delivery costs before its 200: the events, their keys and their rows are made later,
    many deliveries at a time."""

    project_gid: ProjectGid
    body: bytes
    events: int  # how many events the body holds (checked when it arrived)
    received_at: datetime


@dataclass(frozen=True)
class Unpacked:
    """What one round moved from kept deliveries into the inbox."""

    deliveries: int = 0
    events: int = 0
    added: int = 0  # events not seen before (the rest were resends, or came by the Events API first)
    parked: int = 0  # deliveries whose events could not be read, kept aside with the reason


class InboxState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"


@dataclass(frozen=True)
class Holder:
    """The replica that claims work: alive while it has heartbeated within `alive_within`. Work held by a replica
    that has not is taken over at once, whatever its lease says."""

    replica_id: str
    alive_within: timedelta


@dataclass(frozen=True)
class ClaimedEvent:
    """An inbox row claimed by one worker until `lease_until`; its id is needed to finish or park it."""

    id: int
    event: InboxEvent
    attempts: int
    lease_until: datetime


@dataclass(frozen=True)
class TrackedTask:
    """An Asana task the bridge follows, with the Slack thread it lives in and its last-seen snapshot."""

    task_gid: TaskGid
    project_gid: ProjectGid
    team_id: TeamId
    channel_id: ChannelId
    thread_ts: MessageTs
    permalink_url: str
    name: str
    created_at: datetime
    updated_at: datetime
    snapshot: dict[str, Any] = field(default_factory=dict)
    requester: SlackUserId | None = None
    completed: bool = False
    ack_subtask_gid: TaskGid | None = None  # the "Acknowledge" subtask, when the link tracks first responses
    first_response_at: datetime | None = None
    first_responder: SlackUserId | None = None
    parent_gid: TaskGid | None = None  # a subtask, told in its parent's thread (thread_ts is the parent's)


@dataclass(frozen=True)
class TaskToJudge:
    """A tracked task whose nag moment has come, as of the revision read (arming it again names that revision)."""

    task: TrackedTask
    revision: int
    check_at: datetime


@dataclass(frozen=True)
class Arm:
    """When to judge a task next (None: not unless it changes), unless it was saved since `revision` was read."""

    task_gid: TaskGid
    revision: int
    at: datetime | None


@dataclass(frozen=True)
class PendingCommand:
    """A /task that was acked and is not finished yet, kept so that a crash (during an Asana outage the bridge retries
    for many minutes) does not lose it. `request_key` is Slack's trigger_id, which is also written into the task's
    notes: whoever finishes it finds a task already made instead of making another."""

    request_key: str
    team_id: TeamId
    channel_id: ChannelId
    requester: SlackUserId
    title: str
    notes: str
    assignee: SlackUserId | None
    due: date | None
    priority: str | None
    created_at: datetime


@dataclass(frozen=True)
class Capture:
    """A Slack message turned into a task: (team, channel, message ts) is unique, so it happens once."""

    team_id: TeamId
    channel_id: ChannelId
    message_ts: MessageTs
    task_gid: TaskGid | None
    created_at: datetime


@dataclass(frozen=True)
class CommentLink:
    """A Slack thread reply mirrored as an Asana comment, so that edits and deletes can follow it."""

    team_id: TeamId
    channel_id: ChannelId
    message_ts: MessageTs
    task_gid: TaskGid
    story_gid: str
    created_at: datetime


@dataclass(frozen=True)
class UserMapping:
    """Slack user → Asana user, found by email and cached until `fetched_at` + the cache's lifetime."""

    team_id: TeamId
    slack_user_id: SlackUserId
    email: str | None
    asana_user_gid: AsanaUserGid | None
    fetched_at: datetime


@dataclass(frozen=True)
class SyncToken:
    """The Events API sync token of one Asana resource (project)."""

    resource_gid: str
    token: str
    updated_at: datetime


@dataclass(frozen=True)
class UserSettings:
    """What a person chose in the App Home."""

    team_id: TeamId
    slack_user_id: SlackUserId
    asana_user_gid: AsanaUserGid | None
    updated_at: datetime
    assignment_dms: bool = False  # a DM when a task is assigned to them in Asana


class NagKey(NamedTuple):
    """A nag is sent at most once per (task, kind, stage, period). A tuple: a tick looks up thousands of these in
    the set of nags already sent, and a tuple hashes in C."""

    task_gid: TaskGid
    kind: str
    stage: str
    period: str


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"


@dataclass(frozen=True)
class OutboxPost:
    """A Slack post recorded before it is sent; `post_key` travels in the message metadata for recovery."""

    post_key: str
    team_id: TeamId
    channel_id: ChannelId
    thread_ts: MessageTs | None
    payload: dict[str, Any]
    state: OutboxState
    created_at: datetime
    message_ts: MessageTs | None = None
    sender: str | None = None  # the replica sending it (a Holder's replica_id); None: not known


@dataclass(frozen=True)
class RoutedTask:
    """A task the bridge assigned by routing (or tried to): who holds it since when, and who had it before.

    `assignee` is None while nobody in the pool is eligible. Once a person assigns the task themselves (`manual`)
    routing leaves it alone; once it is completed the row is `closed`.
    """

    task_gid: TaskGid
    project_gid: ProjectGid
    assigned_at: datetime
    assignee: str | None = None  # an email from the pool
    assignee_gid: AsanaUserGid | None = None
    holders: tuple[str, ...] = ()  # everyone routing gave it to, oldest first (the current assignee last)
    pinged_at: datetime | None = None  # the assignee was asked to act on it or hand it back
    ping_ts: MessageTs | None = None
    told_nobody: bool = False  # the triager heard that nobody was eligible
    # What is still to be said about the latest routing (thread line, Asana comment, followers to add); None once
    # it was said. Kept so that a tick cut short by a failure finishes the telling instead of losing it.
    announcement: dict[str, Any] | None = None
    manual: bool = False
    closed: bool = False
