"""Whom a nag mentions, and when: the person it is for, @mentioned when Slack knows them (else named), and only
within their own working hours. A nag decided on the team's calendar whose person is away waits here, by task,
until their hours open; the tick arms its task for that moment."""

from __future__ import annotations

from datetime import datetime

from bridge import wording
from bridge.domain.model import AsanaUserGid, Link, NagKey, SlackUserId, TaskGid, TrackedTask
from bridge.domain.nags import Mention, Nag, Role, TaskView
from bridge.domain.policy import Policy
from bridge.ports import SlackTeams, UserMappings
from bridge.services.people import People
from bridge.services.presence import Presence, Who


class NagMentions:
    def __init__(
        self,
        *,
        mappings: UserMappings,
        slack: SlackTeams,
        presence: Presence,
        policy: Policy,
        people: People | None = None,
    ) -> None:
        self._mappings = mappings
        self._slack = slack
        self._presence = presence
        self._policy = policy
        self._people = people  # finds assignees in Slack who never used the bridge (without it: names them)
        # Nags decided but waiting for their person's working hours, per task: (the task as judged, nag, when).
        # Their task is armed for that moment, so the tick that reads it sends them (the team's day may be over).
        self._waiting: dict[TaskGid, dict[NagKey, tuple[TaskView, Nag, datetime]]] = {}

    def waiting_tasks(self) -> frozenset[TaskGid]:
        """The tasks with a nag waiting for its person's hours (a quiet pre-pass must leave them to the tick)."""
        return frozenset(self._waiting)

    def next_at(self, task_gid: TaskGid) -> datetime | None:
        """When the first nag waiting on this task may go (None: none waits)."""
        waiting = self._waiting.get(task_gid)
        return min(at for _, _, at in waiting.values()) if waiting else None

    def forget(self, task_gid: TaskGid | None = None) -> None:
        """Forget what waits on one task (unlinked, done), or on every task (another replica leads)."""
        if task_gid is None:
            self._waiting.clear()
        else:
            self._waiting.pop(task_gid, None)

    def due(self, view: TaskView, decided: list[Nag], sent: set[NagKey], now: datetime) -> list[Nag]:
        """The nags decided now, less those waiting for their person, plus the waiting ones whose person is at work
        now and whose task has not changed since they were decided."""
        waiting = self._waiting.get(view.gid, {})
        work = [nag for nag in decided if nag.key not in waiting or waiting[nag.key][2] <= now]
        kinds = {(nag.key.kind, nag.key.stage) for nag in work}
        for key, (then, nag, at) in list(waiting.items()):
            if at > now:
                continue
            if key in sent or then != view or (key.kind, key.stage) in kinds:
                del waiting[key]  # sent, the task changed, or a later one of its kind is due: not this one
                continue
            work.append(nag)
        return work

    async def ready(
        self, link: Link, tracked: TrackedTask, view: TaskView, work: list[Nag], now: datetime
    ) -> tuple[list[Nag], datetime | None]:
        """Of the nags due, those whose person may be mentioned now; the others wait, and the second value says
        when the first of them may go (None: none waits)."""
        ready: list[Nag] = []
        retry: datetime | None = None
        try:
            for nag in work:
                at = await self._at(link, tracked, nag, now)
                if at > now:  # decided on the team's calendar, sent within the person's own hours
                    self._waiting.setdefault(view.gid, {})[nag.key] = (view, nag, at)
                    retry = min(retry or at, at)
                else:
                    self._waiting.get(view.gid, {}).pop(nag.key, None)
                    ready.append(nag)
        finally:
            if not self._waiting.get(view.gid):
                self._waiting.pop(view.gid, None)
        return ready, retry

    async def mention(self, link: Link, tracked: TrackedTask, mention: Mention | None) -> str | None:
        """<@U…> for someone the bridge can find in Slack, else their name, else nothing."""
        if mention is None:
            return None
        if mention.role == Role.REQUESTER:
            return f"<@{mention.who}>"
        if mention.role == Role.TRIAGER:
            user = await self._slack.for_team(link.team_id).user_by_email(mention.who)
            return f"<@{user}>" if user else wording.escape(mention.who)
        gid = AsanaUserGid(mention.who)
        if self._people is not None:
            person = await self._people.slack_user(tracked.team_id, gid, link.workspace_gid)
        else:
            person = await self._mappings.slack_user_for(tracked.team_id, gid)
        if person is not None:
            return f"<@{person}>"
        name = (tracked.snapshot.get("assignee") or {}).get("name")
        return wording.escape(str(name)) if name else None

    async def slack_user(self, tracked: TrackedTask, asana_user: AsanaUserGid) -> SlackUserId | None:
        """The Slack user the bridge knows for an Asana user, in the task's workspace (for a DM)."""
        return await self._mappings.slack_user_for(tracked.team_id, asana_user)

    async def _at(self, link: Link, tracked: TrackedTask, nag: Nag, now: datetime) -> datetime:
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
            who = Who(slack_user=await self._mappings.slack_user_for(tracked.team_id, gid), asana_user=gid)
        return await self._presence.mention_at(link, policy, now, who)
