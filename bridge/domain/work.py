"""Asana's things as the bridge sees them: users, projects, sections, custom fields, tasks, webhooks."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bridge.domain.model import AsanaUserGid, ProjectGid, TaskGid, WorkspaceGid


@dataclass(frozen=True)
class AsanaUser:
    gid: AsanaUserGid
    name: str
    email: str | None = None
    workspace_gids: tuple[WorkspaceGid, ...] = ()


@dataclass(frozen=True)
class Section:
    gid: str
    name: str


def starting_section(
    sections: Sequence[Section], *, triage_gid: str | None, priority: str | None, priorities: Collection[str] = ()
) -> str | None:
    """Where a new task starts. Without a priority, in triage. With one it is triaged already: in the section named
    like its priority (where the nag's priority select would move it), else the first section that is neither for
    triage nor named like another of the `priorities`; with none such, in triage."""
    if not priority:
        return triage_gid
    names = {s.gid: s.name.strip().casefold() for s in sections}
    named = next((gid for gid, name in names.items() if name == priority.strip().casefold()), None)
    taken = {p.strip().casefold() for p in priorities}
    others = [gid for gid, name in names.items() if gid != triage_gid and name not in taken]
    return named or (others[0] if others else triage_gid)


@dataclass(frozen=True)
class EnumOption:
    gid: str
    name: str
    enabled: bool = True


@dataclass(frozen=True)
class CustomField:
    gid: str
    name: str
    subtype: str
    enum_options: tuple[EnumOption, ...] = ()

    def option_named(self, name: str) -> EnumOption | None:
        """The enabled option whose name matches, ignoring case (names are only for people; gids are keys)."""
        wanted = name.strip().lower()
        return next((o for o in self.enum_options if o.enabled and o.name.strip().lower() == wanted), None)


@dataclass(frozen=True)
class Project:
    gid: ProjectGid
    name: str
    workspace_gid: WorkspaceGid
    permalink_url: str | None = None
    archived: bool = False


@dataclass(frozen=True)
class TaskDraft:
    """What a new task is made of; the gateway turns it into POST /tasks."""

    name: str
    project_gid: ProjectGid
    notes: str = ""
    html_notes: str | None = None  # rich text, `<body>…</body>`; sent instead of `notes` when given
    section_gid: str | None = None
    assignee: AsanaUserGid | None = None
    followers: tuple[AsanaUserGid, ...] = ()
    due_on: date | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    parent: TaskGid | None = None


@dataclass(frozen=True)
class Task:
    gid: TaskGid
    name: str
    permalink_url: str
    completed: bool = False
    assignee: AsanaUserGid | None = None
    assignee_name: str | None = None
    due_on: date | None = None
    notes: str = ""
    project_gids: tuple[ProjectGid, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def enum_value(self, field_name: str) -> str | None:
        """The chosen option of the enum custom field with this name (ignoring case), from the fetched JSON."""
        wanted = field_name.strip().lower()
        for custom_field in self.raw.get("custom_fields") or ():
            if str(custom_field.get("name") or "").strip().lower() == wanted:
                name = (custom_field.get("enum_value") or {}).get("name")
                return str(name) if name else None
        return None


@dataclass(frozen=True)
class Webhook:
    gid: str
    resource_gid: str
    target: str
    active: bool = True
    last_failure_at: str | None = None
    delivery_retry_count: int = 0
    last_failure_content: str | None = None  # what Asana got back from the bridge: for the operator's log


@dataclass(frozen=True)
class EventsPage:
    """One read of the Events API: the events, the token to pass next time, and whether more are waiting."""

    events: tuple[dict[str, Any], ...]
    sync: str
    has_more: bool


@dataclass(frozen=True)
class Story:
    """An entry in a task's history; comments have subtype "comment_added"."""

    gid: str
    text: str
    subtype: str
    author_gid: str | None = None
    author_name: str | None = None


# Reading Asana's JSON: dates and moments come as ISO strings, custom fields as a list on the task.


def iso_day(value: Any) -> date | None:
    """A date field such as `due_on` ("2026-12-04"), or None when unset."""
    return date.fromisoformat(str(value)) if value else None


def iso_moment(value: Any) -> datetime | None:
    """A moment such as `created_at` or `due_at`, always aware (UTC when the string names no offset)."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def custom_field(task: Mapping[str, Any], wanted: str | None) -> Mapping[str, Any] | None:
    """The task's custom field with this gid, or this name (ignoring case and spaces around it)."""
    if not wanted:
        return None
    folded = wanted.strip().casefold()
    return next(
        (
            f
            for f in task.get("custom_fields") or ()
            if f.get("gid") == wanted or str(f.get("name") or "").strip().casefold() == folded
        ),
        None,
    )


def enabled_options(found: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An enum field's options people may still choose, as (option gid, name)."""
    return [
        (str(o["gid"]), str(o.get("name") or "")) for o in found.get("enum_options") or () if o.get("enabled", True)
    ]
