"""Small recording fakes of the ports (issue 21): what a service decided is read from what they recorded.

Each store fake implements one protocol of bridge/ports.py over a dict; `FakeStore` is all of them at once, the
way the one SQL store is. `FakeAsana` keeps tasks as Asana's JSON and records every call in `calls`; `FakeSlack`
records posts, updates and ephemerals. A method no unit test needs yet raises, so that a test never passes on
a silent default.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bridge.domain.access import Privacy, ProjectAccess
from bridge.domain.model import (
    Arm,
    AsanaUserGid,
    Capture,
    ChannelId,
    CommentLink,
    Holder,
    Link,
    MessageTs,
    NagKey,
    OutboxPost,
    OutboxState,
    PendingCommand,
    ProjectGid,
    RoutedTask,
    SlackUserId,
    TaskGid,
    TaskToJudge,
    TeamId,
    TrackedTask,
    UserMapping,
    WebhookRegistration,
    WebhookStatus,
    WorkspaceGid,
)
from bridge.domain.nag_clicks import CLICKED_COPY, PostedNag
from bridge.domain.nag_moments import ARM_AT_ONCE
from bridge.domain.work import AsanaUser, CustomField, EventsPage, Project, Section, Story, Task, TaskDraft, Webhook
from bridge.errors import AsanaNotFound
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
    TaskStore,
    UserMappings,
    WebhookStore,
)

START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # a Monday, 9:00 in New York


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


# --- the store, one protocol at a time --------------------------------------------------------------------------------


@dataclass
class FakeLinks:
    links: dict[tuple[TeamId, ChannelId], Link] = field(default_factory=dict)

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None:
        return self.links.get((team_id, channel_id))

    async def links_for_project(self, project_gid: ProjectGid) -> list[Link]:
        return [link for link in self.links.values() if link.project_gid == project_gid]

    async def list_links(self) -> list[Link]:
        return list(self.links.values())

    async def save_link(self, link: Link) -> None:
        self.links[(link.team_id, link.channel_id)] = link

    async def delete_link(self, team_id: TeamId, channel_id: ChannelId) -> bool:
        return self.links.pop((team_id, channel_id), None) is not None


@dataclass
class FakeWebhooks:
    webhooks: dict[str, WebhookRegistration] = field(default_factory=dict)

    async def save_webhook(self, registration: WebhookRegistration) -> None:
        self.webhooks[registration.hook_key] = registration

    async def get_webhook(self, hook_key: str) -> WebhookRegistration | None:
        return self.webhooks.get(hook_key)

    async def webhooks_for_project(self, project_gid: ProjectGid) -> list[WebhookRegistration]:
        return [w for w in self.webhooks.values() if w.project_gid == project_gid]

    async def list_webhooks(self) -> list[WebhookRegistration]:
        return list(self.webhooks.values())

    async def complete_handshake(self, hook_key: str, secret: str) -> bool:
        found = self.webhooks.get(hook_key)
        if found is None or found.status is not WebhookStatus.PENDING or found.secret is not None:
            return False
        self.webhooks[hook_key] = replace(found, secret=secret)
        return True

    async def delete_webhook(self, hook_key: str) -> bool:
        return self.webhooks.pop(hook_key, None) is not None

    async def mark_webhook_alerted(self, hook_key: str, failure_at: datetime) -> bool:
        found = self.webhooks.get(hook_key)
        if found is None:
            return False
        self.webhooks[hook_key] = replace(found, failure_alerted_at=failure_at)
        return True


@dataclass
class FakeInboxStats:
    inbox: dict[str, int] = field(default_factory=dict)

    async def inbox_counts(self) -> dict[str, int]:
        return dict(self.inbox)

    async def oldest_pending_at(self) -> datetime | None:
        return None


@dataclass
class FakeTasks:
    """The tracked tasks, and the nag scheduler's index on them (NagIndex): a save arms a task at once."""

    tasks: dict[TaskGid, TrackedTask] = field(default_factory=dict)
    moments: dict[TaskGid, tuple[int, datetime | None]] = field(default_factory=dict)  # revision, next moment
    fingerprints: dict[tuple[str, str], str] = field(default_factory=dict)

    def _arm_at_once(self, task_gid: TaskGid) -> None:
        revision = self.moments.get(task_gid, (0, None))[0]
        self.moments[task_gid] = (revision + 1, ARM_AT_ONCE)

    async def save_tracked_task(self, task: TrackedTask) -> None:
        self.tasks[task.task_gid] = task
        self._arm_at_once(task.task_gid)

    async def add_tracked_tasks(self, tasks: Sequence[TrackedTask]) -> None:
        for task in tasks:
            if task.task_gid not in self.tasks:
                self.tasks[task.task_gid] = task
                self._arm_at_once(task.task_gid)

    async def tasks_to_judge(
        self, *, now: datetime, after: tuple[datetime, str] | None = None, limit: int = 200
    ) -> list[TaskToJudge]:
        due = sorted(
            (at, gid, revision)
            for gid, (revision, at) in self.moments.items()
            if at is not None and at <= now and gid in self.tasks and not self.tasks[gid].completed
        )
        return [
            TaskToJudge(self.tasks[gid], revision, at)
            for at, gid, revision in due
            if after is None or (at, gid) > after
        ][:limit]

    async def arm_tasks(self, arms: Sequence[Arm]) -> None:
        for arm in arms:
            if self.moments.get(arm.task_gid, (0, None))[0] == arm.revision:
                self.moments[arm.task_gid] = (arm.revision, arm.at)

    async def nag_fingerprints(self) -> dict[tuple[str, str], str]:
        return dict(self.fingerprints)

    async def rearm_link(self, project_gid: str, channel_id: str, fingerprint: str | None) -> None:
        for task in self.tasks.values():
            if (task.project_gid, task.channel_id) == (project_gid, channel_id) and not task.completed:
                self._arm_at_once(task.task_gid)
        if fingerprint is None:
            self.fingerprints.pop((project_gid, channel_id), None)
        else:
            self.fingerprints[(project_gid, channel_id)] = fingerprint

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None:
        return self.tasks.get(task_gid)

    async def forget_tracked_task(self, task_gid: TaskGid) -> None:
        self.tasks.pop(task_gid, None)

    async def tracked_task_by_thread(
        self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs
    ) -> TrackedTask | None:
        return next(
            (
                t
                for t in self.tasks.values()
                if (t.team_id, t.channel_id, t.thread_ts) == (team_id, channel_id, thread_ts) and t.parent_gid is None
            ),
            None,
        )

    async def tracked_tasks(
        self,
        *,
        project_gid: ProjectGid | None = None,
        open_only: bool = False,
        changed_since: datetime | None = None,
    ) -> list[TrackedTask]:
        return [
            t
            for t in sorted(self.tasks.values(), key=lambda t: t.created_at)
            if (project_gid is None or t.project_gid == project_gid)
            and not (open_only and t.completed)
            and (changed_since is None or t.updated_at >= changed_since)
        ]

    async def tracked_task_pages(self, *, open_only: bool = False, size: int = 500) -> AsyncIterator[list[TrackedTask]]:
        every = await self.tracked_tasks(open_only=open_only)
        for start in range(0, len(every), size):
            yield every[start : start + size]

    async def tracked_tasks_of(self, task_gids: Collection[TaskGid]) -> list[TrackedTask]:
        return [self.tasks[gid] for gid in task_gids if gid in self.tasks]

    async def record_first_response(self, task_gid: TaskGid, *, at: datetime, responder: SlackUserId | None) -> bool:
        task = self.tasks.get(task_gid)
        if task is None or task.first_response_at is not None:
            return False
        self.tasks[task_gid] = replace(task, first_response_at=at, first_responder=responder)
        self._arm_at_once(task_gid)  # the SLA warning is off now
        return True


@dataclass
class FakeComments:
    comment_links: dict[tuple[TeamId, ChannelId, MessageTs], CommentLink] = field(default_factory=dict)

    async def save_comment_link(self, link: CommentLink) -> None:
        self.comment_links[(link.team_id, link.channel_id, link.message_ts)] = link

    async def get_comment_link(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs
    ) -> CommentLink | None:
        return self.comment_links.get((team_id, channel_id, message_ts))

    async def is_bridge_comment(self, story_gid: str) -> bool:
        return any(link.story_gid == story_gid for link in self.comment_links.values())

    async def delete_comment_link(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        self.comment_links.pop((team_id, channel_id, message_ts), None)


@dataclass
class FakeCaptures:
    captures: dict[tuple[TeamId, ChannelId, MessageTs], Capture] = field(default_factory=dict)
    commands: dict[str, PendingCommand] = field(default_factory=dict)

    async def claim_capture(self, capture: Capture) -> bool:
        key = (capture.team_id, capture.channel_id, capture.message_ts)
        if key in self.captures:
            return False
        self.captures[key] = capture
        return True

    async def set_capture_task(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs, task_gid: TaskGid
    ) -> None:
        key = (team_id, channel_id, message_ts)
        self.captures[key] = replace(self.captures[key], task_gid=task_gid)

    async def get_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> Capture | None:
        return self.captures.get((team_id, channel_id, message_ts))

    async def keep_command(self, command: PendingCommand, *, held_until: datetime, held_by: str | None = None) -> None:
        self.commands[command.request_key] = command

    async def take_stale_commands(
        self, *, now: datetime, hold_until: datetime, limit: int, holder: Holder | None = None
    ) -> list[PendingCommand]:
        raise NotImplementedError("no unit test takes stale commands yet")

    async def forget_command(self, request_key: str) -> None:
        self.commands.pop(request_key, None)

    async def unfinished_captures(self, *, before: datetime, limit: int) -> list[Capture]:
        return [c for c in self.captures.values() if c.task_gid is None and c.created_at < before][:limit]

    async def release_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        self.captures.pop((team_id, channel_id, message_ts), None)


@dataclass
class FakeMappings:
    mappings: dict[tuple[TeamId, SlackUserId], UserMapping] = field(default_factory=dict)
    dm_subscribers: dict[tuple[TeamId, AsanaUserGid], list[SlackUserId]] = field(default_factory=dict)

    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None:
        return self.mappings.get((team_id, slack_user_id))

    async def save_user_mapping(self, mapping: UserMapping) -> None:
        self.mappings[(mapping.team_id, mapping.slack_user_id)] = mapping

    async def slack_user_for(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> SlackUserId | None:
        known = (m for m in self.mappings.values() if (m.team_id, m.asana_user_gid) == (team_id, asana_user_gid))
        return next((m.slack_user_id for m in known), None)

    async def assignment_dm_subscribers(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> list[SlackUserId]:
        return list(self.dm_subscribers.get((team_id, asana_user_gid), []))


@dataclass
class FakeNagLog:
    nags: dict[tuple[TaskGid, MessageTs | None, NagKey], PostedNag] = field(default_factory=dict)

    async def record_nag(self, key: NagKey, *, now: datetime, message_ts: MessageTs | None = None) -> bool:
        if any(k == key for _, _, k in self.nags):
            return False
        self.nags[(TaskGid(key.task_gid), message_ts, key)] = PostedNag(key, now, message_ts)
        return True

    async def sent_nags(self, task_gids: Collection[TaskGid]) -> set[NagKey]:
        return {key for gid, _, key in self.nags if gid in task_gids}

    async def posted_nag(self, task_gid: TaskGid, message_ts: MessageTs) -> PostedNag | None:
        return next((nag for (gid, ts, _), nag in self.nags.items() if (gid, ts) == (task_gid, message_ts)), None)

    async def claim_nag(
        self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId, outcome: str, now: datetime
    ) -> str | None:
        found = next(((k, n) for k, n in self.nags.items() if k[:2] == (task_gid, message_ts)), None)
        if found is None:  # a DM copy: a row of its own
            key = NagKey(task_gid, CLICKED_COPY, "", message_ts)
            found = ((task_gid, message_ts, key), PostedNag(key, now, message_ts))
        row, nag = found
        if nag.acted_by is not None:
            return nag.outcome
        self.nags[row] = replace(nag, acted_at=now, acted_by=by, outcome=outcome)
        return None

    async def release_nag(self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId) -> None:
        for row, nag in self.nags.items():
            if row[:2] == (task_gid, message_ts) and nag.acted_by == by:
                self.nags[row] = replace(nag, acted_at=None, acted_by=None, outcome=None)


@dataclass
class FakeOutbox:
    outbox: dict[str, OutboxPost] = field(default_factory=dict)
    alive: set[str] = field(default_factory=set)  # replica ids that heartbeat

    async def replica_alive(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> bool:
        return replica_id in self.alive

    async def add_outbox_post(self, post: OutboxPost) -> bool:
        if post.post_key in self.outbox:
            return False
        self.outbox[post.post_key] = post
        return True

    async def mark_outbox_sent(self, post_key: str, message_ts: MessageTs) -> None:
        self.outbox[post_key] = replace(self.outbox[post_key], state=OutboxState.SENT, message_ts=message_ts)

    async def take_outbox_post(self, previous: OutboxPost, *, sender: str | None, now: datetime) -> bool:
        if self.outbox.get(previous.post_key) != previous:
            return False
        self.outbox[previous.post_key] = replace(previous, sender=sender, created_at=now)
        return True

    async def pending_outbox_posts(self, *, limit: int) -> list[OutboxPost]:
        return [p for p in self.outbox.values() if p.state is OutboxState.PENDING][:limit]

    async def get_outbox_post(self, post_key: str) -> OutboxPost | None:
        return self.outbox.get(post_key)


@dataclass
class FakeRouting:
    routings: dict[TaskGid, RoutedTask] = field(default_factory=dict)
    routed_counts: dict[ProjectGid, dict[str, int]] = field(default_factory=dict)
    latest: dict[ProjectGid, str] = field(default_factory=dict)

    async def claim_routing(self, routed: RoutedTask) -> bool:
        if routed.task_gid in self.routings:
            return False
        self.routings[routed.task_gid] = routed
        return True

    async def save_routing(self, routed: RoutedTask) -> None:
        self.routings[routed.task_gid] = routed

    async def get_routing(self, task_gid: TaskGid) -> RoutedTask | None:
        return self.routings.get(task_gid)

    async def open_routings(self) -> list[RoutedTask]:
        return [r for r in self.routings.values() if not r.closed]

    async def count_routing(self, project_gid: ProjectGid, email: str, *, at: datetime) -> None:
        counts = self.routed_counts.setdefault(project_gid, {})
        counts[email] = counts.get(email, 0) + 1
        self.latest[project_gid] = email

    async def routing_counts(self, project_gid: ProjectGid) -> tuple[dict[str, int], str | None]:
        return dict(self.routed_counts.get(project_gid, {})), self.latest.get(project_gid)


@dataclass
class FakeLeadership:
    leader: bool = True

    async def lead(self, role: str) -> bool:
        return self.leader


@dataclass
class FakeStore(
    FakeLinks,
    FakeWebhooks,
    FakeInboxStats,
    FakeTasks,
    FakeComments,
    FakeCaptures,
    FakeMappings,
    FakeNagLog,
    FakeOutbox,
    FakeRouting,
    FakeLeadership,
):
    """Every store fake at once, as the one SQL store is (each keeps its own dicts)."""


# --- Slack ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    ts: MessageTs
    metadata: dict[str, Any] | None = None
    team: str | None = None  # the workspace it was posted in (FakeSlack.for_team)


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None = None
    timezone: str | None = "America/New_York"


class FakeSlack:
    """Records what the bridge says, and in which workspace (`acted_for`: each call's method and team, from the view
    `for_team` gave; None when called on the unbound fake); knows the people and channel members it is given."""

    def __init__(self, people: Mapping[str, Person] | None = None, members: dict[str, set[str]] | None = None) -> None:
        self.people = dict(people or {})
        self.members = members or {}
        self.posts: list[Post] = []
        self.updates: list[Post] = []
        self.ephemerals: list[tuple[str, str, str]] = []  # channel, user, text
        self.deleted: list[tuple[str, str]] = []
        self.views: list[dict[str, Any]] = []
        self.unfurls: list[tuple[str, str, dict[str, Any]]] = []  # channel, message ts, previews by URL
        self.failures: list[Exception] = []  # what the next post_message calls raise, in order
        self.looked_up: list[str] = []  # the emails asked about with user_by_email, in order
        self.acted_for: list[tuple[str, str | None]] = []  # (method, team) of every call, in order
        self.team: str | None = None
        self._ts = itertools.count(1)

    def for_team(self, team_id: str) -> FakeSlack:
        """A view acting for one workspace: it shares every record with this fake (a shallow copy)."""
        view = copy.copy(self)
        view.team = team_id
        return view

    def teams(self, method: str) -> list[str | None]:
        """The workspace each call of `method` acted for, in order."""
        return [team for name, team in self.acted_for if name == method]

    def _acting(self, method: str) -> None:
        self.acted_for.append((method, self.team))

    def said(self, channel: str | None = None) -> list[str]:
        """The text of every post (in one channel), in order."""
        return [p.text for p in self.posts if channel is None or p.channel == channel]

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        unfurl_links: bool = False,
    ) -> MessageTs:
        self._acting("post_message")
        if self.failures:
            raise self.failures.pop(0)
        ts = MessageTs(f"1700000000.{next(self._ts):06d}")
        self.posts.append(Post(channel, text, blocks or [], thread_ts, ts, metadata, self.team))
        return ts

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        self._acting("update_message")
        self.updates.append(Post(channel, text, blocks or [], None, MessageTs(ts), team=self.team))

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None:
        self._acting("post_ephemeral")
        self.ephemerals.append((channel, user, text))

    async def delete_message(self, channel: str, ts: str) -> None:
        self._acting("delete_message")
        self.deleted.append((channel, ts))

    async def user_email(self, user_id: str) -> str | None:
        self._acting("user_email")
        person = self.people.get(user_id)
        return person.email if person else None

    async def user_name(self, user_id: str) -> str:
        self._acting("user_name")
        person = self.people.get(user_id)
        return person.name if person else user_id

    async def channel_name(self, channel: str) -> str:
        self._acting("channel_name")
        return channel.lstrip("#")

    async def user_by_email(self, email: str) -> str | None:
        self._acting("user_by_email")
        self.looked_up.append(email)
        return next((uid for uid, p in self.people.items() if p.email == email), None)

    async def user_timezone(self, user_id: str) -> str | None:
        self._acting("user_timezone")
        person = self.people.get(user_id)
        return person.timezone if person else None

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        self._acting("message")
        post = next((p for p in self.posts if (p.channel, p.ts) == (channel, ts)), None)
        return None if post is None else {"ts": post.ts, "text": post.text, "blocks": post.blocks}

    async def permalink(self, channel: str, ts: str) -> str:
        self._acting("permalink")
        return f"https://slack.example/archives/{channel}/p{ts.replace('.', '')}"

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        self._acting("open_view")
        self.views.append(view)
        return f"V{len(self.views)}"

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._acting("publish_home")
        self.views.append(view)

    async def unfurl(self, channel: str, ts: str, unfurls: dict[str, Any]) -> None:
        self._acting("unfurl")
        self.unfurls.append((channel, ts, unfurls))

    async def channel_members(self, channel: str) -> set[str]:
        self._acting("channel_members")
        return set(self.members.get(channel, set()))

    async def posts_by_key(self, channel: str, thread_ts: str) -> dict[str, str]:
        self._acting("posts_by_key")
        return {
            str(p.metadata["event_payload"]["key"]): p.ts
            for p in self.posts
            if p.channel == channel and p.thread_ts == thread_ts and p.metadata
        }

    async def recent_posts_by_key(self, channel: str, *, oldest: float) -> dict[str, str]:
        self._acting("recent_posts_by_key")
        return {
            str(p.metadata["event_payload"]["key"]): p.ts
            for p in self.posts
            if p.channel == channel and p.thread_ts is None and p.metadata
        }


# --- Asana ------------------------------------------------------------------------------------------------------------


def task_of(raw: dict[str, Any]) -> Task:
    """A task as the gateway reads Asana's JSON."""
    assignee = raw.get("assignee") or {}
    due = raw.get("due_on")
    return Task(
        gid=TaskGid(raw["gid"]),
        name=raw.get("name") or "",
        permalink_url=raw.get("permalink_url") or "",
        completed=bool(raw.get("completed")),
        assignee=AsanaUserGid(assignee["gid"]) if assignee.get("gid") else None,
        assignee_name=assignee.get("name"),
        due_on=date.fromisoformat(due) if due else None,
        notes=raw.get("notes") or "",
        project_gids=tuple(ProjectGid(p["gid"]) for p in raw.get("projects") or ()),
        raw=raw,
    )


class FakeAsana:
    """Asana as a few dicts of its JSON; every call is recorded in `calls` as (method, first argument…)."""

    def __init__(self, *, me: AsanaUser | None = None, users: Sequence[AsanaUser] = ()) -> None:
        self.me_user = me or AsanaUser(AsanaUserGid("1"), "Bridge", None, (WorkspaceGid("w1"),))
        self.users = {u.gid: u for u in users}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, Project] = {}
        self.sections: dict[str, list[Section]] = {}
        self.fields: dict[str, list[CustomField]] = {}
        self.stories: dict[str, Story] = {}
        self.comments: list[tuple[str, str]] = []  # task gid, text
        self.out: dict[str, list[tuple[date, date]]] = {}  # user gid → out-of-office spans
        self.access: dict[str, ProjectAccess] = {}  # who may change a project's tasks (none: private, no members)
        self.guests: set[str] = set()  # user gids that are guests of the workspace
        self.webhooks: list[Webhook] = []
        self.calls: list[tuple[Any, ...]] = []
        self.failures: dict[str, list[Exception]] = {}  # method → errors its next calls raise, in order
        self.lost_answers: dict[str, list[Exception]] = {}  # the same, raised after the call took effect
        # What Asana does inside create_webhook: the handshake POST to the target, with the secret it reports.
        self.handshake: Callable[[str, str], Awaitable[None]] | None = None
        self.handshake_secret: str | None = None  # what create_webhook reports; None: the one it sent
        self._gids = itertools.count(9000)

    def writes(self) -> list[tuple[Any, ...]]:
        """The calls that changed something in Asana."""
        reads = {"me", "user_by_email", "out_of_office", "project", "project_access", "is_guest", "task", "sections_of"}
        reads |= {"story", "custom_fields_of", "webhooks_of", "tasks_modified_since"}
        return [call for call in self.calls if call[0] not in reads]

    def add_task(self, gid: str, name: str, **raw: Any) -> dict[str, Any]:
        self.tasks[gid] = {"gid": gid, "name": name, "permalink_url": f"https://app.asana.com/0/0/{gid}", **raw}
        return self.tasks[gid]

    def _gid(self) -> str:
        return str(next(self._gids))

    def _call(self, call: tuple[Any, ...]) -> None:
        """Record a call, then raise the failure queued for that method, if any."""
        self.calls.append(call)
        queued = self.failures.get(call[0])
        if queued:
            raise queued.pop(0)

    async def me(self) -> AsanaUser:
        self._call(("me",))
        return self.me_user

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None:
        self._call(("user_by_email", email))
        # Asana's GET /users/{user} takes an email or a gid alike.
        return next((u for u in self.users.values() if email in (u.email, u.gid)), None)

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        self._call(("out_of_office", user_gid))
        return [(first, last) for first, last in self.out.get(user_gid, []) if first <= end and last >= start]

    async def project(self, project_gid: str) -> Project:
        self._call(("project", project_gid))
        if project_gid not in self.projects:
            raise AsanaNotFound(f"project {project_gid}", status=404)
        return self.projects[project_gid]

    async def project_access(self, project_gid: str) -> ProjectAccess:
        self._call(("project_access", project_gid))
        return self.access.get(project_gid) or ProjectAccess(Privacy.PRIVATE, frozenset())

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]:
        raise NotImplementedError("no unit test reads team members yet")

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool:
        self._call(("is_guest", user_gid))
        return user_gid in self.guests

    async def sections_of(self, project_gid: str) -> list[Section]:
        self._call(("sections_of", project_gid))
        return list(self.sections.get(project_gid, []))

    async def create_section(self, project_gid: str, name: str) -> Section:
        self._call(("create_section", project_gid, name))
        section = Section(self._gid(), name)
        self.sections.setdefault(project_gid, []).append(section)
        return section

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]:
        self._call(("custom_fields_of", project_gid))
        return list(self.fields.get(project_gid, []))

    async def create_task(self, draft: TaskDraft) -> Task:
        self._call(("create_task", draft))
        raw = self.add_task(
            self._gid(),
            draft.name,
            notes=re.sub(r"<[^>]+>", "", draft.html_notes) if draft.html_notes else draft.notes,
            projects=[{"gid": draft.project_gid}],
            assignee={"gid": draft.assignee} if draft.assignee else None,
            due_on=draft.due_on.isoformat() if draft.due_on else None,
            followers=[{"gid": g} for g in draft.followers],
            parent={"gid": draft.parent} if draft.parent else None,
        )
        lost = self.lost_answers.get("create_task")
        if lost:
            raise lost.pop(0)  # made in Asana, but its answer never arrived
        return task_of(raw)

    async def task(self, task_gid: str) -> Task:
        self._call(("task", task_gid))
        if task_gid not in self.tasks:
            raise AsanaNotFound(f"task {task_gid}", status=404)
        return task_of(self.tasks[task_gid])

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task:
        self._call(("create_subtask", parent, name))
        return task_of(self.add_task(self._gid(), name, parent={"gid": parent}))

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task:
        self._call(("update_task", task_gid, changes))
        raw = self.tasks.setdefault(task_gid, {"gid": task_gid, "name": ""})
        for name, value in changes.items():
            raw[name] = {"gid": value} if name == "assignee" and value else value
        return task_of(raw)

    async def delete_task(self, task_gid: str) -> None:
        self._call(("delete_task", task_gid))
        self.tasks.pop(task_gid, None)

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None:
        self._call(("add_to_project", task_gid, project_gid, section_gid))

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None:
        self._call(("add_followers", task_gid, tuple(users)))

    async def comment(self, task_gid: str, text: str) -> str:
        self._call(("comment", task_gid, text))
        self.comments.append((task_gid, text))
        return self._gid()

    async def story(self, story_gid: str) -> Story:
        self._call(("story", story_gid))
        return self.stories[story_gid]

    async def edit_comment(self, story_gid: str, text: str) -> None:
        self._call(("edit_comment", story_gid, text))

    async def delete_comment(self, story_gid: str) -> None:
        self._call(("delete_comment", story_gid))

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]:
        self._call(("tasks_modified_since", project_gid))
        return [task_of(raw) for raw in self.tasks.values() if {"gid": project_gid} in (raw.get("projects") or [])]

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        self._call(("create_webhook", resource_gid, target))
        gid = self._gid()
        secret = f"secret-{gid}"
        if self.handshake is not None:
            await self.handshake(target, secret)
        self.webhooks.append(Webhook(gid, resource_gid, target))
        return gid, self.handshake_secret or secret

    async def delete_webhook(self, webhook_gid: str) -> None:
        self._call(("delete_webhook", webhook_gid))
        self.webhooks = [w for w in self.webhooks if w.gid != webhook_gid]

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        self._call(("webhooks_of", workspace_gid))
        return [w for w in self.webhooks if resource_gid is None or w.resource_gid == resource_gid]

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        raise NotImplementedError("no unit test reads events yet")


def _conform(
    clock: FakeClock, slack: FakeSlack, asana: FakeAsana, store: FakeStore
) -> tuple[
    Clock,
    SlackPort,
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
    return clock, slack, asana, store, store, store, store, store, store, store, store, store, store, store


# --- builders ---------------------------------------------------------------------------------------------------------

TEAM, CHANNEL = TeamId("T1"), ChannelId("C1")
PROJECT = ProjectGid("100")
WORKSPACE = WorkspaceGid("w1")


def a_link(**changes: Any) -> Link:
    link = Link(TEAM, CHANNEL, PROJECT, "Developer Questions", WORKSPACE, SlackUserId("U0"), START, "s-triage", "f1")
    return replace(link, **changes)


def a_tracked_task(gid: str = "500", **changes: Any) -> TrackedTask:
    task = TrackedTask(
        task_gid=TaskGid(gid),
        project_gid=PROJECT,
        team_id=TEAM,
        channel_id=CHANNEL,
        thread_ts=MessageTs("1600000000.000100"),
        permalink_url=f"https://app.asana.com/0/0/{gid}",
        name="Webhook retries",
        created_at=START,
        updated_at=START,
    )
    return replace(task, **changes)
