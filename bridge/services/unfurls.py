"""Unfurls: a pasted Asana task link shows the task; its Done and Assign-to-me buttons act for the clicker."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from bridge import wording
from bridge.domain.commands import parse_task_ref
from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, TeamId, WorkspaceGid
from bridge.domain.policy import Policy
from bridge.domain.work import Task
from bridge.errors import ApiError, AsanaError, AsanaForbidden, AsanaNotFound
from bridge.ports import AsanaPort, LinkReads, SlackTeams, TaskStore
from bridge.services.acting import ActingFor, as_bridge
from bridge.services.errors import UserError
from bridge.services.people import People

log = logging.getLogger(__name__)

# Cost: one task read per distinct task of a `link_shared` event, then one chat.unfurl (none when nothing is visible).
# A click: one read of the task's current state, then, only when something changes, one update and one comment (a
# cold user mapping adds the email lookup). Asana's rate limit is per token and shared with everything else.

# A message full of task links must not turn into a burst of Asana reads that starves the bridge's other work.
MAX_TASKS_PER_MESSAGE = 10


class Unfurls:
    def __init__(
        self,
        *,
        asana: AsanaPort,
        slack: SlackTeams,
        people: People,
        policy: Policy,
        workspace_gid: Callable[[], str | None],
        links: LinkReads,
        tasks: TaskStore,
        acting_for: ActingFor | None = None,
    ) -> None:
        # To keep each Slack workspace to its own tasks (many workspaces: OAuth install).
        self._links = links
        self._tasks = tasks
        self._asana = asana
        self._acting_for = acting_for or as_bridge(asana)
        self._slack = slack
        self._people = people
        self._policy = policy
        self._workspace_gid = workspace_gid
        # One click at a time per task in this process, so that a double click reads the first click's result.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def unfurl(self, team: TeamId, channel: str, message_ts: str, urls: Sequence[str]) -> int:
        """Preview every task link of one message of workspace `team` that the bridge can see; returns how many links
        were unfurled."""
        links: dict[TaskGid, list[str]] = {}
        for url in dict.fromkeys(urls):
            gid = parse_task_ref(url)
            if gid is not None:
                links.setdefault(TaskGid(gid), []).append(url)
        wanted = list(links)[:MAX_TASKS_PER_MESSAGE]
        if len(links) > len(wanted):
            log.info(
                "message %s in %s links %d tasks; previewing the first %d", message_ts, channel, len(links), len(wanted)
            )
        tasks = await asyncio.gather(*(self._visible(gid) for gid in wanted))
        unfurls: dict[str, Any] = {}
        for gid, task in zip(wanted, tasks, strict=True):
            if task is None or (team and await self._elsewhere(team, task)):
                continue
            assignee = await self._slack_user(team, task.assignee) if team and task.assignee else None
            for url in links[gid]:
                preview = wording.task_unfurl(task, priority=self._priority(task), url=url, assignee=assignee)
                unfurls[url] = {"blocks": preview}
        if not unfurls:
            return 0
        try:
            await self._slack.for_team(team).unfurl(channel, message_ts, unfurls)
        except ApiError as exc:
            # A preview is a courtesy: the message is there either way.
            log.warning("could not unfurl %d links in %s/%s: %s", len(unfurls), channel, message_ts, exc)
            return 0
        return len(unfurls)

    async def _slack_user(self, team: TeamId, asana_gid: AsanaUserGid) -> str | None:
        """The assignee's Slack user, so that the preview @mentions them (None: it names them)."""
        workspace = self._workspace_gid()
        if not workspace:
            return None
        try:
            return await self._people.slack_user(team, asana_gid, WorkspaceGid(workspace))
        except ApiError as exc:
            log.info("no Slack user found for %s: %s", asana_gid, exc)
            return None

    async def complete(self, team_id: TeamId, user: SlackUserId, task_gid: TaskGid) -> str:
        """The Done button: complete the task for the clicker; returns what to tell them."""
        await self._clicker(team_id, user)
        async with self._lock(task_gid):
            task = await self._current(task_gid, team_id)
            if task.completed:
                return wording.unfurl_already_completed(task)
            acting = await self._acting_for(team_id, user, None)  # the clicker's own Asana, if connected
            task = await self._change(acting.asana, task_gid, {"completed": True})
            await self._record(
                acting.asana,
                task_gid,
                wording.completed_from_slack(await self._slack.for_team(team_id).user_name(user)),
            )
            log.info("task %s completed from an unfurl by %s", task_gid, user)
            return wording.unfurl_completed(task)

    async def assign_to_me(self, team_id: TeamId, user: SlackUserId, task_gid: TaskGid) -> str:
        """The Assign-to-me button: make the clicker the assignee; returns what to tell them."""
        asana_user = await self._clicker(team_id, user)
        async with self._lock(task_gid):
            task = await self._current(task_gid, team_id)
            if task.assignee == asana_user:
                return wording.unfurl_already_assigned(task)
            acting = await self._acting_for(team_id, user, None)  # the clicker's own Asana, if connected
            task = await self._change(acting.asana, task_gid, {"assignee": asana_user})
            who = await self._slack.for_team(team_id).user_name(user)
            await self._record(acting.asana, task_gid, wording.assigned_from_slack(task.assignee_name or who, who))
            log.info("task %s assigned from an unfurl to %s", task_gid, user)
            return wording.unfurl_assigned(task)

    async def _elsewhere(self, team_id: TeamId, task: Task) -> bool:
        """Whether the task is another Slack workspace's (followed in its thread, or in a project only it links):
        then this workspace neither sees it unfurled nor changes it with a button."""
        tracked = await self._tasks.get_tracked_task(task.gid)
        if tracked is not None:
            return tracked.team_id != team_id
        teams = {link.team_id for project in task.project_gids for link in await self._links.links_for_project(project)}
        return bool(teams) and team_id not in teams

    async def _visible(self, task_gid: TaskGid) -> Task | None:
        try:
            return await self._asana.task(task_gid)
        except (AsanaNotFound, AsanaForbidden):
            log.info("not unfurling task %s: the bridge's Asana user cannot see it", task_gid)
        except AsanaError as exc:
            log.warning("not unfurling task %s: %s", task_gid, exc)
        return None

    def _priority(self, task: Task) -> str | None:
        """The task's priority, read from the field the policy names for its project(s) (no extra read)."""
        names = [self._policy.for_project(p).triage.priority_field for p in task.project_gids]
        for name in dict.fromkeys([*names, self._policy.triage.priority_field]):
            value = task.enum_value(name)
            if value:
                return value
        return None

    async def _clicker(self, team_id: TeamId, user: SlackUserId) -> AsanaUserGid:
        workspace = self._workspace_gid()
        if workspace is None:
            raise RuntimeError("the bridge's Asana workspace is not known yet (Bridge.start has not run)")
        asana_user = await self._people.asana_user(team_id, user, WorkspaceGid(workspace))
        if asana_user is None:
            raise UserError(wording.unfurl_unmapped(user))
        return asana_user

    async def _current(self, task_gid: TaskGid, team_id: TeamId) -> Task:
        try:
            task = await self._asana.task(task_gid)
        except (AsanaNotFound, AsanaForbidden):
            raise UserError(wording.UNFURL_TASK_GONE) from None
        if await self._elsewhere(team_id, task):
            raise UserError(wording.UNFURL_TASK_GONE)  # as if it were gone: another workspace's task is not told
        return task

    async def _change(self, asana: AsanaPort, task_gid: TaskGid, changes: dict[str, Any]) -> Task:
        try:
            return await asana.update_task(task_gid, changes)
        except AsanaNotFound:
            raise UserError(wording.UNFURL_TASK_GONE) from None
        except AsanaForbidden:
            raise UserError(wording.UNFURL_NOT_ALLOWED) from None

    async def _record(self, asana: AsanaPort, task_gid: TaskGid, text: str) -> None:
        try:
            await asana.comment(task_gid, text)
        except AsanaError as exc:
            # The change itself landed; a missing note about it is worth a log, not telling the clicker it failed.
            log.warning("task %s changed from Slack, but its comment was not written: %s", task_gid, exc)

    def _lock(self, task_gid: TaskGid) -> asyncio.Lock:
        lock = self._locks.get(task_gid)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[task_gid] = lock
        return lock
