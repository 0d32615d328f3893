"""What a connected person's Asana looks like to the services: the gateway with their token, which remembers what
it writes (so the relay does not echo it) and turns Asana's 403/404 into a private answer, never a retry as the bot.

Everything else is passed through unchanged: the services call it exactly as they call the bridge's own gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, NoReturn

from bridge import wording
from bridge.domain.access import ProjectAccess
from bridge.domain.identity import OwnWrite, digest, writes_of_update
from bridge.domain.model import AsanaUserGid, Link, SlackUserId, TaskGid, TeamId, WorkspaceGid
from bridge.domain.work import AsanaUser, CustomField, EventsPage, Project, Section, Story, Task, TaskDraft, Webhook
from bridge.errors import AsanaForbidden, AsanaNotFound
from bridge.ports import AsanaPort, Clock, IdentityStore
from bridge.services.errors import UserError


@dataclass(frozen=True)
class Acting:
    """The Asana a person's action goes through: their own (`as_person`), or the bridge's on their behalf."""

    asana: AsanaPort
    as_person: bool
    on_behalf_of: str | None = None  # the words for Asana when the bridge acts for someone not connected

    def notes(self, notes: str) -> str:
        """A new task's notes, saying on whose behalf the bridge made it when it did."""
        return f"{notes}\n\n{self.on_behalf_of}".strip() if self.on_behalf_of else notes


# The seam every action from Slack asks: which Asana to act through for this person (services/identity.py decides).
ActingFor = Callable[[TeamId, SlackUserId, Link | None], Awaitable[Acting]]


def as_bridge(asana: AsanaPort) -> ActingFor:
    """Everyone acts through the bridge's own Asana user (no Asana OAuth app configured)."""

    async def acting_for(team_id: TeamId, user: SlackUserId, link: Link | None) -> Acting:
        return Acting(asana, as_person=False)

    return acting_for


class PersonAsana:
    """AsanaPort over a person's token; `bridge_user` is added as a follower of the tasks it creates, so the bridge
    can still read them to relay (and knows them for its own, like tasks it made itself)."""

    def __init__(
        self,
        asana: AsanaPort,
        *,
        store: IdentityStore,
        clock: Clock,
        project_name: str | None,
        bridge_user: Callable[[], str | None],
    ) -> None:
        self._asana = asana
        self._store = store
        self._clock = clock
        self._project_name = project_name
        self._bridge_user = bridge_user

    def _refused(self, exc: AsanaForbidden | AsanaNotFound) -> NoReturn:
        if exc.status == 401:  # the token itself was refused (revoked in Asana since its last renewal)
            raise UserError(wording.CONNECTION_REFUSED) from exc
        raise UserError(wording.no_access(self._project_name)) from exc

    async def _remember(self, writes: Sequence[OwnWrite]) -> None:
        # Before the write: its event may be relayed before the call even returns.
        await self._store.record_own_writes(writes)

    # ---- writes: remembered, and refused privately

    async def delete_task(self, task_gid: str) -> None:
        await self._asana.delete_task(task_gid)

    async def create_task(self, draft: TaskDraft) -> Task:
        bridge = self._bridge_user()
        if bridge:
            draft = replace(draft, followers=tuple(dict.fromkeys((*draft.followers, AsanaUserGid(bridge)))))
        try:
            return await self._asana.create_task(draft)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task:
        try:
            return await self._asana.create_subtask(parent, name, assignee=assignee)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task:
        await self._remember(writes_of_update(TaskGid(task_gid), changes, now=self._clock.now()))
        try:
            return await self._asana.update_task(task_gid, changes)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None:
        if section_gid:
            await self._remember([OwnWrite(TaskGid(task_gid), "section", digest(section_gid), self._clock.now())])
        try:
            await self._asana.add_to_project(task_gid, project_gid, section_gid=section_gid)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None:
        try:
            await self._asana.add_followers(task_gid, users)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def comment(self, task_gid: str, text: str) -> str:
        await self._remember([OwnWrite(TaskGid(task_gid), "comment", digest(text), self._clock.now())])
        try:
            return await self._asana.comment(task_gid, text)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def edit_comment(self, story_gid: str, text: str) -> None:
        try:
            await self._asana.edit_comment(story_gid, text)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def delete_comment(self, story_gid: str) -> None:
        await self._asana.delete_comment(story_gid)

    # ---- reads: what the person may see

    async def task(self, task_gid: str) -> Task:
        try:
            return await self._asana.task(task_gid)
        except (AsanaForbidden, AsanaNotFound) as exc:
            self._refused(exc)

    async def me(self) -> AsanaUser:
        return await self._asana.me()

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None:
        return await self._asana.user_by_email(email, workspace_gid)

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        return await self._asana.out_of_office(user_gid, workspace_gid, start=start, end=end)

    async def project(self, project_gid: str) -> Project:
        return await self._asana.project(project_gid)

    async def project_access(self, project_gid: str) -> ProjectAccess:
        return await self._asana.project_access(project_gid)

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]:
        return await self._asana.team_members(team_gid)

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool:
        return await self._asana.is_guest(user_gid, workspace_gid)

    async def sections_of(self, project_gid: str) -> list[Section]:
        return await self._asana.sections_of(project_gid)

    async def create_section(self, project_gid: str, name: str) -> Section:
        return await self._asana.create_section(project_gid, name)

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]:
        return await self._asana.custom_fields_of(project_gid)

    async def story(self, story_gid: str) -> Story:
        return await self._asana.story(story_gid)

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]:
        return await self._asana.tasks_modified_since(project_gid, since)

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        return await self._asana.create_webhook(resource_gid, target, filters)

    async def delete_webhook(self, webhook_gid: str) -> None:
        await self._asana.delete_webhook(webhook_gid)

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        return await self._asana.webhooks_of(workspace_gid, resource_gid)

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        return await self._asana.events_since(resource_gid, sync)
