"""What the services need from the outside world, as Protocols that speak the bridge's own types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from bridge.domain.access import ProjectAccess
from bridge.domain.identity import Connection, Grant, OwnWrite, PendingConnect
from bridge.domain.model import (
    Arm,
    AsanaUserGid,
    Capture,
    ChannelId,
    ClaimedEvent,
    CommentLink,
    Delivery,
    Holder,
    InboxEvent,
    Link,
    MessageTs,
    NagKey,
    OutboxPost,
    PendingCommand,
    ProjectGid,
    RoutedTask,
    SlackUserId,
    SyncToken,
    TaskGid,
    TaskToJudge,
    TeamId,
    TrackedTask,
    Unpacked,
    UserMapping,
    UserSettings,
    WebhookRegistration,
    WorkspaceGid,
)
from bridge.domain.nag_clicks import PostedNag
from bridge.domain.report_tasks import StoredTask
from bridge.domain.suggest import Answer, Deflection, Match, Outcome, Scope
from bridge.domain.work import (
    AsanaUser,
    CustomField,
    EventsPage,
    Project,
    Section,
    Story,
    Task,
    TaskDraft,
    Webhook,
)

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware (UTC)."""
        ...


class LinkReads(Protocol):
    """The channel ⇄ project links, read (most services only read them)."""

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None: ...

    async def links_for_project(self, project_gid: ProjectGid) -> list[Link]: ...

    async def list_links(self) -> list[Link]: ...


class LinkStore(LinkReads, Protocol):
    """Links, also made and removed (`/asana link`, `unlink`, uninstall)."""

    async def save_link(self, link: Link) -> None:
        """Insert or replace the link of (team, channel)."""
        ...

    async def delete_link(self, team_id: TeamId, channel_id: ChannelId) -> bool: ...


class WebhookStore(Protocol):
    """Asana webhook registrations (secrets are stored, never logged)."""

    async def save_webhook(self, registration: WebhookRegistration) -> None:
        """Insert or replace by hook_key."""
        ...

    async def get_webhook(self, hook_key: str) -> WebhookRegistration | None: ...

    async def webhooks_for_project(self, project_gid: ProjectGid) -> list[WebhookRegistration]: ...

    async def list_webhooks(self) -> list[WebhookRegistration]: ...

    async def complete_handshake(self, hook_key: str, secret: str) -> bool:
        """Store the secret of a PENDING registration that has none yet; False if that is not the case.

        Atomic (compare-and-set), so a second handshake can never overwrite a stored secret.
        """
        ...

    async def delete_webhook(self, hook_key: str) -> bool: ...

    async def mark_webhook_alerted(self, hook_key: str, failure_at: datetime) -> bool:
        """Remember the delivery failure (Asana's last_failure_at) the channels were told about; False if gone."""
        ...


class InboxStats(Protocol):
    """How full the inbox is (status and health)."""

    async def inbox_counts(self) -> dict[str, int]:
        """Counts of events by state: pending, done, parked, and landed (in deliveries not unpacked yet)."""
        ...

    async def oldest_pending_at(self) -> datetime | None: ...


class InboxStore(InboxStats, Protocol):
    """Asana deliveries kept on arrival and the events the worker claims from them."""

    async def keep_delivery(self, delivery: Delivery) -> None:
        """Commit a checked webhook delivery whole; its events are made by `unpack_deliveries`."""
        ...

    async def unpack_deliveries(self, *, limit: int, events_of: Callable[[Delivery], Sequence[InboxEvent]]) -> Unpacked:
        """Up to `limit` kept deliveries, oldest first, into inbox events (new keys only) and out of the store, in one
        transaction; a delivery whose `events_of` raises is set aside with the reason (counted as parked)."""
        ...

    async def enqueue_events(self, events: Sequence[InboxEvent]) -> int:
        """Insert the events whose dedupe_key is new; return how many were inserted. One transaction."""
        ...

    async def claim_events(
        self,
        *,
        limit: int,
        now: datetime,
        lease_seconds: float,
        settle: timedelta = ...,
        holder: Holder | None = None,
    ) -> list[ClaimedEvent]:
        """Claim pending events (oldest first) whose lease is free or expired, bumping attempts; a task's events
        together, once its newest is `settle` old and none is leased or waiting for a retry. With a holder, the
        claim names it, and events held by a replica that stopped heartbeating are free whatever their lease.

        On PostgreSQL uses FOR UPDATE SKIP LOCKED so replicas never claim the same row.
        """
        ...

    async def extend_lease(self, ids: Sequence[int], *, held_until: datetime, until: datetime) -> bool:
        """Keep a claim longer; False if it is no longer ours (it ran out and another worker claimed the events)."""
        ...

    async def finish_events(self, ids: Sequence[int]) -> None: ...

    async def release_event(self, event_id: int, *, retry_at: datetime) -> None:
        """Give a claimed event back, not to be claimed again before retry_at."""
        ...

    async def park_event(self, event_id: int, reason: str) -> None: ...

    async def forget_finished_events(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` done events finished before `before` (oldest first); how many."""
        ...


class TaskStore(Protocol):
    """The tracked tasks: each Asana task the bridge follows, with its thread and last snapshot."""

    async def save_tracked_task(self, task: TrackedTask) -> None:
        """Insert or replace by task_gid."""
        ...

    async def add_tracked_tasks(self, tasks: Sequence[TrackedTask]) -> None: ...

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None: ...

    async def forget_tracked_task(self, task_gid: TaskGid) -> None:
        """Stop following a task (it was undone: deleted right after it was made)."""
        ...

    async def tracked_task_by_thread(
        self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs
    ) -> TrackedTask | None: ...

    async def tracked_tasks(
        self,
        *,
        project_gid: ProjectGid | None = None,
        open_only: bool = False,
        changed_since: datetime | None = None,
    ) -> list[TrackedTask]:
        """Oldest first; `changed_since` keeps those saved (updated_at) at or after that moment."""
        ...

    def tracked_task_pages(self, *, open_only: bool = False, size: int = 500) -> AsyncIterator[list[TrackedTask]]:
        """Every tracked task, `size` at a time, so a reader of thousands never holds them all at once."""
        ...

    async def tracked_tasks_of(self, task_gids: Collection[TaskGid]) -> list[TrackedTask]: ...

    async def record_first_response(self, task_gid: TaskGid, *, at: datetime, responder: SlackUserId | None) -> bool:
        """Set the task's first response if it has none yet; False if it had one (compare-and-set)."""
        ...


class CommentStore(Protocol):
    """Slack thread replies mirrored as Asana comments."""

    async def save_comment_link(self, link: CommentLink) -> None: ...

    async def get_comment_link(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs
    ) -> CommentLink | None: ...

    async def is_bridge_comment(self, story_gid: str) -> bool:
        """Whether an Asana story was written by the bridge from a Slack reply (never relay it back)."""
        ...

    async def delete_comment_link(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None: ...


class CaptureStore(Protocol):
    """Captures (a message becomes at most one task) and the acked /task commands kept until done."""

    async def claim_capture(self, capture: Capture) -> bool:
        """Insert the capture; False if (team, channel, message_ts) was captured already."""
        ...

    async def set_capture_task(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs, task_gid: TaskGid
    ) -> None: ...

    async def get_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> Capture | None: ...

    async def keep_command(self, command: PendingCommand, *, held_until: datetime, held_by: str | None = None) -> None:
        """Keep an acked /task until `forget_command`, held by the caller (replica `held_by`) until `held_until`."""
        ...

    async def take_stale_commands(
        self, *, now: datetime, hold_until: datetime, limit: int, holder: Holder | None = None
    ) -> list[PendingCommand]:
        """Kept commands nobody holds any more (oldest first): their hold ran out or, with a holder, the replica
        holding them stopped heartbeating. Held now by the caller until `hold_until`."""
        ...

    async def forget_command(self, request_key: str) -> None: ...

    async def unfinished_captures(self, *, before: datetime, limit: int) -> list[Capture]:
        """Claimed captures that never got a task and are older than `before` (their run was cut off)."""
        ...

    async def release_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        """Forget a capture whose task was never created, so that it can be tried again."""
        ...


class SlackEventLog(Protocol):
    """Slack retries carry the same event_id."""

    async def remember_slack_event(self, event_id: str, now: datetime) -> bool:
        """True the first time an event_id is seen, False for every repeat."""
        ...


class UserMappings(Protocol):
    """People: Slack user ⇄ Asana user, as the bridge has met them."""

    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None: ...

    async def save_user_mapping(self, mapping: UserMapping) -> None: ...

    async def slack_user_for(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> SlackUserId | None:
        """The Slack user of this team known to be this Asana user (from the people the bridge has met)."""
        ...

    async def assignment_dm_subscribers(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> list[SlackUserId]:
        """The Slack users of this team who asked for a DM when a task is assigned to this Asana user."""
        ...


class UserSettingsStore(Protocol):
    """Each person's own settings (the App Home's switches)."""

    async def get_user_settings(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserSettings | None: ...

    async def save_user_settings(self, settings: UserSettings) -> None: ...


class SyncTokenStore(Protocol):
    """Events API sync tokens, per resource."""

    async def get_sync_token(self, resource_gid: str) -> SyncToken | None: ...

    async def save_sync_token(self, token: SyncToken) -> None: ...


class NagLog(Protocol):
    """Nags sent, and who acted on each (so no nag is sent twice, no button acts twice)."""

    async def record_nag(self, key: NagKey, *, now: datetime, message_ts: MessageTs | None = None) -> bool:
        """True if this nag was not sent before (and is now recorded), False if it was."""
        ...

    async def sent_nags(self, task_gids: Collection[TaskGid]) -> set[NagKey]: ...

    async def posted_nag(self, task_gid: TaskGid, message_ts: MessageTs) -> PostedNag | None:
        """The nag of this task posted as this message, with who acted on it (if anyone did)."""
        ...

    async def claim_nag(
        self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId, outcome: str, now: datetime
    ) -> str | None:
        """Record that `by` acted on the nag posted as `message_ts`, if nobody did yet; None when this call did,
        else the outcome recorded first (compare-and-set: of two clicks at once, one wins). A message the log has
        no row for (a DM copy of a nag) gets a row of its own, so it is claimed once too."""
        ...

    async def release_nag(self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId) -> None:
        """Undo `by`'s claim when the change failed, so that the nag can be acted on again."""
        ...


class NagIndex(Protocol):
    """The nag scheduler's index: when each task's nags can next change (a save of a task arms it at once)."""

    async def tasks_to_judge(
        self, *, now: datetime, after: tuple[datetime, str] | None = None, limit: int = 200
    ) -> list[TaskToJudge]:
        """Open tasks whose moment is at or before `now`, earliest first, `limit` at a time after (moment, gid)."""
        ...

    async def arm_tasks(self, arms: Sequence[Arm]) -> None:
        """Set each task's next moment, unless it was saved since its revision was read."""
        ...

    async def nag_fingerprints(self) -> dict[tuple[str, str], str]:
        """Per link (project, channel): the digest of its nag rules when its tasks were last armed."""
        ...

    async def rearm_link(self, project_gid: str, channel_id: str, fingerprint: str | None) -> None:
        """Judge every open task of the link at the next tick; remember the digest (None: forget the link's)."""
        ...


class Liveness(Protocol):
    """Whether a replica is alive (its heartbeats)."""

    async def replica_alive(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> bool:
        """Whether the replica has heartbeated within `alive_within`."""
        ...


class OutboxStore(Liveness, Protocol):
    """Slack posts recorded before they are sent; a post held by a dead replica may be taken over."""

    async def add_outbox_post(self, post: OutboxPost) -> bool:
        """Insert; False if post_key exists already."""
        ...

    async def mark_outbox_sent(self, post_key: str, message_ts: MessageTs) -> None: ...

    async def take_outbox_post(self, previous: OutboxPost, *, sender: str | None, now: datetime) -> bool:
        """Make `sender` the one sending a pending post, if nobody took it since `previous` was read."""
        ...

    async def pending_outbox_posts(self, *, limit: int) -> list[OutboxPost]: ...

    async def get_outbox_post(self, post_key: str) -> OutboxPost | None: ...


class RoutingStore(Protocol):
    """Which tasks were routed to whom, and how many each person got."""

    async def claim_routing(self, routed: RoutedTask) -> bool:
        """Record a task's first routing; False when it was routed already (by another worker or run)."""
        ...

    async def save_routing(self, routed: RoutedTask) -> None: ...

    async def get_routing(self, task_gid: TaskGid) -> RoutedTask | None: ...

    async def open_routings(self) -> list[RoutedTask]: ...

    async def count_routing(self, project_gid: ProjectGid, email: str, *, at: datetime) -> None: ...

    async def routing_counts(self, project_gid: ProjectGid) -> tuple[dict[str, int], str | None]:
        """Tasks routed to each person from the project, and who got the latest one."""
        ...


class ReplicaStore(Liveness, Protocol):
    """Replicas say they are alive, and leave."""

    async def heartbeat(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> int:
        """Say this replica is alive; how many replicas (itself included) were seen within `alive_within`."""
        ...

    async def leave(self, replica_id: str) -> None: ...


class Leadership(Protocol):
    """The one replica that runs a role (the nag tick)."""

    async def lead(self, role: str) -> bool:
        """True while this process is the one replica that runs `role`; tries to take it when nobody does."""
        ...


class ReportStore(Protocol):
    """The tracked tasks as the report reads them."""

    async def report_tasks(
        self,
        *,
        team_id: TeamId | None = None,
        channel_id: ChannelId | None = None,
        priority_field: str | None = None,
        changed_since: datetime | None = None,
        assignee_gid: str | None = None,
        open_only: bool = False,
    ) -> list[StoredTask]:
        """Every tracked top-level task (of one channel, when given) with the facts the report reads, in one query;
        the priority is the option chosen in the enum field with gid or name `priority_field` (any case).
        `changed_since` keeps those saved, or first responded to, at or after that moment; `assignee_gid` those
        assigned to that Asana user; `open_only` those not completed."""
        ...

    async def report_tasks_apart(
        self, made: Callable[[StoredTask], T], *, team_id: TeamId, channel_id: ChannelId, priority_field: str | None
    ) -> dict[TaskGid, T]:
        """One channel's tasks as `report_tasks` reads them, each made into `made(row)`, keyed by task gid; read
        and made away from the event loop (a full reload of 100,000 tasks), which does nothing per row."""
        ...


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
    """Durable state: every protocol above, as the one SQL store satisfies them. Every method is one transaction;
    uniqueness is enforced by the database. Services take the few protocols they use, never this.
    """


class AsanaPort(Protocol):
    """The Asana calls the services make, in the bridge's types (adapters/asana_api.py implements it)."""

    async def me(self) -> AsanaUser: ...

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None: ...

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        """The user's out-of-office entries (first and last day out) that overlap start..end."""
        ...

    async def project(self, project_gid: str) -> Project: ...

    async def project_access(self, project_gid: str) -> ProjectAccess: ...

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]: ...

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool: ...

    async def sections_of(self, project_gid: str) -> list[Section]: ...

    async def create_section(self, project_gid: str, name: str) -> Section: ...

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]: ...

    async def create_task(self, draft: TaskDraft) -> Task: ...

    async def task(self, task_gid: str) -> Task: ...

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task: ...

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task: ...

    async def delete_task(self, task_gid: str) -> None: ...

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None: ...

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None: ...

    async def comment(self, task_gid: str, text: str) -> str:
        """Write a comment as the bridge's Asana user; returns the story gid."""
        ...

    async def story(self, story_gid: str) -> Story: ...

    async def edit_comment(self, story_gid: str, text: str) -> None: ...

    async def delete_comment(self, story_gid: str) -> None: ...

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]: ...

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        """Create a webhook; returns (webhook gid, the X-Hook-Secret Asana reported)."""
        ...

    async def delete_webhook(self, webhook_gid: str) -> None: ...

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        """The webhooks this token's app registered in a workspace, with their delivery-failure fields."""
        ...

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        """One page of the Events API; raises SyncTokenExpired (with the new token) on 412."""
        ...


class PersonalAsana(Protocol):
    """The Asana gateway making its calls with a connected person's access token."""

    def acting_as(self, token: str) -> AsanaPort: ...


class BridgeAsana(AsanaPort, PersonalAsana, Protocol):
    """The bridge's gateway: its own calls, and the same client acting with a person's token."""


class AsanaOAuthPort(Protocol):
    """Asana's OAuth endpoints (adapters/asana_oauth.py)."""

    redirect_uri: str

    def authorize_url(self, *, state: str, code_challenge: str) -> str: ...

    async def exchange_code(self, code: str, *, code_verifier: str) -> Grant:
        """Raises OAuthRefused when Asana refuses the code."""
        ...

    async def refresh(self, refresh_token: str) -> Grant:
        """Raises OAuthRefused when Asana refuses the refresh token (revoked, or the app was removed)."""
        ...

    async def revoke(self, token: str) -> None: ...


class IdentityStore(Protocol):
    """People's Asana connections (adapters/store/identities.py); tokens are sealed at rest."""

    async def save_pending_connect(self, connect: PendingConnect, *, now: datetime) -> None: ...

    async def take_pending_connect(self, state_digest: str) -> PendingConnect | None:
        """The connect with this state digest, deleted as it is read (a state works once)."""
        ...

    async def save_connection(self, connection: Connection) -> None: ...

    async def get_connection(self, team_id: TeamId, slack_user_id: SlackUserId) -> Connection | None: ...

    async def delete_connection(self, team_id: TeamId, slack_user_id: SlackUserId) -> Connection | None: ...

    async def delete_connections_of(self, team_id: TeamId) -> list[Connection]: ...

    async def claim_refresh(
        self, team_id: TeamId, slack_user_id: SlackUserId, *, now: datetime, due_before: datetime, until: datetime
    ) -> Connection | None:
        """Take the refresh lease when the token expires before `due_before` and nobody holds it (compare-and-set)."""
        ...

    async def finish_refresh(
        self, team_id: TeamId, slack_user_id: SlackUserId, *, access_token: str, expires_at: datetime
    ) -> None: ...

    async def release_refresh(self, team_id: TeamId, slack_user_id: SlackUserId) -> None: ...

    async def offer_connect_once(self, team_id: TeamId, slack_user_id: SlackUserId, *, now: datetime) -> bool: ...

    async def record_own_writes(self, writes: Sequence[OwnWrite]) -> None: ...

    async def own_writes_of(self, task_gid: TaskGid, *, since: datetime) -> list[OwnWrite]: ...


class SlackPort(Protocol):
    """The Slack calls the services make (adapters/slack_api.py implements it)."""

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        unfurl_links: bool = False,
    ) -> MessageTs: ...

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None: ...

    async def delete_message(self, channel: str, ts: str) -> None:
        """Delete one of the bridge's own posts."""
        ...

    async def user_email(self, user_id: str) -> str | None: ...

    async def user_name(self, user_id: str) -> str: ...

    async def channel_name(self, channel: str) -> str: ...

    async def user_by_email(self, email: str) -> str | None: ...

    async def user_timezone(self, user_id: str) -> str | None:
        """Their IANA timezone from their Slack profile (cached with an expiry); None when Slack gives none."""
        ...

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None: ...

    async def permalink(self, channel: str, ts: str) -> str: ...

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str: ...

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None: ...

    async def unfurl(self, channel: str, ts: str, unfurls: dict[str, Any]) -> None: ...

    async def channel_members(self, channel: str) -> set[str]:
        """The user ids of a channel's members (conversations.members, every page)."""
        ...

    async def posts_by_key(self, channel: str, thread_ts: str) -> dict[str, str]:
        """Outbox key → ts of the bridge's posts in a thread that carry a key in their metadata (crash recovery)."""
        ...

    async def recent_posts_by_key(self, channel: str, *, oldest: float) -> dict[str, str]:
        """Outbox key → ts of the bridge's top-level posts in a channel since `oldest` (Unix time) carrying one."""
        ...


class AnswerStore(Protocol):
    """The index of resolved work and the deflections suggestions made (issue 22): what the suggestion service
    needs, beside the few tracked-task and mapping reads it shares with the others."""

    async def get_answer(self, task_gid: TaskGid) -> Answer | None: ...

    async def save_answer(self, answer: Answer) -> None:
        """Keep it; its full-text index row is written (resolved) or removed (open) in the same transaction."""
        ...

    async def search_answers(self, words: Sequence[str], scope: Scope, *, limit: int) -> list[Match]: ...

    async def resolved_unindexed(self, project_gid: ProjectGid, *, limit: int) -> list[TrackedTask]: ...

    async def add_deflection(self, deflection: Deflection) -> bool: ...

    async def set_deflection_message(self, task_gid: TaskGid, message_ts: str) -> None: ...

    async def get_deflection(self, task_gid: TaskGid) -> Deflection | None: ...

    async def decide_deflection(
        self, task_gid: TaskGid, outcome: Outcome, *, at: datetime, by: SlackUserId
    ) -> bool: ...

    async def deflections_since(self, since: datetime, *, team_id: TeamId | None = None) -> list[Deflection]: ...

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None: ...

    async def save_tracked_task(self, task: TrackedTask) -> None: ...

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None: ...

    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None: ...
