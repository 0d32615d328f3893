"""The other store fakes, one protocol each (links, webhooks, inbox counts, people, outbox, routing, leadership),
and FakeStore: every store fake at once, as the one SQL store is."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bridge.domain.model import (
    AsanaUserGid,
    ChannelId,
    Link,
    MessageTs,
    OutboxPost,
    OutboxState,
    ProjectGid,
    RoutedTask,
    SlackUserId,
    TaskGid,
    TeamId,
    UserMapping,
    WebhookRegistration,
    WebhookStatus,
)
from tests.unit.fakes.tasks import FakeCaptures, FakeComments, FakeNagLog, FakeTasks


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
