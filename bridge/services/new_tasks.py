"""Finding new work for the relay: a task made in Asana in a linked project gets its own post in the channel, which
becomes its thread; a subtask added to a followed task is followed too, in its parent's thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bridge import wording
from bridge.domain.model import ClaimedEvent, MessageTs, ProjectGid, TaskGid, TrackedTask
from bridge.domain.relay import next_snapshot
from bridge.errors import AsanaForbidden, AsanaNotFound
from bridge.ports import AsanaPort, Clock, LinkReads, TaskStore
from bridge.services.cards import Cards, with_card
from bridge.services.relay_posts import RelayPosts

BridgeUser = Callable[[], str | None]  # the bridge's own Asana user gid, once known


class NewTasks:
    def __init__(
        self,
        *,
        links: LinkReads,
        tasks: TaskStore,
        asana: AsanaPort,
        clock: Clock,
        bridge_user: BridgeUser,
        cards: Cards,
        posts: RelayPosts,
    ) -> None:
        self._links = links
        self._tasks = tasks
        self._asana = asana
        self._clock = clock
        self._bridge_user = bridge_user
        self._cards = cards
        self._posts = posts

    async def found(self, task_gid: str, events: Sequence[ClaimedEvent]) -> None:
        """Events about a task nobody follows: start its thread if it is new work in a linked project."""
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
        if projects:
            await self._new_task(task_gid, ProjectGid(projects[0]), events)

    async def _new_task(self, task_gid: str, project: ProjectGid, events: Sequence[ClaimedEvent]) -> None:
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
        ts = await self._posts.root(link, events, text, card)
        tracked = with_card(replace(tracked, thread_ts=ts), ts)
        await self._tasks.save_tracked_task(tracked)
        await self._posts.tell_assignee(tracked, task, events)

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
        assignee = await self._posts.mention(parent, await self._posts.link_of(parent), task.assignee)
        await self._posts.reply(subtask, [("subtasks", wording.subtask_added_line(task, mention=assignee))], events)
        await self._posts.tell_assignee(subtask, task, events)
