"""Capture: a Slack request or message becomes one Asana task in the linked project, with its Slack thread.

Cost per capture with warm caches: create task, the "Acknowledge" subtask (links with an SLA), one addProject
per combined project; no reads. A message is captured at most once: the database claims (team, channel, ts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge import wording
from bridge.domain.model import (
    AsanaUserGid,
    Holder,
    Link,
    MessageTs,
    TaskGid,
    TrackedTask,
)
from bridge.domain.model import (
    Capture as CaptureRecord,
)
from bridge.domain.policy import Policy
from bridge.domain.sla import DUE_SET_BY_BRIDGE, sla_due_on
from bridge.domain.work import Task, TaskDraft
from bridge.errors import AsanaError, AsanaUnavailable, SlackError
from bridge.ports import AsanaPort, CaptureStore, Clock, LinkReads, OutboxStore, SlackTeams, TaskStore
from bridge.services.acting import Acting, ActingFor, as_bridge
from bridge.services.capture_placement import Placement
from bridge.services.capture_reading import Reader
from bridge.services.capture_recovery import Recovery
from bridge.services.capture_request import AfterCapture, AlreadyCaptured, Captured, CaptureRequest, Defer, marker
from bridge.services.cards import Cards, with_card
from bridge.services.errors import UserError
from bridge.services.outbox import Outbox, thread_key
from bridge.services.people import People

log = logging.getLogger(__name__)

CAPTURES_AT_ONCE = 8  # about half of Asana's 15 writes in flight: the rest is left to relays and nags


class Capture:
    def __init__(
        self,
        *,
        links: LinkReads,
        tasks: TaskStore,
        captures: CaptureStore,
        posts: OutboxStore,
        asana: AsanaPort,
        slack: SlackTeams,
        people: People,
        clock: Clock,
        policy: Policy,
        cards: Cards,
        holder: Holder | None = None,
        acting_for: ActingFor | None = None,
        after_capture: AfterCapture | None = None,
        defer: Defer | None = None,
        timer: Callable[[], float] = time.monotonic,  # what the lookups' lifetimes are counted on (tests move it)
    ) -> None:
        self._cards = cards
        self._outbox = Outbox(store=posts, slack=slack, clock=clock, holder=holder)
        self._after_capture = after_capture  # suggestions of earlier answers, in the new thread
        self._links = links
        self._tasks = tasks
        self._captures = captures
        self._asana = asana
        self._acting_for = acting_for or as_bridge(asana)
        self._people = people
        self._clock = clock
        self._policy = policy
        self._zone = ZoneInfo(policy.business_hours.timezone)  # read for every /task's "tomorrow"
        self._placement = Placement(asana=asana, timer=timer)
        self.reader = Reader(slack=slack, people=people)
        # What finishes captures cut off by a crash or an outage, and keeps /task commands until they end.
        self.recovery = Recovery(
            making=self, captures=captures, tasks=tasks, asana=asana, slack=slack, clock=clock, holder=holder
        )
        self._in_flight = asyncio.Semaphore(CAPTURES_AT_ONCE)
        # A /task's link back to Slack is written after the capture, one at a time: in a burst of commands the
        # tasks, their cards and their confirmations come first, and the loop stays free to ack the next ones.
        self._defer = defer
        self._linking_back = asyncio.Semaphore(1)

    def now(self) -> datetime:
        return self._clock.now()

    def today(self) -> date:
        """Today in the team's timezone, so that "tomorrow" means the team's tomorrow."""
        return self._clock.now().astimezone(self._zone).date()

    async def link_for(self, request: CaptureRequest) -> Link:
        if request.project_gid is None:
            link = await self._links.get_link(request.team_id, request.channel_id)
            if link is None:
                raise UserError(wording.NOT_LINKED)
            return link
        links = [
            link for link in await self._links.links_for_project(request.project_gid) if link.team_id == request.team_id
        ]
        if not links:
            raise UserError(wording.NOT_LINKED)
        same_channel = [link for link in links if link.channel_id == request.channel_id]
        return (same_channel or links)[0]

    async def capture(self, request: CaptureRequest) -> Captured | AlreadyCaptured:
        # A storm of commands queues here instead of crowding the loop, the database and the Asana pool, so the
        # acks of the commands still to come stay fast. The turn is for Asana's part only: the card then waits for
        # Slack's pace in its channel (about a post a second) without keeping captures elsewhere waiting.
        async with self._in_flight:
            made = await self._capture(request)
        if isinstance(made, AlreadyCaptured):
            return made
        return await self._announce(made)

    async def _capture(self, request: CaptureRequest) -> InAsana | AlreadyCaptured:
        link = await self.link_for(request)
        if request.source_ts is not None:
            claimed = await self._captures.claim_capture(
                CaptureRecord(request.team_id, request.channel_id, request.source_ts, None, self._clock.now())
            )
            if not claimed:
                return await self._already(request)
        try:
            return await self._create(request, link)
        except BaseException as exc:
            if request.source_ts is not None and not (isinstance(exc, AsanaUnavailable) and exc.sent):
                # Nothing was created: free the message so that a retry (or another reaction) can capture it.
                await self._captures.release_capture(request.team_id, request.channel_id, request.source_ts)
            raise

    async def _already(self, request: CaptureRequest) -> AlreadyCaptured:
        assert request.source_ts is not None
        record = await self._captures.get_capture(request.team_id, request.channel_id, request.source_ts)
        task_gid = record.task_gid if record else None
        tracked = await self._tasks.get_tracked_task(task_gid) if task_gid else None
        return AlreadyCaptured(task_gid=task_gid, permalink_url=tracked.permalink_url if tracked else None)

    async def _create(self, request: CaptureRequest, link: Link) -> InAsana:
        policy = self._policy.for_project(link.project_gid)
        requester_gid = await self._requester(request, link)
        assignee_gid: AsanaUserGid | None = None
        if request.assignee:
            assignee_gid = await self._people.asana_user(request.team_id, request.assignee, link.workspace_gid)
            if assignee_gid is None:
                raise UserError(wording.unknown_person(request.assignee))
        custom_fields: dict[str, str] = {}
        if request.priority and link.priority_field_gid:
            option = await self._placement.option(link, request.priority)
            if option is None:
                raise UserError(wording.unknown_priority(request.priority))
            custom_fields[link.priority_field_gid] = option
        followers: list[str] = [requester_gid] if requester_gid else []
        if policy.triage.triager and link.triage_section_gid:
            followers.append(policy.triage.triager)  # Asana takes an email wherever it takes a user
        # The Asana of whoever acts (their own, if connected), for the requester; the notes say on whose behalf the
        # bridge made it when it did (kept when the link back to Slack is written after the post).
        acting = (
            Acting(self._asana, as_person=False)
            if request.by_policy
            else await self._acting_for(request.team_id, request.actor or request.requester, link)
        )
        request = replace(request, notes=acting.notes(request.notes))
        draft = TaskDraft(
            name=request.title,
            project_gid=link.project_gid,
            html_notes=wording.notes_body(request.notes, marker=marker(request) if request.marker_key else None),
            section_gid=await self._placement.section_for(link, request.priority),
            assignee=assignee_gid,
            followers=tuple(AsanaUserGid(f) for f in dict.fromkeys(followers)),
            # No due date given: the priority's SLA sets one (which the bridge may move when the priority changes).
            due_on=request.due or sla_due_on(policy, request.priority, self._clock.now()),
            custom_fields=custom_fields,
        )
        task = await acting.asana.create_task(draft)
        if request.source_ts is not None:
            await self._captures.set_capture_task(request.team_id, request.channel_id, request.source_ts, task.gid)
        return await self._complete_in_asana(request, link, task)

    async def _requester(self, request: CaptureRequest, link: Link) -> AsanaUserGid | None:
        """The asker's Asana user, to follow the task; an asker nobody can look up is still captured."""
        try:
            return await self._people.asana_user(request.team_id, request.requester, link.workspace_gid)
        except SlackError as exc:
            log.warning(
                "capturing for %s without following them: Slack did not say who they are (%s)", request.requester, exc
            )
            return None

    async def finish(self, request: CaptureRequest, link: Link, task: Task) -> Captured:
        """Everything after the task exists; each step is safe to repeat."""
        return await self._announce(await self._complete_in_asana(request, link, task))

    async def _complete_in_asana(self, request: CaptureRequest, link: Link, task: Task) -> InAsana:
        """The task's "Acknowledge" subtask and its place in the combined projects."""
        policy = self._policy.for_project(link.project_gid)
        ack_gid: TaskGid | None = None
        if policy.capture.acknowledge and policy.sla.targets:
            ack = await self._asana.create_subtask(task.gid, wording.ACKNOWLEDGE_SUBTASK)
            ack_gid = ack.gid
        await self._placement.add_to_combined(task, link, policy.capture.combined_projects)
        return InAsana(request, link, task, ack_gid)

    async def _announce(self, made: InAsana) -> Captured:
        """The task's card in Slack, the task tracked, its link back to Slack, and what follows a capture."""
        request, link, task = made.request, made.link, made.task
        now = self._clock.now()
        tracked = TrackedTask(
            task_gid=task.gid,
            project_gid=link.project_gid,
            team_id=request.team_id,
            channel_id=request.channel_id,
            thread_ts=MessageTs(""),
            permalink_url=task.permalink_url,
            name=task.name,
            created_at=now,
            updated_at=now,
            snapshot=_first_snapshot(request, task),
            requester=request.requester,
            ack_subtask_gid=made.ack_subtask_gid,
        )
        # The task's card: the thread's root for /task; for a captured message (a person's, which the bridge may
        # not edit) the bridge's first reply in its thread. Through the outbox, once, through Slack's failures;
        # relays about the task wait for it (see Relay.relay_task).
        source = request.source_thread_ts or request.source_ts
        text, card = await self._cards.draw(tracked, link, in_thread=source is not None)
        ts = await self._outbox.post_once(
            key=thread_key(task.gid),
            team_id=request.team_id,
            channel=request.channel_id,
            thread_ts=source,
            text=text,
            blocks=card,
            until_sent=True,
        )
        thread_ts = source or ts
        await self._tasks.save_tracked_task(with_card(replace(tracked, thread_ts=thread_ts), ts))
        if source is None:
            link_back = self._link_back(request, task, ts)
            if self._defer is None:
                await link_back
            else:
                self._defer(link_back, f"link back {task.gid}")
        log.info("captured task %s in %s/%s", task.gid, request.team_id, request.channel_id)
        captured = Captured(task=task, thread_ts=thread_ts, link=link)
        if self._after_capture is not None:
            await self._after_capture(captured, request)
        return captured

    async def _link_back(self, request: CaptureRequest, task: Task, post_ts: MessageTs) -> None:
        """A /task's description gets its way back to Slack once the task's post exists (the post needs the task)."""
        async with self._linking_back:
            await self._write_link_back(request, task, post_ts)

    async def _write_link_back(self, request: CaptureRequest, task: Task, post_ts: MessageTs) -> None:
        permalink = await self.reader.permalink(request.team_id, request.channel_id, post_ts)
        if permalink is None:
            return
        notes = f"{wording.as_rich(request.notes)}\n\n{wording.from_slack(permalink)}"
        kept_marker = marker(request) if request.marker_key else None
        try:
            await self._asana.update_task(task.gid, {"html_notes": wording.notes_body(notes, marker=kept_marker)})
        except AsanaError as exc:  # the task and its thread exist: a description without its link is worth a log
            log.warning("task %s: the link back to Slack was not written: %s", task.gid, exc)


@dataclass(frozen=True)
class InAsana:
    """A capture's Asana part done: the task, its "Acknowledge" subtask, its combined projects."""

    request: CaptureRequest  # as made: its notes say on whose behalf, and the link back to Slack keeps them
    link: Link
    task: Task
    ack_subtask_gid: TaskGid | None


def _first_snapshot(request: CaptureRequest, task: Task) -> dict[str, Any]:
    """The task as created, remembering a due date the SLA chose so a later priority change may move it."""
    if request.due is None and request.priority and task.due_on is not None:
        return {**task.raw, DUE_SET_BY_BRIDGE: task.due_on.isoformat()}
    return dict(task.raw)
