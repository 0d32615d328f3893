"""Nag buttons: Done, Snooze 1 day, Push due +1 week, Reassign, Priority and missing-field selects, for the clicker.

Who may act on a nag: the clicker's Slack email must match an Asana user of the link's workspace, and that user must
be the task's assignee, the person who asked for it (the tracked task's requester), the project's triager
(`[triage] triager`, matched by email), or someone Asana lets change the project's tasks (services.access: its
privacy, team and members). Anyone else is told why and who can, privately, and nothing changes.

A click reads the task once and lets `domain.nag_clicks.decide` compare it with what was asked. Asking for what the
task already has changes nothing and leaves the nag. A nag the task has outgrown (completed meanwhile, due date
moved, field set) is edited to say so; nothing changes in Asana. Otherwise the nag is claimed in the database
(compare-and-set on its message: of a double click one wins, the other is told it was handled), the change is made
(one update; a priority may first move the task to the section of its name), a comment says who did what from
Slack, and the nag is edited in place without its buttons. Snooze changes nothing in Asana: it records
SNOOZED_UNTIL in the tracked task's snapshot, which the scheduler honours, and comments.

A click in the App Home acts the same way for the same people, but no nag was posted: its claim is keyed by the Home
view it was made in ("home:" + the view's hash, which Slack changes at every publish), so a double click in one
view applies once while a click in the Home published after it acts again. An outdated click there edits nothing
and is told to the clicker; what was done is returned for the Home to show when it is published again.

Cost per click, warm: one task read, then one update and one comment (snooze: only the comment; a priority moving
sections: one more write). Cold caches add the clicker's email lookup (and the new assignee's), the project's
members when the clicker is neither assignee, requester nor triager, and the project's sections for a priority.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bridge import wording
from bridge.domain.model import (
    AsanaUserGid,
    Link,
    SlackUserId,
    TaskGid,
    TrackedTask,
)
from bridge.domain.nag_clicks import Action, Decision, Verdict, Why, decide, remembered
from bridge.domain.nags import SNOOZED_UNTIL
from bridge.domain.policy import Policy
from bridge.domain.work import Section, Task
from bridge.errors import AsanaError, AsanaForbidden, AsanaNotFound, SlackError
from bridge.lookups import Lookups
from bridge.ports import AsanaPort, Clock, LinkReads, NagLog, SlackTeams, TaskStore, UserMappings
from bridge.services.access import Access
from bridge.services.acting import ActingFor, as_bridge
from bridge.services.cards import Cards
from bridge.services.errors import UserError
from bridge.services.nag_click import NagClick
from bridge.services.people import People

log = logging.getLogger(__name__)

PROJECT_CACHE_SECONDS = 600.0  # the sections of a project change rarely


class NagActions:
    def __init__(
        self,
        *,
        nag_log: NagLog,
        links: LinkReads,
        tasks: TaskStore,
        mappings: UserMappings,
        asana: AsanaPort,
        slack: SlackTeams,
        people: People,
        clock: Clock,
        policy: Policy,
        cards: Cards,
        acting_for: ActingFor | None = None,
        timer: Callable[[], float] = time.monotonic,  # what the lookups' lifetimes are counted on (tests move it)
    ) -> None:
        self._cards = cards
        self._nag_log = nag_log
        self._links = links
        self._tasks = tasks
        self._mappings = mappings
        self._asana = asana
        self._acting_for = acting_for or as_bridge(asana)
        self._slack = slack
        self._people = people
        self._clock = clock
        self._policy = policy
        self._access = Access(asana=asana, timer=timer)
        # A project's sections by name, read again after a while (bridge.lookups).
        self._sections: Lookups[str, dict[str, Section]] = Lookups(
            found_seconds=PROJECT_CACHE_SECONDS, missing_seconds=PROJECT_CACHE_SECONDS, timer=timer
        )

    async def act(self, click: NagClick) -> str | None:
        """Carry out a click; returns what to tell the clicker (None: the edited nag says it all). A click in the
        App Home always returns what it did, for the Home to show."""
        tracked = await self._tasks.get_tracked_task(click.task_gid)
        if tracked is not None and tracked.team_id != click.team_id:
            tracked = None  # another workspace's task (a forged block_id): as unknown as a task nobody tracks
        link = await self._links.get_link(tracked.team_id, tracked.channel_id) if tracked else None
        if tracked is None or link is None:
            raise UserError(wording.NAG_TASK_UNKNOWN)
        posted = await self._nag_log.posted_nag(click.task_gid, click.message_ts)
        if posted is not None and posted.acted_at is not None:
            return wording.nag_already_handled(posted.outcome or "")
        clicker = await self._people.asana_user(click.team_id, click.user, link.workspace_gid)
        if clicker is None:
            raise UserError(wording.unfurl_unmapped(click.user))
        acting = await self._acting_for(click.team_id, click.user, link)  # the clicker's own Asana, if connected
        task = await self._read(click.task_gid, acting.asana)
        if not acting.as_person:  # with the clicker's own token, Asana itself decides what they may do
            await self._check_allowed(click, clicker, tracked, link, task)
        choice = click.click
        if choice.action is Action.REASSIGN:
            choice = replace(choice, value=await self._assignee(click, link))
        now = self._clock.now()
        decision = decide(
            choice,
            task.raw,
            nag=posted.key if posted else None,
            priority_field=link.priority_field_gid,
            policy=self._policy.for_project(link.project_gid),
            snapshot=tracked.snapshot,
            created_at=tracked.created_at,
            now=now,
        )
        who = f"<@{click.user}>"
        if decision.verdict is Verdict.UNCHANGED:
            return wording.nag_unchanged(decision)
        if decision.verdict is Verdict.OUTDATED and click.in_home:
            return wording.home_outdated(decision)
        on_card = click.message_ts == await self._cards.where(tracked)
        if decision.verdict is Verdict.OUTDATED and on_card:
            await self._cards.refresh(tracked, link)  # the card shows how things stand now
            return wording.home_outdated(decision)
        if decision.verdict is Verdict.OUTDATED:
            line = wording.nag_outdated_line(decision, who=who)
            first = await self._nag_log.claim_nag(
                click.task_gid, click.message_ts, by=click.user, outcome=line, now=now
            )
            if first is not None:
                return wording.nag_already_handled(first)
            finished = decision.why is Why.COMPLETED
            await self._edit_nag(click, line, keep_actions=not finished)
            if not finished:
                await self._nag_log.release_nag(click.task_gid, click.message_ts, by=click.user)
            log.info("nag %s on task %s was outdated (%s)", click.message_ts, click.task_gid, decision.why)
            return wording.nag_outdated_note(decision)
        section = await self._section_for(link, task, decision)
        assignee = f"<@{click.click.value}>" if choice.action is Action.REASSIGN else None
        line = wording.nag_acted_line(
            decision,
            who=who,
            assignee=assignee,
            moved_to=section.name if section else None,
            timezone=self._policy.for_project(link.project_gid).business_hours.timezone,
        )
        first = await self._nag_log.claim_nag(click.task_gid, click.message_ts, by=click.user, outcome=line, now=now)
        if first is not None:
            return wording.nag_already_handled(first)
        try:
            after = await self._apply(acting.asana, task, link, decision, section)
        except Exception:
            await self._nag_log.release_nag(click.task_gid, click.message_ts, by=click.user)
            raise
        updated = await self._remember(tracked, after, decision, now, moved=section is not None)
        await self._comment(acting.asana, click, decision, after, section)
        finished = decision.action is Action.DONE
        if on_card:
            await self._tell_thread(updated, line)
        else:
            await self._edit_nag(click, line, keep_actions=not finished)
        if not finished:  # the buttons stay, for the next person and the next change
            await self._nag_log.release_nag(click.task_gid, click.message_ts, by=click.user)
        # The relay tells no change the bridge made, so the card is drawn again here.
        await self._cards.refresh(updated, link)
        log.info("task %s: %s from %s by %s", click.task_gid, decision.action, _surface(click), click.user)
        return line if click.in_home else None

    async def _read(self, task_gid: TaskGid, asana: AsanaPort) -> Task:
        try:
            return await asana.task(task_gid)
        except (AsanaNotFound, AsanaForbidden):
            raise UserError(wording.UNFURL_TASK_GONE) from None

    async def _check_allowed(
        self, click: NagClick, clicker: AsanaUserGid, tracked: TrackedTask, link: Link, task: Task
    ) -> None:
        if task.assignee == clicker or click.user == tracked.requester:
            return
        triager = self._policy.for_project(link.project_gid).triage.triager
        if triager:
            mapping = await self._mappings.get_user_mapping(click.team_id, click.user)
            if mapping is not None and (mapping.email or "").strip().casefold() == triager.strip().casefold():
                return
        why = await self._access.refusal(link.project_gid, link.workspace_gid, clicker)
        if why is None:
            return
        log.info("refused a click on task %s by %s (%s on %s)", task.gid, click.user, why, link.project_gid)
        team = (await self._access.project(link.project_gid)).team_name
        raise UserError(wording.nag_not_allowed(click.user, link.project_name, why, team=team))

    async def _assignee(self, click: NagClick, link: Link) -> AsanaUserGid:
        chosen = SlackUserId(click.click.value or "")
        found = await self._people.asana_user(click.team_id, chosen, link.workspace_gid) if chosen else None
        if found is None:
            raise UserError(wording.nag_assignee_unknown(chosen))
        return found

    async def _section_for(self, link: Link, task: Task, decision: Decision) -> Section | None:
        """The project's section named like the chosen priority, unless the task is in it already (or it has none)."""
        if not decision.section:
            return None
        project = link.project_gid

        async def read() -> dict[str, Section]:
            return {s.name.strip().casefold(): s for s in await self._asana.sections_of(project)}

        sections = await self._sections.get_or_load(project, read) or {}
        section = sections.get(decision.section.strip().casefold())
        current = next(
            (
                (m.get("section") or {}).get("gid")
                for m in task.raw.get("memberships") or ()
                if (m.get("project") or {}).get("gid") == link.project_gid
            ),
            None,
        )
        return None if section is None or section.gid == current else section

    async def _apply(
        self, asana: AsanaPort, task: Task, link: Link, decision: Decision, section: Section | None
    ) -> Task:
        """Move first, then update: the update's answer then shows the task as both left it."""
        try:
            if section is not None:
                await asana.add_to_project(task.gid, link.project_gid, section_gid=section.gid)
            return await asana.update_task(task.gid, decision.changes) if decision.changes else task
        except AsanaNotFound:
            raise UserError(wording.UNFURL_TASK_GONE) from None
        except AsanaForbidden:
            raise UserError(wording.UNFURL_NOT_ALLOWED) from None

    async def _remember(
        self, tracked: TrackedTask, after: Task, decision: Decision, now: datetime, *, moved: bool
    ) -> TrackedTask:
        snapshot = remembered(tracked.snapshot, after.raw, decision, now=now, moved=moved)
        if decision.snooze_until is not None:
            snapshot[SNOOZED_UNTIL] = decision.snooze_until.isoformat()
        completed = after.completed if "completed" in decision.changes else tracked.completed
        updated = replace(tracked, snapshot=snapshot, completed=completed, updated_at=now)
        await self._tasks.save_tracked_task(updated)
        return updated

    async def _comment(
        self, asana: AsanaPort, click: NagClick, decision: Decision, after: Task, section: Section | None
    ) -> None:
        who = await self._slack.for_team(click.team_id).user_name(click.user)
        text = wording.nag_comment(
            decision, who=who, assignee=after.assignee_name, moved_to=section.name if section else None
        )
        try:
            await asana.comment(click.task_gid, text)
        except AsanaError as exc:
            # The change itself landed; a missing note about it is worth a log, not telling the clicker it failed.
            log.warning("task %s changed from a nag, but its comment was not written: %s", click.task_gid, exc)

    async def _edit_nag(self, click: NagClick, line: str, *, keep_actions: bool) -> None:
        if click.channel_id is None:
            return  # the App Home is published again instead
        text, edited = wording.nag_after(click.message_blocks, line, keep_actions=keep_actions)
        try:
            slack = self._slack.for_team(click.team_id)
            await slack.update_message(click.channel_id, click.message_ts, text, blocks=edited)
        except SlackError as exc:
            log.warning("could not edit nag %s in %s: %s", click.message_ts, click.channel_id, exc)

    async def _tell_thread(self, tracked: TrackedTask, line: str) -> None:
        """A click on the card: the card is drawn again, and who did what is said in the thread."""
        try:
            slack = self._slack.for_team(tracked.team_id)
            await slack.post_message(tracked.channel_id, line, thread_ts=tracked.thread_ts)
        except SlackError as exc:
            log.warning("could not tell the thread of task %s what was done: %s", tracked.task_gid, exc)


def _surface(click: NagClick) -> str:
    return "the App Home" if click.in_home else "a nag"
