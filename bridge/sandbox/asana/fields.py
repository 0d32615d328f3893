"""Writable task fields: validation shared by create and update, returning what changed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from bridge.sandbox.asana import richtext
from bridge.sandbox.asana.clock import parse_iso
from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.model import Task, User
from bridge.sandbox.asana.render import Ref
from bridge.sandbox.asana.world import World, user_compact

_SUBTYPES = frozenset({"default_task", "milestone", "approval"})
_ASSIGNEE_STATUS = frozenset({"today", "upcoming", "later", "new", "inbox"})


@dataclass
class Change:
    """One field that changed: the event's change object plus the system story to record."""

    field: str
    new_value: Any = None
    has_value: bool = False  # only resource-valued fields carry new_value in compact events
    story: tuple[str, str] | None = None  # (resource_subtype, text)
    story_extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "action": "changed"}
        if self.has_value:
            out["new_value"] = self.new_value
        return out


def _date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise bad_request(f"{name}: Not a valid date: {value}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name}: Not a valid date: {value}") from None


def apply_fields(world: World, actor: User, task: Task, data: dict[str, Any]) -> list[Change]:
    """Validate every writable field in `data` first, then set them on `task`; 400 leaves it untouched."""
    store = world.store
    updates: dict[str, Any] = {}
    changes: list[Change] = []
    if "name" in data:
        if not isinstance(data["name"], str):
            raise bad_request("name: Must be a string")
        updates["name"] = data["name"]
    if "notes" in data and "html_notes" in data:
        raise bad_request("You may only provide one of notes or html_notes")
    if "html_notes" in data:
        updates["notes"] = richtext.validate(data["html_notes"], "html_notes", task=True)
        updates["html_notes"] = data["html_notes"]
    elif "notes" in data:
        if not isinstance(data["notes"], str):
            raise bad_request("notes: Must be a string")
        updates["notes"], updates["html_notes"] = data["notes"], richtext.from_plain(data["notes"])
    if "resource_subtype" in data:
        if data["resource_subtype"] not in _SUBTYPES:
            raise bad_request(f"resource_subtype: Unknown value: {data['resource_subtype']}")
        updates["resource_subtype"] = data["resource_subtype"]
    if "assignee" in data:
        assignee = None
        if data["assignee"] is not None:
            user = store.user_for(data["assignee"], actor, "assignee")
            if task.workspace not in user.workspaces:
                raise bad_request(f"assignee: User {user.gid} is not in the task's workspace")
            assignee = user.gid
        updates["assignee"] = assignee
    if "assignee_status" in data:
        if data["assignee_status"] not in _ASSIGNEE_STATUS:
            raise bad_request(f"assignee_status: Unknown value: {data['assignee_status']}")
        updates["assignee_status"] = data["assignee_status"]
    if "completed" in data:
        if not isinstance(data["completed"], bool):
            raise bad_request("completed: Must be a boolean")
        updates["completed"] = data["completed"]
    if data.get("due_on") is not None and data.get("due_at") is not None:
        raise bad_request("You may only provide one of due_on or due_at")
    if "due_at" in data and data["due_at"] is not None:
        try:
            updates["due_at"] = parse_iso(str(data["due_at"]))
        except ValueError:
            raise bad_request(f"due_at: Not a valid date-time: {data['due_at']}") from None
        updates["due_on"] = updates["due_at"].date()
    elif "due_on" in data or "due_at" in data:
        updates["due_on"] = _date(data.get("due_on"), "due_on")
        updates["due_at"] = None
    if "start_on" in data:
        start = _date(data["start_on"], "start_on")
        due = updates.get("due_on", task.due_on)
        if start is not None and due is None:
            raise bad_request("start_on: You must specify a due date when setting a start date")
        if start is not None and due is not None and start > due:
            raise bad_request("start_on: The start date must be on or before the due date")
        updates["start_on"] = start
    values = _custom_values(world, task, data.get("custom_fields")) if "custom_fields" in data else {}

    # Everything validated: apply and describe.
    due_changed = False
    for key, value in updates.items():
        if getattr(task, key) == value:
            continue
        setattr(task, key, value)
        if key in ("due_on", "due_at"):
            due_changed = True
        elif key != "html_notes":
            changes.append(_describe(world, task, key))
    if due_changed:
        changes.append(_describe_due(task))
    if "completed" in updates:
        task.completed_at = world.clock.now() if task.completed else None
        task.completed_by = actor.gid if task.completed else None
    for cf_gid, option in values.items():
        if task.custom_values.get(cf_gid) == option:
            continue
        task.custom_values[cf_gid] = option
        changes.append(_describe_custom(world, cf_gid, option))
    return changes


def _custom_values(world: World, task: Task, raw: Any) -> dict[str, str | None]:
    store = world.store
    if not isinstance(raw, dict):
        raise bad_request("custom_fields: Must be an object of custom field gid to value")
    carried = store.fields_on(task)
    out: dict[str, str | None] = {}
    for cf_gid, option in raw.items():
        cf = store.fields.get(str(cf_gid))
        if cf is None or cf.workspace != task.workspace:
            raise bad_request(f"custom_fields: Unknown custom field: {cf_gid}")
        # A value whose field no project of the task carries any more is disabled: it can only be cleared.
        if cf.gid not in carried and not (option is None and cf.gid in task.custom_values):
            raise bad_request(f"custom_fields: Custom field {cf_gid} is not on given object")
        if option is not None:
            if not isinstance(option, str) or option not in cf.options:
                raise bad_request(f"custom_fields: enum option {option} is not an option of custom field {cf_gid}")
            if not store.options[option].enabled:
                raise bad_request(f"custom_fields: enum option {option} is disabled")
        out[cf.gid] = option
    return out


def _describe(world: World, task: Task, key: str) -> Change:
    if key == "assignee":
        if task.assignee is None:
            return Change("assignee", None, True, ("unassigned", "unassigned"))
        name = world.store.users[task.assignee].name
        extra = {"assignee": Ref("user", task.assignee)}
        return Change("assignee", user_compact(task.assignee), True, ("assigned", f"assigned to {name}"), extra)
    if key == "completed":
        if task.completed:
            return Change("completed", story=("marked_complete", "marked this task complete"))
        return Change("completed", story=("marked_incomplete", "marked this task incomplete"))
    if key == "name":
        story = ("name_changed", f'changed the name to "{task.name}"')
        return Change("name", story=story, story_extra={"new_name": task.name})
    if key == "notes":
        return Change("notes", story=("notes_changed", "changed the description"))
    if key == "start_on":
        return Change("start_on", story=("start_date_changed", "changed the start date"))
    return Change(key)


def _describe_due(task: Task) -> Change:
    shown = task.due_at.isoformat() if task.due_at else task.due_on.isoformat() if task.due_on else None
    text = f"changed the due date to {shown}" if shown else "removed the due date"
    dates = {"due_on": task.due_on.isoformat() if task.due_on else None, "due_at": None, "start_on": None}
    if task.due_at is not None:
        dates["due_at"] = task.due_at.isoformat()
    key = "due_at" if task.due_at is not None else "due_on"
    return Change(key, story=("due_date_changed", text), story_extra={"new_dates": dates})


def _describe_custom(world: World, cf_gid: str, option: str | None) -> Change:
    store = world.store
    cf = store.fields[cf_gid]
    value: dict[str, Any] = {"gid": cf_gid, "resource_type": "custom_field", "resource_subtype": "enum"}
    value["enum_value"] = {"gid": option, "resource_type": "enum_option"} if option else None
    text = f'changed {cf.name} to "{store.options[option].name}"' if option else f"cleared {cf.name}"
    extra: dict[str, Any] = {"custom_field": Ref("custom_field", cf_gid)}
    if option:
        extra["new_enum_value"] = Ref("enum_option", option)
    return Change("custom_fields", value, True, ("enum_custom_field_changed", text), extra)
