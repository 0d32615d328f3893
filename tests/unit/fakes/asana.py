"""FakeAsana: Asana's tasks as its JSON, every call recorded."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

from bridge.adapters.asana_json import task_from
from bridge.domain.access import Privacy, ProjectAccess
from bridge.domain.model import (
    AsanaUserGid,
    TaskGid,
    WorkspaceGid,
)
from bridge.domain.work import AsanaUser, CustomField, EventsPage, Project, Section, Story, Task, TaskDraft, Webhook
from bridge.errors import AsanaNotFound

task_of = task_from  # a task as the gateway reads Asana's JSON


class FakeAsana:
    """Asana as a few dicts of its JSON; every call is recorded in `calls` as (method, first argument…)."""

    def __init__(self, *, me: AsanaUser | None = None, users: Sequence[AsanaUser] = ()) -> None:
        self.me_user = me or AsanaUser(AsanaUserGid("1"), "Bridge", None, (WorkspaceGid("w1"),))
        self.users = {u.gid: u for u in users}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, Project] = {}
        self.sections: dict[str, list[Section]] = {}
        self.fields: dict[str, list[CustomField]] = {}
        self.stories: dict[str, Story] = {}
        self.comments: list[tuple[str, str]] = []  # task gid, text
        self.out: dict[str, list[tuple[date, date]]] = {}  # user gid → out-of-office spans
        self.access: dict[str, ProjectAccess] = {}  # who may change a project's tasks (none: private, no members)
        self.guests: set[str] = set()  # user gids that are guests of the workspace
        self.webhooks: list[Webhook] = []
        self.calls: list[tuple[Any, ...]] = []
        self.failures: dict[str, list[Exception]] = {}  # method → errors its next calls raise, in order
        self.lost_answers: dict[str, list[Exception]] = {}  # the same, raised after the call took effect
        # What Asana does inside create_webhook: the handshake POST to the target, with the secret it reports.
        self.handshake: Callable[[str, str], Awaitable[None]] | None = None
        self.handshake_secret: str | None = None  # what create_webhook reports; None: the one it sent
        self._gids = itertools.count(9000)

    def writes(self) -> list[tuple[Any, ...]]:
        """The calls that changed something in Asana."""
        reads = {"me", "user_by_email", "out_of_office", "project", "project_access", "is_guest", "task", "sections_of"}
        reads |= {"story", "custom_fields_of", "webhooks_of", "tasks_modified_since"}
        return [call for call in self.calls if call[0] not in reads]

    def add_task(self, gid: str, name: str, **raw: Any) -> dict[str, Any]:
        self.tasks[gid] = {"gid": gid, "name": name, "permalink_url": f"https://app.asana.com/0/0/{gid}", **raw}
        return self.tasks[gid]

    def _gid(self) -> str:
        return str(next(self._gids))

    def _call(self, call: tuple[Any, ...]) -> None:
        """Record a call, then raise the failure queued for that method, if any."""
        self.calls.append(call)
        queued = self.failures.get(call[0])
        if queued:
            raise queued.pop(0)

    async def me(self) -> AsanaUser:
        self._call(("me",))
        return self.me_user

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None:
        self._call(("user_by_email", email))
        # Asana's GET /users/{user} takes an email or a gid alike.
        return next((u for u in self.users.values() if email in (u.email, u.gid)), None)

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        self._call(("out_of_office", user_gid))
        return [(first, last) for first, last in self.out.get(user_gid, []) if first <= end and last >= start]

    async def project(self, project_gid: str) -> Project:
        self._call(("project", project_gid))
        if project_gid not in self.projects:
            raise AsanaNotFound(f"project {project_gid}", status=404)
        return self.projects[project_gid]

    async def project_access(self, project_gid: str) -> ProjectAccess:
        self._call(("project_access", project_gid))
        return self.access.get(project_gid) or ProjectAccess(Privacy.PRIVATE, frozenset())

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]:
        raise NotImplementedError("no unit test reads team members yet")

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool:
        self._call(("is_guest", user_gid))
        return user_gid in self.guests

    async def sections_of(self, project_gid: str) -> list[Section]:
        self._call(("sections_of", project_gid))
        return list(self.sections.get(project_gid, []))

    async def create_section(self, project_gid: str, name: str) -> Section:
        self._call(("create_section", project_gid, name))
        section = Section(self._gid(), name)
        self.sections.setdefault(project_gid, []).append(section)
        return section

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]:
        self._call(("custom_fields_of", project_gid))
        return list(self.fields.get(project_gid, []))

    async def create_task(self, draft: TaskDraft) -> Task:
        self._call(("create_task", draft))
        raw = self.add_task(
            self._gid(),
            draft.name,
            notes=re.sub(r"<[^>]+>", "", draft.html_notes) if draft.html_notes else draft.notes,
            projects=[{"gid": draft.project_gid}],
            assignee={"gid": draft.assignee} if draft.assignee else None,
            due_on=draft.due_on.isoformat() if draft.due_on else None,
            followers=[{"gid": g} for g in draft.followers],
            parent={"gid": draft.parent} if draft.parent else None,
        )
        lost = self.lost_answers.get("create_task")
        if lost:
            raise lost.pop(0)  # made in Asana, but its answer never arrived
        return task_of(raw)

    async def task(self, task_gid: str) -> Task:
        self._call(("task", task_gid))
        if task_gid not in self.tasks:
            raise AsanaNotFound(f"task {task_gid}", status=404)
        return task_of(self.tasks[task_gid])

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task:
        self._call(("create_subtask", parent, name))
        return task_of(self.add_task(self._gid(), name, parent={"gid": parent}))

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task:
        self._call(("update_task", task_gid, changes))
        raw = self.tasks.setdefault(task_gid, {"gid": task_gid, "name": ""})
        for name, value in changes.items():
            raw[name] = {"gid": value} if name == "assignee" and value else value
        return task_of(raw)

    async def delete_task(self, task_gid: str) -> None:
        self._call(("delete_task", task_gid))
        self.tasks.pop(task_gid, None)

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None:
        self._call(("add_to_project", task_gid, project_gid, section_gid))

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None:
        self._call(("add_followers", task_gid, tuple(users)))

    async def comment(self, task_gid: str, text: str) -> str:
        self._call(("comment", task_gid, text))
        self.comments.append((task_gid, text))
        return self._gid()

    async def story(self, story_gid: str) -> Story:
        self._call(("story", story_gid))
        return self.stories[story_gid]

    async def edit_comment(self, story_gid: str, text: str) -> None:
        self._call(("edit_comment", story_gid, text))

    async def delete_comment(self, story_gid: str) -> None:
        self._call(("delete_comment", story_gid))

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]:
        self._call(("tasks_modified_since", project_gid))
        return [task_of(raw) for raw in self.tasks.values() if {"gid": project_gid} in (raw.get("projects") or [])]

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        self._call(("create_webhook", resource_gid, target))
        gid = self._gid()
        secret = f"secret-{gid}"
        if self.handshake is not None:
            await self.handshake(target, secret)
        self.webhooks.append(Webhook(gid, resource_gid, target))
        return gid, self.handshake_secret or secret

    async def delete_webhook(self, webhook_gid: str) -> None:
        self._call(("delete_webhook", webhook_gid))
        self.webhooks = [w for w in self.webhooks if w.gid != webhook_gid]

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        self._call(("webhooks_of", workspace_gid))
        return [w for w in self.webhooks if resource_gid is None or w.resource_gid == resource_gid]

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        raise NotImplementedError("no unit test reads events yet")
