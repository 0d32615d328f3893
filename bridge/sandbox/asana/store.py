"""The emulator's state: every record by gid, with the lookups and visibility rules endpoints share."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from bridge.sandbox.asana.errors import ApiError, bad_request, forbidden, not_found
from bridge.sandbox.asana.model import (
    CustomField,
    CustomFieldSetting,
    EnumOption,
    OooEntry,
    Project,
    Section,
    Story,
    Task,
    Team,
    User,
    Webhook,
    Workspace,
    WorkspaceMembership,
)

# Real gids are 16-digit numbers that grow over time; start where 2025-era gids are.
_FIRST_GID = 1_210_000_000_000_001


class Store:
    """All records. Not thread-safe: only the emulator's event loop touches it."""

    def __init__(self) -> None:
        self._gids = itertools.count(_FIRST_GID, 7)
        self.workspaces: dict[str, Workspace] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # token -> user gid
        self.projects: dict[str, Project] = {}
        self.teams: dict[str, Team] = {}
        self.sections: dict[str, Section] = {}
        self.fields: dict[str, CustomField] = {}
        self.options: dict[str, EnumOption] = {}
        self.settings: dict[str, CustomFieldSetting] = {}
        self.tasks: dict[str, Task] = {}
        self.stories: dict[str, Story] = {}
        self.ooo: dict[str, OooEntry] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.workspace_memberships: dict[str, WorkspaceMembership] = {}

    def new_gid(self) -> str:
        return str(next(self._gids))

    # ---------------------------------------------------------------- plain lookups

    def kind_of(self, gid: str) -> str | None:
        """The resource_type of a gid, or None if nothing has it."""
        for kind, table in self._tables():
            if gid in table and not (kind == "task" and self.tasks[gid].deleted):
                return kind
        return None

    def _tables(self) -> Iterable[tuple[str, dict[str, Any]]]:
        yield "workspace", self.workspaces
        yield "user", self.users
        yield "project", self.projects
        yield "team", self.teams
        yield "section", self.sections
        yield "custom_field", self.fields
        yield "enum_option", self.options
        yield "custom_field_setting", self.settings
        yield "task", self.tasks
        yield "story", self.stories
        yield "ooo_entry", self.ooo
        yield "webhook", self.webhooks
        yield "team", self.teams
        yield "workspace_membership", self.workspace_memberships

    def user_by_token(self, token: str) -> User | None:
        gid = self.tokens.get(token)
        return self.users.get(gid) if gid else None

    def find_user(self, ref: str, me: User) -> User | None:
        """A user by gid, email or the keyword "me", as every user parameter accepts."""
        if ref == "me":
            return me
        if "@" in ref:
            lowered = ref.lower()
            return next((u for u in self.users.values() if u.email.lower() == lowered), None)
        return self.users.get(ref)

    # ---------------------------------------------------------------- visible lookups (raise ApiError)

    @staticmethod
    def check_gid(value: Any, name: str) -> str:
        if not isinstance(value, str) or not value.isdigit():
            raise bad_request(f"{name}: Not a Long: {value}")
        return value

    def workspace_for(self, gid: str, viewer: User, name: str = "workspace") -> Workspace:
        ws = self.workspaces.get(self.check_gid(gid, name))
        if ws is None or gid not in viewer.workspaces:
            raise not_found(gid)
        return ws

    def user_for(self, ref: Any, viewer: User, name: str = "user") -> User:
        """A user the viewer shares a workspace with; 400 for a bad reference in a body, like Asana."""
        if not isinstance(ref, str):
            raise bad_request(f"{name}: Not a valid user: {ref}")
        user = self.find_user(ref, viewer)
        if user is None or not set(user.workspaces) & set(viewer.workspaces):
            raise bad_request(f"{name}: Not a recognized user: {ref}")
        return user

    def user_path(self, ref: str, viewer: User) -> User:
        """A user named in the path: 404 when unknown."""
        user = self.find_user(ref, viewer)
        if user is None or not set(user.workspaces) & set(viewer.workspaces):
            raise not_found(ref)
        return user

    def can_see_project(self, project: Project, viewer: User) -> bool:
        if project.workspace not in viewer.workspaces:
            return False
        if viewer.gid in project.members:
            return True
        if project.privacy == "public_to_workspace":
            return not self.is_guest(viewer.gid, project.workspace)
        if project.privacy == "private_to_team" and project.team in self.teams:
            return viewer.gid in self.teams[project.team].members
        return False

    def is_guest(self, user_gid: str, workspace_gid: str) -> bool:
        return any(
            m.is_guest
            for m in self.workspace_memberships.values()
            if m.user == user_gid and m.workspace == workspace_gid
        )

    def project_for(self, gid: Any, viewer: User, name: str = "project") -> Project:
        project = self.projects.get(self.check_gid(gid, name))
        if project is None or project.workspace not in viewer.workspaces:
            raise not_found(str(gid))
        if not self.can_see_project(project, viewer):
            raise forbidden()
        return project

    def section_for(self, gid: Any, viewer: User, name: str = "section") -> Section:
        section = self.sections.get(self.check_gid(gid, name))
        if section is None:
            raise not_found(str(gid))
        self.project_for(section.project, viewer)
        return section

    def can_see_task(self, task: Task, viewer: User, depth: int = 0) -> bool:
        if task.deleted or task.workspace not in viewer.workspaces:
            return False
        if viewer.gid in (task.created_by, task.assignee) or viewer.gid in task.followers:
            return True
        if any(self.can_see_project(self.projects[p], viewer) for p in task.projects()):
            return True
        parent = self.tasks.get(task.parent) if task.parent else None
        return parent is not None and depth < 50 and self.can_see_task(parent, viewer, depth + 1)

    def task_for(self, gid: Any, viewer: User, name: str = "task") -> Task:
        task = self.tasks.get(self.check_gid(gid, name))
        if task is None or task.deleted or task.workspace not in viewer.workspaces:
            raise not_found(str(gid))
        if not self.can_see_task(task, viewer):
            raise forbidden()
        return task

    def story_for(self, gid: str, viewer: User) -> Story:
        story = self.stories.get(self.check_gid(gid, "story"))
        if story is None:
            raise not_found(gid)
        self.task_for(story.task, viewer)
        return story

    def field_for(self, gid: str, viewer: User) -> CustomField:
        cf = self.fields.get(self.check_gid(gid, "custom_field"))
        if cf is None or cf.workspace not in viewer.workspaces:
            raise not_found(gid)
        return cf

    # ---------------------------------------------------------------- relations

    def ancestors(self, task: Task) -> list[Task]:
        out: list[Task] = []
        current = task
        while current.parent and current.parent in self.tasks and len(out) < 50:
            current = self.tasks[current.parent]
            out.append(current)
        return out

    def event_targets(self, task: Task) -> set[str]:
        """Resources whose streams see an event on this task: itself, its ancestors, and their projects."""
        chain = [task, *self.ancestors(task)]
        targets = {t.gid for t in chain}
        for t in chain:
            targets.update(t.projects())
        return targets

    def fields_on(self, task: Task) -> list[str]:
        """Custom field gids the task's projects carry, in project then setting order, deduplicated."""
        out: list[str] = []
        for project in task.projects():
            for setting in self.projects[project].field_settings:
                cf = self.settings[setting].field
                if cf not in out:
                    out.append(cf)
        return out

    def project_tasks(self, project: Project) -> list[Task]:
        return [self.tasks[t] for s in project.sections for t in self.sections[s].tasks]

    def resource_workspace(self, gid: str) -> str | None:
        kind = self.kind_of(gid)
        if kind == "workspace":
            return gid
        if kind == "project":
            return self.projects[gid].workspace
        if kind == "task":
            return self.tasks[gid].workspace
        if kind == "section":
            return self.projects[self.sections[gid].project].workspace
        return None

    def require(self, data: dict[str, Any], key: str) -> Any:
        if key not in data or data[key] is None:
            raise ApiError(400, f"{key}: Missing input")
        return data[key]
