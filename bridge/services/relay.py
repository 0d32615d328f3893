"""Relay: Asana changes into the Slack thread of their task, one concise reply per burst, with no echoes.

Events carry only ids, so each task is read once per burst and compared with the stored snapshot. What is said
where is relay_posts.py's; new tasks and subtasks (threads to start) are new_tasks.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from bridge import wording
from bridge.domain.identity import OwnWrite, own_change_kinds, wrote_comment
from bridge.domain.model import ClaimedEvent, TaskGid, TrackedTask
from bridge.domain.policy import Policy
from bridge.domain.relay import diff, next_snapshot
from bridge.domain.sla import DUE_SET_BY_BRIDGE, due_for_new_priority
from bridge.domain.work import Story, Task
from bridge.errors import AsanaForbidden, AsanaNotFound
from bridge.ports import AsanaPort, Clock, CommentStore, TaskStore, UserMappings
from bridge.services.answers import AnswerIndex
from bridge.services.cards import Cards
from bridge.services.new_tasks import BridgeUser, NewTasks
from bridge.services.outbox import ThreadNotReady
from bridge.services.relay_posts import Line, RelayPosts, about

log = logging.getLogger(__name__)
KIND_OF_CHANGE = {"reopened": "completed", "unassigned": "assigned"}
OwnWrites = Callable[[TaskGid], Awaitable[list[OwnWrite]]]  # what the bridge wrote to a task lately


class Relay:
    def __init__(
        self,
        *,
        tasks: TaskStore,
        comments: CommentStore,
        mappings: UserMappings,
        asana: AsanaPort,
        clock: Clock,
        bridge_user: BridgeUser,
        policy: Policy,
        cards: Cards,
        posts: RelayPosts,
        new_tasks: NewTasks,
        own_writes: OwnWrites | None = None,
        answers: AnswerIndex | None = None,
    ) -> None:
        self._cards = cards
        self._posts = posts
        self._new_tasks = new_tasks
        self._own_writes = own_writes
        self._policy = policy
        self._answers = answers  # the index of resolved work, fed with what this relay reads anyway
        self._tasks = tasks
        self._comments = comments
        self._mappings = mappings
        self._asana = asana
        self._clock = clock
        self._bridge_user = bridge_user

    async def relay_task(self, task_gid: str, events: Sequence[ClaimedEvent], *, untracked: bool = False) -> None:
        """Tell the task's thread what this burst of events changed (or start a thread for a new Asana task).
        `untracked`: the caller has just read that nobody follows the task (one read for a whole claim)."""
        me = self._bridge_user()
        human = [e for e in events if (e.event.payload.get("user") or {}).get("gid") != me]
        if not human:
            return  # the bridge's own changes: no echo
        tracked = None if untracked else await self._tasks.get_tracked_task(TaskGid(task_gid))
        if tracked is None:
            if (
                await self._posts.thread_coming(task_gid)
                and await self._tasks.get_tracked_task(TaskGid(task_gid)) is None
            ):
                # Told once the thread exists (the inbox tries again), not dropped as about a task nobody follows.
                raise ThreadNotReady(task_gid)
            await self._new_tasks.found(task_gid, human)
            return
        if any(e.event.action == "deleted" and e.event.resource_gid == task_gid for e in human):
            await self._posts.reply(tracked, about(tracked, [("deleted", wording.TASK_DELETED_LINE)]), human)
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
        await self._posts.reply(tracked, about(tracked, lines), human)
        # Only now is the new snapshot kept: had the post failed (or the process died), the next attempt compares
        # against the old one again and tells the same change, instead of finding nothing left to tell.
        if task is not None and updated is not None:
            await self._tasks.save_tracked_task(updated)
            if any(kind != "comments" for kind, _ in lines):
                await self._cards.refresh(updated)  # in quiet mode too: the card then says it all
            if any(kind == "assigned" for kind, _ in lines):
                await self._posts.tell_assignee(tracked, task, human)
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
        link = await self._posts.link_of(tracked)

        async def mention(gid: str | None) -> str | None:
            return await self._posts.mention(tracked, link, gid)

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
        author = await self._posts.mention(tracked, await self._posts.link_of(tracked), story.author_gid)
        return [("comments", wording.comment_line(story.author_name, story.text, mention=author))]

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


def _may_be_comment(item: ClaimedEvent) -> bool:
    """Asana writes a story for every change (assigned, marked complete…); only comments are worth a read. Events
    name the story's subtype; one that does not is read to find out."""
    subtype = (item.event.payload.get("resource") or {}).get("resource_subtype")
    return subtype in (None, "comment_added")
