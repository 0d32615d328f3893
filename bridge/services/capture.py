"""Capture: a Slack request becomes an Asana task in the channel's project, posted as the task's thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.adapters import blocks
from bridge.domain.commands import TaskCommand
from bridge.domain.model import ChannelId, MessageTs, SlackUserId, TeamId, TrackedTask
from bridge.domain.policy import Policy
from bridge.domain.work import Task, TaskDraft
from bridge.ports import AsanaPort, Clock, SlackPort, Store
from bridge.services.errors import UserError
from bridge.services.people import People

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Captured:
    task: Task
    thread_ts: MessageTs


class Capture:
    def __init__(
        self, *, store: Store, asana: AsanaPort, slack: SlackPort, people: People, clock: Clock, policy: Policy
    ) -> None:
        self._store = store
        self._asana = asana
        self._slack = slack
        self._people = people
        self._clock = clock
        self._policy = policy

    def today(self, team_id: TeamId, channel_id: ChannelId) -> datetime:
        """Now in the team's timezone, so that "tomorrow" means the team's tomorrow."""
        return self._clock.now().astimezone(ZoneInfo(self._policy.business_hours.timezone))

    async def create_from_command(
        self, team_id: TeamId, channel_id: ChannelId, requester: SlackUserId, command: TaskCommand
    ) -> Captured:
        link = await self._store.get_link(team_id, channel_id)
        if link is None:
            raise UserError(blocks.NOT_LINKED)
        requester_gid = await self._people.asana_user(team_id, requester, link.workspace_gid)
        assignee_gid = None
        if command.assignee:
            assignee_gid = await self._people.asana_user(team_id, command.assignee, link.workspace_gid)
            if assignee_gid is None:
                raise UserError(blocks.unknown_person(command.assignee))
        custom_fields: dict[str, str] = {}
        if command.priority and link.priority_field_gid:
            option = await self._priority_option(link.project_gid, link.priority_field_gid, command.priority)
            if option:
                custom_fields[link.priority_field_gid] = option
        draft = TaskDraft(
            name=command.title,
            project_gid=link.project_gid,
            notes=f"Created from Slack by {requester}.",
            # Without a priority the task waits in triage; with one it has been triaged by whoever typed it.
            section_gid=link.triage_section_gid if not command.priority else None,
            assignee=assignee_gid,
            followers=(requester_gid,) if requester_gid else (),
            due_on=command.due,
            custom_fields=custom_fields,
        )
        task = await self._asana.create_task(draft)
        text, task_blocks = blocks.task_message(
            task, requester=requester, assignee=command.assignee, priority=command.priority
        )
        thread_ts = await self._slack.post_message(channel_id, text, blocks=task_blocks)
        now = self._clock.now()
        await self._store.save_tracked_task(
            TrackedTask(
                task_gid=task.gid,
                project_gid=link.project_gid,
                team_id=team_id,
                channel_id=channel_id,
                thread_ts=thread_ts,
                permalink_url=task.permalink_url,
                name=task.name,
                created_at=now,
                updated_at=now,
                snapshot=task.raw,
                requester=requester,
            )
        )
        log.info("captured task %s in %s/%s", task.gid, team_id, channel_id)
        return Captured(task=task, thread_ts=thread_ts)

    async def _priority_option(self, project_gid: str, field_gid: str, priority: str) -> str | None:
        for field in await self._asana.custom_fields_of(project_gid):
            if field.gid == field_gid:
                option = field.option_named(priority)
                return option.gid if option else None
        return None
