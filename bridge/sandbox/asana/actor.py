"""A person working in Asana's own UI: changes go through the same code as the API, so events match."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bridge.sandbox.asana.clock import iso
from bridge.sandbox.asana.model import Task, User
from bridge.sandbox.asana.placement import add_project, add_to_section, change_followers, remove_project
from bridge.sandbox.asana.stories import add_comment
from bridge.sandbox.asana.tasks import create_task, delete_task, update_task
from bridge.sandbox.asana.world import World


def _api_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class Actor:
    """Acts as one user; raises ApiError exactly where the API would answer 4xx."""

    def __init__(self, world: World, user_gid: str) -> None:
        self._world = world
        self.user_gid = user_gid

    @property
    def user(self) -> User:
        return self._world.store.users[self.user_gid]

    def _task(self, gid: str) -> Task:
        return self._world.store.task_for(gid, self.user)

    def create_task(
        self,
        name: str,
        *,
        project: str | None = None,
        section: str | None = None,
        workspace: str | None = None,
        parent: str | None = None,
        **fields: Any,
    ) -> str:
        """Create a task (in a project and section, under a parent); fields as in POST /tasks."""
        data: dict[str, Any] = {"name": name, **{k: _api_value(v) for k, v in fields.items()}}
        if section is not None:
            project = project or self._world.store.sections[section].project
            data["memberships"] = [{"project": project, "section": section}]
        elif project is not None:
            data["projects"] = [project]
        if workspace is not None:
            data["workspace"] = workspace
        parent_task = self._task(parent) if parent else None
        return create_task(self._world, self.user, data, parent=parent_task).gid

    def add_subtask(self, parent_gid: str, name: str, **fields: Any) -> str:
        return self.create_task(name, parent=parent_gid, **fields)

    def update_task(self, task_gid: str, **fields: Any) -> None:
        """Change fields as PUT /tasks/{gid} would (name, notes, assignee, completed, due_on, custom_fields…)."""
        update_task(self._world, self.user, self._task(task_gid), {k: _api_value(v) for k, v in fields.items()})

    def complete(self, task_gid: str, completed: bool = True) -> None:
        self.update_task(task_gid, completed=completed)

    def assign(self, task_gid: str, assignee: str | None) -> None:
        self.update_task(task_gid, assignee=assignee)

    def set_due(self, task_gid: str, due_on: date | str | None) -> None:
        self.update_task(task_gid, due_on=due_on)

    def rename(self, task_gid: str, name: str) -> None:
        self.update_task(task_gid, name=name)

    def set_enum(self, task_gid: str, field_gid: str, option_gid: str | None) -> None:
        self.update_task(task_gid, custom_fields={field_gid: option_gid})

    def comment(self, task_gid: str, text: str | None = None, *, html_text: str | None = None) -> str:
        data: dict[str, Any] = {"text": text} if html_text is None else {"html_text": html_text}
        return add_comment(self._world, self.user, self._task(task_gid), data).gid

    def delete_task(self, task_gid: str) -> None:
        delete_task(self._world, self.user, self._task(task_gid))

    def move_to_section(self, task_gid: str, section_gid: str, **position: str | None) -> None:
        section = self._world.store.section_for(section_gid, self.user)
        add_to_section(self._world, self.user, section, {"task": task_gid, **position})

    def add_to_project(self, task_gid: str, project_gid: str, section: str | None = None) -> None:
        data = {"project": project_gid} | ({"section": section} if section else {})
        add_project(self._world, self.user, self._task(task_gid), data)

    def remove_from_project(self, task_gid: str, project_gid: str) -> None:
        remove_project(self._world, self.user, self._task(task_gid), {"project": project_gid})

    def add_followers(self, task_gid: str, *users: str) -> None:
        change_followers(self._world, self.user, self._task(task_gid), {"followers": list(users)}, add=True)
