"""Task lifecycle: create (with projects, sections, parent), update, delete, each emitting Asana's events."""

from __future__ import annotations

from typing import Any

from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.fields import apply_fields
from bridge.sandbox.asana.model import Compact, Project, Section, Task, User
from bridge.sandbox.asana.stories import add_system_story
from bridge.sandbox.asana.world import World, task_compact

MAX_PROJECTS = 20  # a task can be in at most 20 projects
# PUT /tasks/{gid} cannot change these; they have their own endpoints (addProject, addFollowers, setParent…).
_NOT_WRITABLE_BY_PUT = ("projects", "memberships", "followers", "tags", "workspace", "parent")


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(f"{key}: Must be an array")
    return value


def _placements(world: World, actor: User, data: dict[str, Any]) -> list[tuple[Project, Section | None]]:
    """Projects from `projects` and `memberships` ([{project, section}]), validated and deduplicated."""
    store = world.store
    chosen: dict[str, tuple[Project, Section | None]] = {}
    for gid in _list(data, "projects"):
        project = store.project_for(gid, actor, "projects")
        chosen.setdefault(project.gid, (project, None))
    for membership in _list(data, "memberships"):
        if not isinstance(membership, dict) or "project" not in membership:
            raise bad_request("memberships: Each membership needs a project")
        project = store.project_for(membership["project"], actor, "memberships.project")
        section = None
        if membership.get("section") is not None:
            section = store.section_for(membership["section"], actor, "memberships.section")
            if section.project != project.gid:
                raise bad_request(f"memberships: Section {section.gid} is not in project {project.gid}")
        chosen[project.gid] = (project, section)
    if len(chosen) > MAX_PROJECTS:
        raise bad_request(f"projects: A task can be in at most {MAX_PROJECTS} projects")
    return list(chosen.values())


def create_task(world: World, actor: User, data: Any, *, parent: Task | None = None) -> Task:
    """POST /tasks and POST /tasks/{gid}/subtasks: validate everything, then store and emit."""
    store = world.store
    if not isinstance(data, dict):
        raise bad_request("data: Must be an object")
    placements = _placements(world, actor, data)
    if parent is None and data.get("parent") is not None:
        parent = store.task_for(data["parent"], actor, "parent")
    workspace = None
    if data.get("workspace") is not None:
        workspace = store.workspace_for(data["workspace"], actor).gid
    derived = {p.workspace for p, _ in placements} | ({parent.workspace} if parent else set())
    if workspace is None and derived:
        workspace = next(iter(derived))
    if workspace is None:
        raise bad_request("workspace: Missing input. You should specify one of workspace, parent, projects")
    if derived - {workspace}:
        raise bad_request("workspace: The task's projects and parent must be in its workspace")
    for user_ref in _list(data, "followers"):
        store.user_for(user_ref, actor, "followers")
    now = world.clock.now()
    task = Task(
        gid=store.new_gid(),
        name="",
        workspace=workspace,
        created_by=actor.gid,
        created_at=now,
        modified_at=now,
        parent=parent.gid if parent else None,
    )
    for project, section in placements:
        target = section or store.sections[project.sections[0]]
        task.memberships.append((project.gid, target.gid))
    apply_fields(world, actor, task, data)  # raises before anything is stored
    followers = [actor.gid, task.assignee, *(store.user_for(u, actor).gid for u in _list(data, "followers"))]
    task.followers = list(dict.fromkeys(f for f in followers if f))
    if isinstance(data.get("tags"), list):
        task.tags = [str(t) for t in data["tags"]]

    store.tasks[task.gid] = task
    targets = store.event_targets(task)
    for project_gid, section_gid in task.memberships:
        store.sections[section_gid].tasks.append(task.gid)
        # Asana emits two events for a task created in a project: added to the project, then to the section.
        world.emit(actor, "added", task_compact(task), targets, parent=Compact(project_gid, "project"))
        world.emit(actor, "added", task_compact(task), targets, parent=Compact(section_gid, "section"))
    if parent is not None:
        parent.subtasks.append(task.gid)
        world.touch(parent)
        world.emit(actor, "added", task_compact(task), targets, parent=task_compact(parent))
    return task


def update_task(world: World, actor: User, task: Task, data: Any) -> Task:
    """PUT /tasks/{gid}: only the given fields change; each change is an event and a system story."""
    if not isinstance(data, dict):
        raise bad_request("data: Must be an object")
    for key in _NOT_WRITABLE_BY_PUT:
        if key in data:
            raise bad_request(f"{key}: Cannot write this property with PUT; use the dedicated endpoint")
    changes = apply_fields(world, actor, task, data)
    if not changes:
        return task
    world.touch(task)
    targets = world.store.event_targets(task)
    for change in changes:
        world.emit(actor, "changed", task_compact(task), targets, change=change.to_json())
    for change in changes:
        if change.story is not None:
            add_system_story(world, actor, task, change.story[0], change.story[1], change.story_extra)
    return task


def delete_task(world: World, actor: User, task: Task) -> None:
    """DELETE /tasks/{gid}: the task and its subtasks go to the trash; one `deleted` event."""
    store = world.store
    targets = store.event_targets(task)
    _trash(world, task)
    if task.parent and task.parent in store.tasks:
        parent = store.tasks[task.parent]
        parent.subtasks = [s for s in parent.subtasks if s != task.gid]
    world.emit(actor, "deleted", task_compact(task), targets)


def _trash(world: World, task: Task) -> None:
    task.deleted = True
    for _, section_gid in task.memberships:
        section = world.store.sections[section_gid]
        section.tasks = [t for t in section.tasks if t != task.gid]
    for child in task.subtasks:
        if child in world.store.tasks:
            _trash(world, world.store.tasks[child])


def subtasks_of(world: World, task: Task) -> list[str]:
    return [s for s in task.subtasks if not world.store.tasks[s].deleted]
