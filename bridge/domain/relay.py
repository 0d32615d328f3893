"""What changed on a task between two snapshots, and which Asana events belong to which task. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bridge.domain.model import ClaimedEvent

# Kept inside a tracked task's snapshot: how many times its due date was pushed later.
DUE_PUSHES = "_bridge_due_pushes"
# When the task entered its current section (ISO): how long it has waited in triage.
SECTION_SINCE = "_bridge_section_since"
BRIDGE_KEYS = "_bridge_"  # the prefix of everything the bridge keeps in a snapshot beside Asana's fields


@dataclass(frozen=True)
class Change:
    """One thing a person would want to hear about: kind plus the words' ingredients."""

    kind: str  # completed, reopened, assigned, unassigned, due, priority, section, renamed
    value: str | None = None
    previous: str | None = None
    by: str | None = None
    count: int = 0
    who: str | None = None  # the Asana user gid of the person named: the assignee, or who completed it


def task_of(event: Mapping[str, Any]) -> str | None:
    """The task an event is about: the resource for task events, the parent task for comments (stories)."""
    resource = event.get("resource") or {}
    if resource.get("resource_type") == "task":
        return str(resource.get("gid"))
    parent = event.get("parent") or {}
    if resource.get("resource_type") == "story" and parent.get("resource_type") == "task":
        return str(parent.get("gid"))
    return None


def group_by_task(claimed: Iterable[ClaimedEvent]) -> dict[str, list[ClaimedEvent]]:
    groups: dict[str, list[ClaimedEvent]] = {}
    for item in claimed:
        task = task_of(item.event.payload)
        groups.setdefault(task or "", []).append(item)
    return groups


def diff(
    old: Mapping[str, Any], new: Mapping[str, Any], *, project_gid: str, priority_field: str | None
) -> list[Change]:
    """The changes between the last snapshot and the task as Asana has it now, in a stable order."""
    changes: list[Change] = []
    if bool(new.get("completed")) != bool(old.get("completed")):
        by = new.get("completed_by") or {}
        kind = "completed" if new.get("completed") else "reopened"
        changes.append(Change(kind, by=by.get("name"), who=_gid(by)))
    old_assignee, new_assignee = _gid(old.get("assignee")), _gid(new.get("assignee"))
    if old_assignee != new_assignee:
        name = (new.get("assignee") or {}).get("name")
        changes.append(Change("assigned", value=name, who=new_assignee) if new_assignee else Change("unassigned"))
    if old.get("due_on") != new.get("due_on"):
        pushes = int(old.get(DUE_PUSHES) or 0) + (1 if _later(old.get("due_on"), new.get("due_on")) else 0)
        changes.append(Change("due", value=new.get("due_on"), previous=old.get("due_on"), count=pushes))
    if priority_field:
        old_p, new_p = _enum(old, priority_field), _enum(new, priority_field)
        if old_p != new_p:
            changes.append(Change("priority", value=new_p, previous=old_p))
    old_s, new_s = _section(old, project_gid), _section(new, project_gid)
    if old_s != new_s and new_s is not None and old_s is not None:
        changes.append(Change("section", value=new_s, previous=old_s))
    if old.get("name") != new.get("name") and old.get("name") is not None:
        changes.append(Change("renamed", value=new.get("name"), previous=old.get("name")))
    return changes


def same_facts(old: Mapping[str, Any], new: Mapping[str, Any], *, project_gid: str) -> bool:
    """Whether a task as listed by Asana says nothing the snapshot does not (the bridge's own changes, such as a
    follower or a subtask it added, move `modified_at` without changing anything a thread is told)."""
    return (
        bool(old.get("completed")) == bool(new.get("completed"))
        and _gid(old.get("assignee")) == _gid(new.get("assignee"))
        and old.get("due_on") == new.get("due_on")
        and old.get("due_at") == new.get("due_at")
        and old.get("name") == new.get("name")
        and _section(old, project_gid) == _section(new, project_gid)
        and _enums(old) == _enums(new)
    )


def _enums(task: Mapping[str, Any]) -> dict[str, Any]:
    return {f.get("gid"): (f.get("enum_value") or {}).get("name") for f in task.get("custom_fields") or []}


def next_snapshot(
    old: Mapping[str, Any], new: Mapping[str, Any], *, now: datetime | None = None, project_gid: str | None = None
) -> dict[str, Any]:
    """The new snapshot, carrying the bridge's own counters forward; `now` dates a move to another section of the
    linked project (how long a task has waited in triage)."""
    snapshot = {key: value for key, value in old.items() if key.startswith(BRIDGE_KEYS)}
    snapshot.update(new)
    pushes = int(old.get(DUE_PUSHES) or 0) + (1 if _later(old.get("due_on"), new.get("due_on")) else 0)
    snapshot[DUE_PUSHES] = pushes
    if old and now is not None and project_gid and _section(old, project_gid) != _section(new, project_gid):
        snapshot[SECTION_SINCE] = now.isoformat()
    return snapshot


def _gid(value: Any) -> str | None:
    return str(value["gid"]) if isinstance(value, Mapping) and value.get("gid") else None


def _later(old: Any, new: Any) -> bool:
    if not old or not new:
        return False
    return date.fromisoformat(str(new)) > date.fromisoformat(str(old))


def _enum(task: Mapping[str, Any], field_gid: str) -> str | None:
    for field in task.get("custom_fields") or []:
        if field.get("gid") == field_gid:
            return (field.get("enum_value") or {}).get("name")
    return None


def _section(task: Mapping[str, Any], project_gid: str) -> str | None:
    for membership in task.get("memberships") or []:
        if (membership.get("project") or {}).get("gid") == project_gid:
            return (membership.get("section") or {}).get("name")
    return None


def recrawl_event(task: Mapping[str, Any], project_gid: str, since: datetime) -> dict[str, Any]:
    """An event standing for what a re-crawl found: a task added after `since`, or else changed since then.

    Keyed by the task's modified_at, so the same re-crawl twice adds nothing, and a later change is new again.
    """
    created = task.get("created_at")
    is_new = bool(created) and datetime.fromisoformat(str(created).replace("Z", "+00:00")) >= since
    event: dict[str, Any] = {
        "user": None,
        "created_at": task.get("modified_at") or task.get("created_at"),
        "resource": {"gid": str(task["gid"]), "resource_type": "task"},
        "action": "added" if is_new else "changed",
        "parent": {"gid": project_gid, "resource_type": "project"} if is_new else None,
    }
    if not is_new:
        event["change"] = {"field": "recrawl", "action": "changed"}
    return event
