"""Relay: Asana changes into the Slack thread of their task, one concise reply per burst, with no echoes.

Events carry only ids, so each task is read once per burst and compared with the stored snapshot. A reply is
recorded in the outbox before it is sent and carries its key in the message metadata, so a crash between the
send and the record is recovered by looking in the thread instead of posting twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bridge import wording
from bridge.domain.events import key_digest
from bridge.domain.identity import OwnWrite, own_change_kinds, wrote_comment
from bridge.domain.model import (
    AsanaUserGid,
    ChannelId,
    ClaimedEvent,
    Holder,
    Link,
    MessageTs,
    ProjectGid,
    TaskGid,
    TrackedTask,
)
from bridge.domain.policy import Policy
from bridge.domain.relay import diff, next_snapshot
from bridge.domain.sla import DUE_SET_BY_BRIDGE, due_for_new_priority
from bridge.domain.work import Story, Task
from bridge.errors import AsanaError, AsanaForbidden, AsanaNotFound, SlackError
from bridge.ports import AsanaPort, Clock, CommentStore, LinkReads, OutboxStore, SlackTeams, TaskStore, UserMappings
from bridge.services.answers import AnswerIndex
from bridge.services.cards import Cards, with_card
from bridge.services.outbox import Outbox, ThreadNotReady, thread_key
from bridge.services.people import People

log = logging.getLogger(__name__)
# A thread's card is retried for up to 15 minutes (Outbox.post_once until_sent); events wait a little longer.
THREAD_COMING_FOR = timedelta(minutes=20)
Line = tuple[str, str]  # (kind of change, as in [relay] kinds; the words)
KIND_OF_CHANGE = {"reopened": "completed", "unassigned": "assigned"}
BridgeUser = Callable[[], str | None]  # the bridge's own Asana user gid, once known
OwnWrites = Callable[[TaskGid], Awaitable[list[OwnWrite]]]  # what the bridge wrote to a task lately


class Relay:
    def __init__(
        self,
        *,
        links: LinkReads,
        tasks: TaskStore,
        comments: CommentStore,
        mappings: UserMappings,
        posts: OutboxStore,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        bridge_user: BridgeUser,
        policy: Policy,
        cards: Cards,
        people: People,
        in_flight_for: timedelta = timedelta(seconds=60),
        holder: Holder | None = None,
        own_writes: OwnWrites | None = None,
        answers: AnswerIndex | None = None,
    ) -> None:
        self._cards = cards
        self._people = people
        self._own_writes = own_writes
        self._policy = policy
        self._answers = answers  # the index of resolved work, fed with what this relay reads anyway
        self._links = links
        self._tasks = tasks
        self._comments = comments
        self._mappings = mappings
        self._posts = posts
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._bridge_user = bridge_user
        self._outbox = Outbox(store=posts, slack=slack, clock=clock, in_flight_for=in_flight_for, holder=holder)

    async def relay_task(self, task_gid: str, events: Sequence[ClaimedEvent], *, untracked: bool = False) -> None:
        """Tell the task's thread what this burst of events changed (or start a thread for a new Asana task).
        `untracked`: the caller has just read that nobody follows the task (one read for a whole claim)."""
        me = self._bridge_user()
        human = [e for e in events if (e.event.payload.get("user") or {}).get("gid") != me]
        if not human:
            return  # the bridge's own changes: no echo
        tracked = None if untracked else await self._tasks.get_tracked_task(TaskGid(task_gid))
        if tracked is None:
            await self._unless_thread_coming(task_gid)
            await self._maybe_new_task(task_gid, human)
            return
        if any(e.event.action == "deleted" and e.event.resource_gid == task_gid for e in human):
            await self._post(tracked, _about(tracked, [("deleted", wording.TASK_DELETED_LINE)]), human)
            return
        # Changes the bridge made with a person's token come back as theirs: recognised by what was written.
        own = await self._own_writes(tracked.task_gid) if self._own_writes else []
        lines: list[Line] = []
        comments: list[Story] = []
        for item in human:
            if item.event.resource_type == "story" and item.event.action == "added" and _may_be_comment(item):
                lines.extend(await self._comment_lines(tracked, item.event.resource_gid, comments, own))
        # Any task event (changed, or added to/removed from a section or project) is a reason to read and compare;
        # the comparison decides whether there is anything to tell.
        task_changed = any(e.event.resource_type == "task" and e.event.action != "deleted" for e in human)
        task: Task | None = None
        updated: TrackedTask | None = None
        if task_changed:
            task, updated, task_lines = await self._task_lines(tracked, own)
            lines[:0] = task_lines
        await self._post(tracked, _about(tracked, lines), human)
        # Only now is the new snapshot kept: had the post failed (or the process died), the next attempt compares
        # against the old one again and tells the same change, instead of finding nothing left to tell.
        if task is not None and updated is not None:
            await self._tasks.save_tracked_task(updated)
            if any(kind != "comments" for kind, _ in lines):
                await self._cards.refresh(updated)  # in quiet mode too: the card then says it all
            if any(kind == "assigned" for kind, _ in lines):
                await self._tell_assignee(tracked, task, human)
        if self._answers is not None:
            await self._answers.saw(updated or tracked, task=task, stories=comments)

    async def _task_lines(
        self, tracked: TrackedTask, own: Sequence[OwnWrite] = ()
    ) -> tuple[Task | None, TrackedTask | None, list[Line]]:
        """The task as Asana has it now, the tracked task to keep once told, and what changed."""
        try:
            task = await self._asana.task(tracked.task_gid)
        except (AsanaNotFound, AsanaForbidden):
            return None, None, [("deleted", wording.TASK_DELETED_LINE)]
        link = await self._link_of(tracked)

        async def mention(gid: str | None) -> str | None:
            return await self._slack_user(tracked, link, gid)

        changes = diff(
            tracked.snapshot,
            task.raw,
            project_gid=tracked.project_gid,
            priority_field=link.priority_field_gid if link else None,
        )
        if own:
            echoed = own_change_kinds(
                own,
                task.raw,
                project_gid=tracked.project_gid,
                priority_field=link.priority_field_gid if link else None,
                now=self._clock.now(),
            )
            changes = [change for change in changes if change.kind not in echoed]
        snapshot = next_snapshot(tracked.snapshot, task.raw, now=self._clock.now(), project_gid=tracked.project_gid)
        lines = [
            (KIND_OF_CHANGE.get(c.kind, c.kind), wording.change_line(c, mention=await mention(c.who))) for c in changes
        ]
        priority = next((c for c in changes if c.kind == "priority"), None)
        if priority is not None and tracked.parent_gid is None:
            lines.extend(await self._due_from_sla(tracked, snapshot, priority.value))
        updated = replace(
            tracked, snapshot=snapshot, completed=task.completed, name=task.name, updated_at=self._clock.now()
        )
        return task, updated, lines

    async def _due_from_sla(self, tracked: TrackedTask, snapshot: dict[str, Any], priority: str | None) -> list[Line]:
        """A priority set in Asana sets the due date from its SLA, unless a person chose the due date by hand."""
        policy = self._policy.for_project(tracked.project_gid)
        set_by_bridge = snapshot.get(DUE_SET_BY_BRIDGE)
        due = due_for_new_priority(
            policy, priority, snapshot, set_by_bridge=set_by_bridge, created_at=tracked.created_at
        )
        if due is None:
            return []
        await self._asana.update_task(tracked.task_gid, {"due_on": due.isoformat()})
        snapshot["due_on"] = snapshot[DUE_SET_BY_BRIDGE] = due.isoformat()
        return [("due", wording.sla_due_line(due, priority))]

    async def _unless_thread_coming(self, task_gid: str) -> None:
        """A task captured moments ago has no thread yet while its card is on its way (Slack failing, say): what
        happens to it meanwhile is told once the thread exists, not dropped as about a task nobody follows."""
        card = await self._posts.get_outbox_post(thread_key(task_gid))
        if card is None or self._clock.now() - card.created_at >= THREAD_COMING_FOR:
            return
        if await self._tasks.get_tracked_task(TaskGid(task_gid)) is None:
            raise ThreadNotReady(task_gid)

    async def _tell_assignee(self, tracked: TrackedTask, task: Task, events: Sequence[ClaimedEvent]) -> None:
        """A DM to the new assignee, if they asked for one in the App Home and did not assign it to themselves."""
        assignee = task.assignee
        if assignee is None or any((e.event.payload.get("user") or {}).get("gid") == assignee for e in events):
            return
        people = await self._mappings.assignment_dm_subscribers(tracked.team_id, assignee)
        if not people:
            return
        thread_url = await self._thread_url(tracked)
        text, post = wording.assignment_dm(task, channel=tracked.channel_id, thread_url=thread_url)
        for person in people:
            key = f"{_key(events)}:dm:{person}"
            await self._outbox.post_once(
                key=key, team_id=tracked.team_id, channel=ChannelId(person), thread_ts=None, text=text, blocks=post
            )

    async def _thread_url(self, tracked: TrackedTask) -> str | None:
        try:
            return await self._slack.for_team(tracked.team_id).permalink(tracked.channel_id, tracked.thread_ts)
        except SlackError:
            return None  # the DM still says which channel

    async def _comment_lines(
        self, tracked: TrackedTask, story_gid: str, read: list[Story], own: Sequence[OwnWrite] = ()
    ) -> list[Line]:
        if await self._comments.is_bridge_comment(story_gid):
            return []  # written by the bridge from a Slack reply: it is in the thread already
        try:
            story = await self._asana.story(story_gid)
        except (AsanaNotFound, AsanaForbidden):
            return []
        if story.subtype != "comment_added" or story.author_gid == self._bridge_user():
            return []
        if wrote_comment(own, story.text, now=self._clock.now()):
            return []  # written by the bridge with a person's token (a nag button's note): told already
        read.append(story)
        await self._acknowledge(tracked, story.author_gid)
        author = await self._slack_user(tracked, await self._link_of(tracked), story.author_gid)
        return [("comments", wording.comment_line(story.author_name, story.text, mention=author))]

    async def _slack_user(self, tracked: TrackedTask, link: Link | None, asana_gid: str | None) -> str | None:
        """The Slack user of someone a line names, so that the line @mentions them; None when not in Slack."""
        if asana_gid is None or link is None:
            return None
        try:
            return await self._people.slack_user(tracked.team_id, AsanaUserGid(asana_gid), link.workspace_gid)
        except (AsanaError, SlackError) as exc:  # the line names them instead
            log.info("no Slack user found for %s: %s", asana_gid, exc)
            return None

    async def _acknowledge(self, tracked: TrackedTask, author_gid: str | None) -> None:
        """A comment in Asana by someone other than the requester is a first response too."""
        if tracked.ack_subtask_gid is None or tracked.first_response_at is not None or author_gid is None:
            return
        requester = (
            await self._mappings.get_user_mapping(tracked.team_id, tracked.requester) if tracked.requester else None
        )
        if requester is not None and requester.asana_user_gid == author_gid:
            return
        if await self._tasks.record_first_response(tracked.task_gid, at=self._clock.now(), responder=None):
            await self._asana.update_task(tracked.ack_subtask_gid, {"completed": True})

    async def _maybe_new_task(self, task_gid: str, events: Sequence[ClaimedEvent]) -> None:
        """A task created in Asana in a linked project gets its own post in the channel, which becomes its thread;
        a subtask added to a followed task is followed too, in its parent's thread."""
        parents = {
            (str(parent.get("resource_type")), str(parent.get("gid")))
            for e in events
            if e.event.resource_type == "task"
            and e.event.action == "added"
            and (parent := e.event.payload.get("parent") or {}).get("gid")
        }
        subtask_of = [gid for kind, gid in parents if kind == "task"]
        if subtask_of:
            await self._new_subtask(task_gid, TaskGid(subtask_of[0]), events)
            return
        projects = sorted(gid for kind, gid in parents if kind == "project")
        if not projects:
            return
        project = ProjectGid(projects[0])
        links = await self._links.links_for_project(project)
        if not links:
            return
        try:
            task = await self._asana.task(task_gid)
        except (AsanaNotFound, AsanaForbidden):
            return
        if task.raw.get("parent"):
            return  # subtasks (the bridge's "Acknowledge" among them) live in their parent's thread
        if self._bridge_user() in {str(f.get("gid")) for f in task.raw.get("followers") or []}:
            # Asana makes a task's creator its follower: this one the bridge made (a capture finishing right now,
            # seen by a re-crawl whose events name no user), and the capture posts its thread.
            return
        link = links[0]
        if link.quiet or (link.relay_kinds is not None and "new_tasks" not in link.relay_kinds):
            return  # this channel does not want threads for tasks made in Asana
        now = self._clock.now()
        tracked = TrackedTask(
            task_gid=task.gid,
            project_gid=project,
            team_id=link.team_id,
            channel_id=link.channel_id,
            thread_ts=MessageTs(""),
            permalink_url=task.permalink_url,
            name=task.name,
            created_at=now,
            updated_at=now,
            snapshot=next_snapshot({}, task.raw),
            completed=task.completed,
        )
        text, card = await self._cards.draw(tracked, link, in_thread=False)
        text, card = wording.created_in_asana(text, card)
        ts = await self._outbox.post_once(
            key=_key(events), team_id=link.team_id, channel=link.channel_id, thread_ts=None, text=text, blocks=card
        )
        tracked = with_card(replace(tracked, thread_ts=ts), ts)
        await self._tasks.save_tracked_task(tracked)
        await self._tell_assignee(tracked, task, events)

    async def _new_subtask(self, task_gid: str, parent_gid: TaskGid, events: Sequence[ClaimedEvent]) -> None:
        parent = await self._tasks.get_tracked_task(parent_gid)
        if parent is None:
            return  # a subtask of a task no thread follows
        try:
            task = await self._asana.task(task_gid)
        except (AsanaNotFound, AsanaForbidden):
            return
        now = self._clock.now()
        subtask = replace(
            parent,
            task_gid=task.gid,
            permalink_url=task.permalink_url,
            name=task.name,
            created_at=now,
            updated_at=now,
            snapshot=next_snapshot({}, task.raw),
            requester=None,
            completed=task.completed,
            ack_subtask_gid=None,
            first_response_at=None,
            first_responder=None,
            parent_gid=parent.task_gid,
        )
        await self._tasks.save_tracked_task(subtask)
        assignee = await self._slack_user(parent, await self._link_of(parent), task.assignee)
        await self._post(subtask, [("subtasks", wording.subtask_added_line(task, mention=assignee))], events)
        await self._tell_assignee(subtask, task, events)

    async def _post(self, tracked: TrackedTask, lines: list[Line], events: Sequence[ClaimedEvent]) -> None:
        """One reply with the lines the channel wants (none in quiet mode: the root message says enough)."""
        link = await self._link_of(tracked)
        if link is not None and (link.quiet or link.relay_kinds is not None):
            lines = [] if link.quiet else [(kind, line) for kind, line in lines if kind in (link.relay_kinds or ())]
        if not lines:
            return
        text, reply = wording.relay_message([line for _, line in lines])
        await self._outbox.reply(tracked, key=_key(events), text=text, blocks=reply)

    async def _link_of(self, tracked: TrackedTask) -> Link | None:
        return await self._links.get_link(tracked.team_id, tracked.channel_id)


def _may_be_comment(item: ClaimedEvent) -> bool:
    """Asana writes a story for every change (assigned, marked complete…); only comments are worth a read. Events
    name the story's subtype; one that does not is read to find out."""
    subtype = (item.event.payload.get("resource") or {}).get("resource_subtype")
    return subtype in (None, "comment_added")


def _about(tracked: TrackedTask, lines: list[Line]) -> list[Line]:
    """A subtask's news is told in its parent's thread, saying which subtask it is about."""
    if tracked.parent_gid is None:
        return lines
    return [("subtasks", wording.subtask_line(tracked.name, line)) for _, line in lines]


def _key(events: Sequence[ClaimedEvent]) -> str:
    """The same burst of events always makes the same post key (the digests only: as it was before keys had their
    time prefix, so that a post sent before that upgrade is still found)."""
    keys = sorted(key_digest(e.event.dedupe_key) for e in events)
    return hashlib.sha256("|".join(keys).encode()).hexdigest()[:32]
