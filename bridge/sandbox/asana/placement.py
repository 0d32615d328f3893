"""Where a task lives: addProject/removeProject (multi-homing), sections/addTask, and followers."""

from __future__ import annotations

from typing import Any

from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.model import Compact, Project, Section, Task, User
from bridge.sandbox.asana.render import Ref
from bridge.sandbox.asana.stories import add_system_story
from bridge.sandbox.asana.tasks import MAX_PROJECTS
from bridge.sandbox.asana.world import World, task_compact, user_compact

_MISSING = object()


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_request("data: Must be an object")
    return data


def _position(world: World, actor: User, data: dict[str, Any], section: Section) -> int:
    """Index in the section: insert_before/insert_after a task there; insert_after null means the top."""
    before, after = data.get("insert_before", _MISSING), data.get("insert_after", _MISSING)
    if before is not _MISSING and after is not _MISSING and before is not None and after is not None:
        raise bad_request("You may only provide one of insert_before or insert_after")
    for key, anchor, shift in (("insert_before", before, 0), ("insert_after", after, 1)):
        if anchor is _MISSING or anchor is None:
            continue
        task = world.store.task_for(anchor, actor, key)
        if task.gid not in section.tasks:
            raise bad_request(f"{key}: Task {task.gid} is not in section {section.gid}")
        return section.tasks.index(task.gid) + shift
    if after is None:
        return 0
    return -1  # the end


def _place(world: World, task: Task, project: Project, section: Section, index: int) -> str | None:
    """Put the task at `index` of `section` (-1 = end), leaving the project's other sections; old section."""
    old = task.section_in(project.gid)
    if old == section.gid and 0 <= section.tasks.index(task.gid) < index:
        index -= 1  # the anchor index was taken with the task still in place
    if old is not None:
        sec = world.store.sections[old]
        sec.tasks = [t for t in sec.tasks if t != task.gid]
        task.memberships = [(p, section.gid if p == project.gid else s) for p, s in task.memberships]
    else:
        task.memberships.append((project.gid, section.gid))
    if index < 0 or index > len(section.tasks):
        section.tasks.append(task.gid)
    else:
        section.tasks.insert(index, task.gid)
    world.touch(task)
    return old


def _announce(world: World, actor: User, task: Task, project: Project, section: Section, old: str | None) -> None:
    targets = world.store.event_targets(task)
    resource = task_compact(task)
    if old is None:
        world.emit(actor, "added", resource, targets, parent=Compact(project.gid, "project"))
        world.emit(actor, "added", resource, targets, parent=Compact(section.gid, "section"))
        add_system_story(
            world, actor, task, "added_to_project", f"added to {project.name}", {"project": Ref("project", project.gid)}
        )
    elif old != section.gid:
        world.emit(actor, "removed", resource, targets, parent=Compact(old, "section"))
        world.emit(actor, "added", resource, targets, parent=Compact(section.gid, "section"))
        extra = {"old_section": Ref("section", old), "new_section": Ref("section", section.gid)}
        text = f'moved this task from "{world.store.sections[old].name}" to "{section.name}" in {project.name}'
        add_system_story(world, actor, task, "section_changed", text, extra)


def add_project(world: World, actor: User, task: Task, raw: Any) -> None:
    """POST /tasks/{gid}/addProject: add (or move within) a project; at most 20 projects per task."""
    data = _body(raw)
    store = world.store
    project = store.project_for(store.require(data, "project"), actor)
    if project.workspace != task.workspace:
        raise bad_request("project: The project is in another workspace")
    section = None
    if data.get("section") is not None:
        section = store.section_for(data["section"], actor)
        if section.project != project.gid:
            raise bad_request(f"section: Section {section.gid} is not in project {project.gid}")
    if project.gid not in task.projects() and len(task.projects()) >= MAX_PROJECTS:
        raise bad_request(f"project: A task can be in at most {MAX_PROJECTS} projects")
    if section is None:
        anchor = data.get("insert_before") or data.get("insert_after")
        if anchor is not None:
            anchor_section = store.task_for(anchor, actor).section_in(project.gid)
            if anchor_section is None:
                raise bad_request(f"insert_before/insert_after: Task {anchor} is not in project {project.gid}")
            section = store.sections[anchor_section]
        else:
            section = store.sections[project.sections[-1]]  # with only `project`: the end of the project
    index = _position(world, actor, data, section)
    old = _place(world, task, project, section, index)
    _announce(world, actor, task, project, section, old)


def remove_project(world: World, actor: User, task: Task, raw: Any) -> None:
    """POST /tasks/{gid}/removeProject: the task leaves the project (its field values become disabled)."""
    data = _body(raw)
    store = world.store
    project = store.project_for(store.require(data, "project"), actor)
    old = task.section_in(project.gid)
    if old is None:
        return
    targets = store.event_targets(task)  # before removal, so the project's own stream sees it
    section = store.sections[old]
    section.tasks = [t for t in section.tasks if t != task.gid]
    task.memberships = [(p, s) for p, s in task.memberships if p != project.gid]
    world.touch(task)
    world.emit(actor, "removed", task_compact(task), targets, parent=Compact(project.gid, "project"))
    add_system_story(
        world,
        actor,
        task,
        "removed_from_project",
        f"removed from {project.name}",
        {"project": Ref("project", project.gid)},
    )


def add_to_section(world: World, actor: User, section: Section, raw: Any) -> None:
    """POST /sections/{gid}/addTask: move into the section (top by default), out of the project's others."""
    data = _body(raw)
    store = world.store
    task = store.task_for(store.require(data, "task"), actor)
    project = store.projects[section.project]
    if project.workspace != task.workspace:
        raise bad_request("task: The task is in another workspace")
    if project.gid not in task.projects() and len(task.projects()) >= MAX_PROJECTS:
        raise bad_request(f"task: A task can be in at most {MAX_PROJECTS} projects")
    index = _position(world, actor, data, section)
    if "insert_before" not in data and "insert_after" not in data:
        index = 0
    old = _place(world, task, project, section, index)
    _announce(world, actor, task, project, section, old)


def change_followers(world: World, actor: User, task: Task, raw: Any, *, add: bool) -> None:
    """POST /tasks/{gid}/addFollowers and removeFollowers: one `changed` event per user."""
    data = _body(raw)
    refs = world.store.require(data, "followers")
    if not isinstance(refs, list):
        raise bad_request("followers: Must be an array")
    users = [world.store.user_for(ref, actor, "followers") for ref in refs]
    targets = world.store.event_targets(task)
    for user in users:
        if (user.gid in task.followers) == add:
            continue
        if add:
            task.followers.append(user.gid)
            change = {"field": "followers", "action": "added", "added_value": user_compact(user.gid)}
        else:
            task.followers.remove(user.gid)
            change = {"field": "followers", "action": "removed", "removed_value": user_compact(user.gid)}
        world.touch(task)
        world.emit(actor, "changed", task_compact(task), targets, change=change)
