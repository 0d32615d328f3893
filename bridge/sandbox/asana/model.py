"""The emulator's records: what Asana stores, kept as plain mutable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class Workspace:
    gid: str
    name: str
    email_domains: list[str] = field(default_factory=list)


@dataclass
class User:
    gid: str
    name: str
    email: str
    workspaces: list[str]


@dataclass
class Team:
    gid: str
    name: str
    workspace: str
    members: list[str] = field(default_factory=list)


@dataclass
class Section:
    gid: str
    name: str
    project: str
    created_at: datetime
    tasks: list[str] = field(default_factory=list)  # top-to-bottom order


@dataclass
class Project:
    gid: str
    name: str
    workspace: str
    created_at: datetime
    modified_at: datetime
    owner: str | None
    public: bool
    members: list[str]
    sections: list[str] = field(default_factory=list)
    field_settings: list[str] = field(default_factory=list)
    archived: bool = False
    notes: str = ""
    team: str | None = None  # a private project with a team is visible to the team's members (private_to_team)


@dataclass
class EnumOption:
    gid: str
    name: str
    color: str
    enabled: bool
    field: str


@dataclass
class CustomField:
    gid: str
    name: str
    workspace: str
    options: list[str]
    created_by: str | None
    description: str = ""


@dataclass
class CustomFieldSetting:
    gid: str
    project: str
    field: str
    is_important: bool


@dataclass
class Task:
    gid: str
    name: str
    workspace: str
    created_by: str
    created_at: datetime
    modified_at: datetime
    resource_subtype: str = "default_task"
    notes: str = ""
    html_notes: str = "<body></body>"
    assignee: str | None = None
    assignee_status: str = "inbox"
    completed: bool = False
    completed_at: datetime | None = None
    completed_by: str | None = None
    due_on: date | None = None
    due_at: datetime | None = None
    start_on: date | None = None
    followers: list[str] = field(default_factory=list)
    memberships: list[tuple[str, str]] = field(default_factory=list)  # (project, section), in add order
    parent: str | None = None
    subtasks: list[str] = field(default_factory=list)
    custom_values: dict[str, str | None] = field(default_factory=dict)  # field gid -> option gid
    tags: list[str] = field(default_factory=list)
    deleted: bool = False

    def projects(self) -> list[str]:
        return [project for project, _ in self.memberships]

    def section_in(self, project: str) -> str | None:
        return next((section for p, section in self.memberships if p == project), None)


@dataclass
class Story:
    gid: str
    task: str
    created_by: str | None
    created_at: datetime
    resource_subtype: str
    text: str
    html_text: str
    kind: str  # "comment" or "system": StoryResponse.type
    is_pinned: bool = False
    sticker_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # conditional fields such as new_section


@dataclass
class OooEntry:
    gid: str
    user: str
    workspace: str
    start_date: date
    end_date: date
    created_by: str


@dataclass
class WebhookFilter:
    resource_type: str | None = None
    resource_subtype: str | None = None
    action: str | None = None
    fields: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("resource_type", "resource_subtype", "action", "fields"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class Webhook:
    gid: str
    resource: str
    resource_kind: str
    workspace: str
    target: str
    secret: str
    owner: str
    created_at: datetime
    filters: list[WebhookFilter] = field(default_factory=list)
    active: bool = True
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_content: str | None = None
    delivery_retry_count: int = 0
    next_attempt_after: datetime | None = None
    first_failure_at: datetime | None = None


@dataclass(frozen=True)
class Compact:
    """A compact resource reference inside an event: gid, resource_type and optional subtype."""

    gid: str
    resource_type: str
    resource_subtype: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"gid": self.gid, "resource_type": self.resource_type}
        if self.resource_subtype is not None:
            out["resource_subtype"] = self.resource_subtype
        return out


@dataclass(frozen=True)
class Event:
    """One Asana event, as delivered to webhooks and returned by GET /events (compact, ids only)."""

    user: str | None
    created_at: str
    action: str
    resource: Compact
    parent: Compact | None = None
    change: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "user": {"gid": self.user, "resource_type": "user"} if self.user else None,
            "created_at": self.created_at,
            "action": self.action,
            "resource": self.resource.to_json(),
            "parent": self.parent.to_json() if self.parent else None,
        }
        if self.change is not None:
            out["change"] = self.change
        return out
