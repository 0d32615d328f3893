"""The nag scheduler: each tick asks the rules (domain.nags) what is due and posts it, once, in the task's thread.

A tick costs what falls due, not what is tracked: each tracked task carries the next moment its nags can change
(`domain.nags.next_check`, kept in the store beside the task), and a tick reads only the tasks whose moment has
come. A save of a task (a relay, a button, a first response) arms it at once; a change of a link's rules
(bridge.toml, the link's priority field) arms all its tasks. A tick reads the database and nothing from Asana; only
sending a nag costs calls. A nag is posted through the outbox (exactly once, even across a crash) and then recorded
in the nag log, which is what the rules consult next time; on PostgreSQL one replica at a time runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bridge import wording
from bridge.domain.business_time import clock_for
from bridge.domain.cards import deadline_of, working_days_between
from bridge.domain.model import Arm, ChannelId, Link, NagKey, TaskGid, TrackedTask
from bridge.domain.nag_moments import next_check, rules_digest
from bridge.domain.nag_rules import due_nags
from bridge.domain.nags import SNOOZED_UNTIL, Nag, NagKind, TaskView, task_view
from bridge.domain.policy import Policy
from bridge.domain.sla import target_for
from bridge.domain.work import custom_field, enabled_options
from bridge.errors import AsanaError, SlackError
from bridge.ports import (
    AsanaPort,
    Clock,
    Leadership,
    LinkReads,
    NagIndex,
    NagLog,
    SlackTeams,
    TaskStore,
)
from bridge.services.nag_mentions import NagMentions
from bridge.services.nag_prepass import QuietArming
from bridge.services.open_tasks import Home, OpenTasks
from bridge.services.outbox import Outbox, PostInFlight
from bridge.services.presence import Presence
from bridge.services.slices import Slicer

log = logging.getLogger(__name__)
LEADER_ROLE = "nag-scheduler"
PAGE = 200  # tasks read per query of those whose moment has come (a few milliseconds of the loop each)
RETRY = timedelta(seconds=1)  # a nag that could not go is tried again at the next tick


class Nagger:
    def __init__(
        self,
        *,
        links: LinkReads,
        tasks: TaskStore,
        index: NagIndex,
        sent: NagLog,
        leadership: Leadership,
        outbox: Outbox,
        open_tasks: OpenTasks,
        mentions: NagMentions,
        presence: Presence,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        policy: Policy,
        on_sent: Callable[[str], None] = lambda kind: None,
        quiet: QuietArming | None = None,
    ) -> None:
        self._quiet = quiet  # arms, in a process of its own, the due tasks with nothing to send (nag_prepass.py)
        self._links = links
        self._tasks = tasks
        self._index = index  # the tasks whose moment has come, and each link's rules
        self._sent = sent  # the nags sent (one per task and reason)
        self._leadership = leadership
        self._on_sent = on_sent  # told the kind of every nag sent (the bridge_nags_sent metric)
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._policy = policy
        self._outbox = outbox
        self._presence = presence
        self._mentions = mentions
        self._open = open_tasks
        self._leading = False
        self._digests: dict[tuple[str, str], str] = {}  # (project, priority field) -> its rules' digest

    def now(self) -> datetime:
        return self._clock.now()

    async def tick(self, now: datetime | None = None) -> int:
        """Send what is due now, one message per task naming every reason it is due; returns how many messages were
        sent. Only the leading replica does anything."""
        if not await self._leadership.lead(LEADER_ROLE):
            self._leading = False
            self._open.forget()  # another replica leads: what it sends is not in our memory
            self._mentions.forget()
            return 0
        self._leading = True
        now = now or self._clock.now()
        links: dict[Home, Link] = {(link.project_gid, link.channel_id): link for link in await self._links.list_links()}
        await self._arm_links(links)
        if self._quiet is not None:
            await self._quiet.arm_quiet(list(links.values()), now, self._mentions.waiting_tasks())
        sent = 0
        slicer = Slicer()  # many tasks may come due at once (after an upgrade, a policy change): the loop gets turns
        after: tuple[datetime, str] | None = None
        while True:
            page = await self._index.tasks_to_judge(now=now, after=after, limit=PAGE)
            if not page:
                break
            after = (page[-1].check_at, page[-1].task.task_gid)
            already = await self._sent.sent_nags([due.task.task_gid for due in page])
            arms = []
            for due in page:
                at, messages = await self._judge(due.task, links, already, now)
                sent += messages
                arms.append(Arm(due.task.task_gid, due.revision, at))
                await slicer.turn()
            await self._index.arm_tasks(arms)
            if len(page) < PAGE:
                break
        return sent

    async def _arm_links(self, links: dict[Home, Link]) -> None:
        """Links whose rules changed since their tasks were armed (or that are new) have every task judged again;
        links gone are forgotten, so that linking again arms their tasks."""
        known = await self._index.nag_fingerprints()
        for home, link in links.items():
            field = self._priority_field(link)
            digest = self._digests.get((link.project_gid, field))
            if digest is None:  # the policy does not change while the process runs: worked out once
                digest = self._digests[(link.project_gid, field)] = rules_digest(
                    self._policy.for_project(link.project_gid), field
                )
            if known.get(home) != digest:
                await self._index.rearm_link(link.project_gid, link.channel_id, digest)
        for project, channel in known.keys() - links.keys():
            await self._index.rearm_link(project, channel, None)

    def _priority_field(self, link: Link) -> str:
        return link.priority_field_gid or self._policy.for_project(link.project_gid).triage.priority_field

    async def _judge(
        self, tracked: TrackedTask, links: dict[Home, Link], sent: set[NagKey], now: datetime
    ) -> tuple[datetime | None, int]:
        """Send what is due on one task now; returns when to judge it next (None: not unless it changes) and how
        many messages went."""
        link = links.get((tracked.project_gid, tracked.channel_id))
        if link is None or tracked.completed or tracked.parent_gid is not None:
            self._mentions.forget(tracked.task_gid)
            return None, 0  # unlinked (linking again arms it), done, or a subtask (told in its parent's thread)
        policy = self._policy.for_project(link.project_gid)
        view = task_view(
            tracked, priority_field=self._priority_field(link), required_fields=policy.reminders.required_fields
        )
        until = tracked.snapshot.get(SNOOZED_UNTIL)
        snoozed = datetime.fromisoformat(str(until)) if until else None
        decided = [] if snoozed is not None and snoozed > now else due_nags(view, policy, now, sent)
        retry: datetime | None = None
        ready: list[Nag] = []
        messages = 0
        work = self._mentions.due(view, decided, sent, now)
        if work and await self._tasks.get_tracked_task(tracked.task_gid) != tracked:
            # Saved (or completed) since its page was read, which sending earlier pages' nags may have made long ago:
            # the save armed it again, so the next tick judges it as it is now.
            return now + RETRY, 0
        try:
            ready, retry = await self._mentions.ready(link, tracked, view, work, now)
            if ready:  # one message for what is due on the task (and whose person is at work)
                await self._send(link, tracked, view, ready, now, sent)
                messages = 1
            for nag in ready:
                self._on_sent(nag.key.kind)
        except (AsanaError, SlackError, PostInFlight) as exc:  # the nags stay due: the next tick tries again
            log.warning("could not send %s for task %s: %s", [n.key for n in ready or decided], view.gid, exc)
            retry = now + RETRY
        moment = next_check(view, policy, now, sent, snoozed_until=snoozed)
        # A nag left waiting for its person's hours by an earlier tick brings its task back then, though this one
        # judged the task for another reason (a change, another nag falling due) and left it waiting.
        for then in (retry, self._mentions.next_at(view.gid)):
            if then is not None:
                moment = min(moment or then, then)
        return moment, messages

    async def open_views(self) -> dict[Home, list[TaskView]] | None:
        """The open top-level tasks per link (project, channel); None unless this replica leads.

        Routing reads its loads and candidates from here (read whole now and then, else only what changed)."""
        if not self._leading:
            return None
        return await self._open.views()

    async def _send(
        self, link: Link, tracked: TrackedTask, view: TaskView, nags: list[Nag], now: datetime, sent: set[NagKey]
    ) -> None:
        """One message for every nag due on the task: whom it is for, each reason with its figures, the buttons."""
        policy = self._policy.for_project(link.project_gid)
        clock = clock_for(policy.business_hours)
        mentions = [found for nag in nags if (found := await self._mentions.mention(link, tracked, nag.mention))]
        target = target_for(policy.sla, view.priority)
        reasons = [
            wording.nag_reason(
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
        text, post = wording.nag_post(
            wording.nag_about(mentions, name=tracked.name, url=tracked.permalink_url),
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
                await self._asana.comment(tracked.task_gid, wording.sla_warning_comment(view.priority))
        ts = await self._outbox.reply(tracked, key=key, text=text, blocks=post)
        reminder = any(nag.kind == NagKind.REMINDER for nag in nags)
        if reminder and policy.reminders.dm_assignee and view.assignee:
            person = await self._mentions.slack_user(tracked, view.assignee)
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
            await self._sent.record_nag(nag.key, now=now, message_ts=ts)
            sent.add(nag.key)
        log.info("sent %s for task %s", ", ".join(f"{n.kind} {n.stage}" for n in nags), tracked.task_gid)

    async def _follow(self, link: Link, task_gid: TaskGid, email: str) -> None:
        """The triager follows the task in Asana too (adding a follower twice changes nothing)."""
        user = await self._presence.pool.user(email, link)
        if user is not None:
            await self._asana.add_followers(task_gid, [user.gid])


def _post_key(nags: Sequence[Nag]) -> str:
    """The outbox key of a task's nag message: the same nags always make the same key (one nag alone keeps the
    key it had before nags were merged, so a post in flight across an upgrade is still found)."""
    parts = "+".join(f"{n.key.kind}:{n.key.stage}:{n.key.period}" for n in nags)
    return f"nag:{nags[0].key.task_gid}:{parts}"
