"""The nag scheduler: each tick asks the rules (domain.nags) what is due and posts it, once, in the task's thread.

It works from the snapshots the relay keeps fresh, so a tick reads the database and nothing from Asana; only
sending a nag costs calls. A nag is posted through the outbox (exactly once, even across a crash) and then recorded
in the nag log, which is what the rules consult next time; on PostgreSQL one replica at a time runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bridge.adapters import blocks
from bridge.adapters.errors import AsanaError, SlackError
from bridge.domain.business_time import clock_for
from bridge.domain.cards import deadline_of, working_days_between
from bridge.domain.model import AsanaUserGid, ChannelId, Link, NagKey, TaskGid, TrackedTask
from bridge.domain.nags import (
    SNOOZED_UNTIL,
    Mention,
    Nag,
    NagKind,
    Role,
    TaskView,
    due_for_all,
    quiet_until,
    task_view,
)
from bridge.domain.policy import Policy
from bridge.domain.sla import target_for
from bridge.domain.work import custom_field, enabled_options
from bridge.ports import (
    AsanaPort,
    Clock,
    Leadership,
    LinkReads,
    NagLog,
    OutboxStore,
    SlackPort,
    TaskStore,
    UserMappings,
)
from bridge.services.outbox import Outbox, PostInFlight
from bridge.services.people import People
from bridge.services.pool import Pool
from bridge.services.presence import Presence, Who
from bridge.services.slices import Slicer, chunks
from bridge.tenancy import acting_for

log = logging.getLogger(__name__)
LEADER_ROLE = "nag-scheduler"
FULL_RELOAD = timedelta(minutes=10)  # now and then read everything again, in case anything slipped past
CLOCK_MARGIN = timedelta(seconds=30)
RELOAD_PAGE = 200  # tracked tasks per read on a full reload (a few milliseconds of the loop each)


class NagStore(LinkReads, TaskStore, NagLog, UserMappings, OutboxStore, Leadership, Protocol):
    """What the tick reads and records: one parameter for now, split once the tick's own changes have landed."""


class Nagger:
    def __init__(
        self,
        *,
        store: NagStore,
        asana: AsanaPort,
        slack: SlackPort,
        clock: Clock,
        policy: Policy,
        on_sent: Callable[[str], None] = lambda kind: None,
        presence: Presence | None = None,
        people: People | None = None,
    ) -> None:
        self._people = people  # finds assignees in Slack who never used the bridge (without it: names them)
        self._store = store
        self._on_sent = on_sent  # told the kind of every nag sent (the bridge_nags_sent metric)
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._policy = policy
        self._outbox = Outbox(store=store, slack=slack, clock=clock)
        self._presence = presence or Presence(slack=slack, pool=Pool(store=store, asana=asana, slack=slack))
        self._memory: _Memory | None = None
        # Nags decided but waiting for their person's working hours: (link, view, nag, when to try again).
        self._waiting: dict[NagKey, tuple[Link, TaskView, Nag, datetime]] = {}

    def now(self) -> datetime:
        return self._clock.now()

    async def tick(self, now: datetime | None = None) -> int:
        """Send what is due now, one message per task naming every reason it is due; returns how many messages were
        sent. Only the leading replica does anything."""
        if not await self._store.lead(LEADER_ROLE):
            self._memory = None  # another replica leads: what it sends is not in our memory
            self._waiting.clear()
            return 0
        now = now or self._clock.now()
        sent = 0
        for link, view, nags in _by_task(await self._work(now)):
            tracked = await self._store.get_tracked_task(view.gid)
            if tracked is None or tracked.completed:
                for nag in nags:
                    self._waiting.pop(nag.key, None)
                continue  # changed since the memory was refreshed: the next tick judges it again
            ready: list[Nag] = []
            try:
                with acting_for(link.team_id):
                    for nag in nags:
                        at = await self._mention_at(link, tracked, nag, now)
                        if at > now:  # decided on the team's calendar, sent within the person's own hours
                            self._waiting[nag.key] = (link, view, nag, at)
                        else:
                            self._waiting.pop(nag.key, None)
                            ready.append(nag)
                    if ready:  # one message for what is due on the task (and whose person is at work)
                        await self._send(link, tracked, view, ready, now)
                if ready:
                    sent += 1
                for nag in ready:
                    self._on_sent(nag.key.kind)
            except (AsanaError, SlackError, PostInFlight) as exc:  # the nags stay due: the next tick tries again
                log.warning("could not send %s for task %s: %s", [n.key for n in nags], view.gid, exc)
        return sent

    async def _work(self, now: datetime) -> list[tuple[Link, TaskView, Nag]]:
        """The nags due now, less those waiting for their person, plus the waiting ones whose person is at work
        now (the team's day may be over by then) and whose task has not changed since they were decided."""
        work = [
            (link, view, nag)
            for link, due in await self.due(now)
            for view, nag in due
            if nag.key not in self._waiting or self._waiting[nag.key][3] <= now
        ]
        decided = {(key.task_gid, key.kind, key.stage) for key in (nag.key for _, _, nag in work)}
        memory = self._memory
        for key, (link, view, nag, at) in list(self._waiting.items()):
            if at > now:
                continue
            if (
                memory is None
                or key in memory.sent
                or memory.views.get(view.gid) != view
                or (key.task_gid, key.kind, key.stage) in decided
            ):
                del self._waiting[key]  # sent, the task changed, or a later one of its kind is due: not this one
                continue
            work.append((link, view, nag))
        return work

    def open_views(self) -> dict[tuple[str, str], list[TaskView]] | None:
        """The open top-level tasks per link (project, channel) as of the last tick; None unless this replica leads.

        Routing reads its loads and candidates from here, so it costs no reads of its own."""
        memory = self._memory
        if memory is None:
            return None
        return {home: [memory.views[gid] for gid in gids] for home, gids in memory.by_link.items()}

    async def due(self, now: datetime) -> list[tuple[Link, list[tuple[TaskView, Nag]]]]:
        """Every nag due now, per link: database reads and the rules, no API calls."""
        links: dict[tuple[str, str], Link] = {
            (link.project_gid, link.channel_id): link for link in await self._store.list_links()
        }
        memory = await self._remember(links)
        slicer = Slicer()
        out = []
        for home, link in links.items():
            policy = self._policy.for_project(link.project_gid)
            if quiet_until(policy, now) is not None:
                continue
            found = []
            for part in chunks(memory.by_link.get(home, [])):  # in slices: the loop gets a turn every few ms
                awake = [memory.views[gid] for gid in part if not memory.snoozed(gid, now)]
                found += [(view, nag) for _, view, nag in due_for_all(awake, _same, policy, now, memory.sent)]
                await slicer.turn()
            if found:
                out.append((link, found))
        return out

    async def _remember(self, links: dict[tuple[str, str], Link]) -> _Memory:
        """The open tasks (as the rules see them) and the sent nags: loaded whole now and then, and otherwise only
        what was saved since the last tick."""

        def fields_of(tracked: TrackedTask) -> tuple[str, tuple[str, ...]]:
            link = links.get((tracked.project_gid, tracked.channel_id))
            policy = self._policy.for_project(tracked.project_gid)
            priority = (link.priority_field_gid if link else None) or policy.triage.priority_field
            return priority, policy.reminders.required_fields

        memory = self._memory
        moment = self._clock.now()
        if memory is None or moment - memory.loaded_at > FULL_RELOAD:
            memory = self._memory = _Memory(loaded_at=moment, seen_at=moment)
            # Small pages: each is read, decoded and judged between two turns of the loop.
            async for page in self._store.tracked_task_pages(open_only=True, size=RELOAD_PAGE):
                memory.keep(page, fields_of)
                memory.sent |= await self._store.sent_nags([t.task_gid for t in page])
            return memory
        # Saves on other replicas may carry a clock a little behind ours: look back a margin, keeping is idempotent.
        changed = await self._store.tracked_tasks(changed_since=memory.seen_at - CLOCK_MARGIN)
        memory.seen_at = moment
        fresh = [t.task_gid for t in changed if t.task_gid not in memory.views]
        memory.keep(changed, fields_of)
        if fresh:
            memory.sent |= await self._store.sent_nags(fresh)
        return memory

    async def _send(self, link: Link, tracked: TrackedTask, view: TaskView, nags: list[Nag], now: datetime) -> None:
        """One message for every nag due on the task: whom it is for, each reason with its figures, the buttons."""
        policy = self._policy.for_project(link.project_gid)
        clock = clock_for(policy.business_hours)
        mentions = [found for nag in nags if (found := await self._mention(link, tracked, nag.mention))]
        target = target_for(policy.sla, view.priority)
        reasons = [
            blocks.nag_reason(
                nag.kind,
                nag.stage,
                due=view.due_on or (clock.local_date(view.due_at) if view.due_at else None),
                deadline=deadline_of(nag.deadline, now, clock) if nag.deadline else None,
                shown=nag.shown,
                priority=view.priority,
                target=target.first_response if target else None,
                waited=clock.elapsed(nag.since, now) if nag.since else None,
                waited_days=working_days_between(clock.local_date(nag.since), clock.local_date(now), clock)
                if nag.since
                else 0,
                since=clock.to_local(nag.since) if nag.since else None,
                missing=nag.missing,
            )
            for nag in nags
        ]
        priority = custom_field(tracked.snapshot, link.priority_field_gid or policy.triage.priority_field)
        missing = [name for nag in nags for name in nag.missing]
        selects = [
            (str(field["gid"]), str(field.get("name") or ""), enabled_options(field))
            for name in missing
            if (field := custom_field(tracked.snapshot, name)) is not None and field.get("resource_subtype") == "enum"
        ]
        text, post = blocks.nag_post(
            blocks.nag_about(mentions, name=tracked.name, url=tracked.permalink_url),
            task_gid=tracked.task_gid,
            priority_options=enabled_options(priority) if priority else None,
            field_selects=selects,
            reasons=reasons,
        )
        key = _post_key(nags)
        for nag in nags:
            if nag.kind == NagKind.TRIAGE and nag.mention is not None:
                await self._follow(link, tracked.task_gid, nag.mention.who)
            if nag.kind == NagKind.FIRST_RESPONSE:
                # Before the nag is recorded: a failure here leaves the nag due, so the comment is not lost.
                await self._asana.comment(tracked.task_gid, blocks.sla_warning_comment(view.priority))
        ts = await self._outbox.reply(tracked, key=key, text=text, blocks=post)
        reminder = any(nag.kind == NagKind.REMINDER for nag in nags)
        if reminder and policy.reminders.dm_assignee and view.assignee:
            person = await self._store.slack_user_for(tracked.team_id, view.assignee)
            if person is not None:
                await self._outbox.post_once(
                    key=key + ":dm",
                    team_id=tracked.team_id,
                    channel=ChannelId(person),
                    thread_ts=None,
                    text=text,
                    blocks=post,
                )
        for nag in nags:
            await self._store.record_nag(nag.key, now=now, message_ts=ts)
            if self._memory is not None:
                self._memory.sent.add(nag.key)
        log.info("sent %s for task %s", ", ".join(f"{n.kind} {n.stage}" for n in nags), tracked.task_gid)

    async def _mention_at(self, link: Link, tracked: TrackedTask, nag: Nag, now: datetime) -> datetime:
        """When the person the nag mentions may be mentioned (`now` when they are at work, or nobody is named)."""
        mention = nag.mention
        if mention is None:
            return now
        policy = self._policy.for_project(link.project_gid)
        if mention.role == Role.REQUESTER:
            who = Who(slack_user=mention.who)
        elif mention.role == Role.TRIAGER:
            who = Who(email=mention.who)
        else:
            gid = AsanaUserGid(mention.who)
            who = Who(slack_user=await self._store.slack_user_for(tracked.team_id, gid), asana_user=gid)
        return await self._presence.mention_at(link, policy, now, who)

    async def _mention(self, link: Link, tracked: TrackedTask, mention: Mention | None) -> str | None:
        """<@U…> for someone the bridge can find in Slack, else their name, else nothing."""
        if mention is None:
            return None
        if mention.role == Role.REQUESTER:
            return f"<@{mention.who}>"
        if mention.role == Role.TRIAGER:
            user = await self._slack.user_by_email(mention.who)
            return f"<@{user}>" if user else blocks.escape(mention.who)
        gid = AsanaUserGid(mention.who)
        if self._people is not None:
            person = await self._people.slack_user(tracked.team_id, gid, link.workspace_gid)
        else:
            person = await self._store.slack_user_for(tracked.team_id, gid)
        if person is not None:
            return f"<@{person}>"
        name = (tracked.snapshot.get("assignee") or {}).get("name")
        return blocks.escape(str(name)) if name else None

    async def _follow(self, link: Link, task_gid: TaskGid, email: str) -> None:
        """The triager follows the task in Asana too (adding a follower twice changes nothing)."""
        user = await self._presence.pool.user(email, link)
        if user is not None:
            await self._asana.add_followers(task_gid, [user.gid])


@dataclass
class _Memory:
    """What the leading scheduler keeps between ticks, so that a tick over many tasks reads only what changed:
    each open task as the rules see it (not its whole snapshot: the tracked task is read again to send a nag)."""

    loaded_at: datetime
    seen_at: datetime
    views: dict[TaskGid, TaskView] = field(default_factory=dict)  # open top-level tasks
    sent: set[NagKey] = field(default_factory=set)
    _by_link: dict[tuple[str, str], list[TaskGid]] | None = None  # made again after tasks come or go
    _homes: dict[TaskGid, tuple[str, str]] = field(default_factory=dict)  # (project, channel) of each task
    _snoozes: dict[TaskGid, datetime] = field(default_factory=dict)  # only the tasks someone snoozed

    def keep(
        self, tasks: Sequence[TrackedTask], fields_of: Callable[[TrackedTask], tuple[str, tuple[str, ...]]]
    ) -> None:
        if not tasks:
            return
        for tracked in tasks:
            gid = tracked.task_gid
            self.views.pop(gid, None)
            self._homes.pop(gid, None)
            self._snoozes.pop(gid, None)
            if tracked.completed or tracked.parent_gid is not None:
                continue
            priority_field, required = fields_of(tracked)
            self.views[gid] = task_view(tracked, priority_field=priority_field, required_fields=required)
            self._homes[gid] = (tracked.project_gid, tracked.channel_id)
            if until := tracked.snapshot.get(SNOOZED_UNTIL):
                self._snoozes[gid] = datetime.fromisoformat(str(until))
        self._by_link = None

    @property
    def by_link(self) -> dict[tuple[str, str], list[TaskGid]]:
        if self._by_link is None:
            self._by_link = {}
            for gid, home in self._homes.items():
                self._by_link.setdefault(home, []).append(gid)
        return self._by_link

    def snoozed(self, gid: TaskGid, now: datetime) -> bool:
        until = self._snoozes.get(gid)
        return until is not None and until > now


def _same(view: TaskView) -> TaskView:
    return view


def _by_task(due: list[tuple[Link, TaskView, Nag]]) -> list[tuple[Link, TaskView, list[Nag]]]:
    """The nags due now, gathered per task (in the order the rules gave them), so each task gets one message."""
    tasks: dict[TaskGid, tuple[Link, TaskView, list[Nag]]] = {}
    for link, view, nag in due:
        tasks.setdefault(view.gid, (link, view, []))[2].append(nag)
    return list(tasks.values())


def _post_key(nags: Sequence[Nag]) -> str:
    """The outbox key of a task's nag message: the same nags always make the same key (one nag alone keeps the
    key it had before nags were merged, so a post in flight across an upgrade is still found)."""
    parts = "+".join(f"{n.key.kind}:{n.key.stage}:{n.key.period}" for n in nags)
    return f"nag:{nags[0].key.task_gid}:{parts}"
