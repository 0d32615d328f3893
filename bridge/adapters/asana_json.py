"""Asana's JSON in the bridge's types, and back: the fields asked for and the one shape each answer becomes
(STYLE.md 3: no `asana` object crosses a port)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bridge.domain.access import ProjectAccess, privacy_of
from bridge.domain.model import AsanaUserGid, ProjectGid, TaskGid, WorkspaceGid
from bridge.domain.work import AsanaUser, CustomField, EnumOption, Project, Story, Task, TaskDraft, Webhook

TASK_FIELDS = (
    "name,notes,completed,completed_at,assignee,assignee.name,due_on,due_at,permalink_url,modified_at,created_at,"
    "projects,memberships.project,memberships.section.name,custom_fields.name,custom_fields.enum_value.name,"
    # Enough of each custom field for nags to offer its options and to tell whether it is set, without a read.
    "custom_fields.resource_subtype,custom_fields.display_value,custom_fields.enum_options.name,"
    "custom_fields.enum_options.enabled,parent,followers,completed_by.name"
)
# Enough to find a task by its notes marker and to compare it with a stored snapshot (domain.relay.same_facts).
LISTED_TASK_FIELDS = (
    "name,notes,permalink_url,completed,assignee,due_on,due_at,projects,created_at,modified_at,"
    "memberships.project,memberships.section.name,custom_fields.name,custom_fields.enum_value.name"
)
USER_FIELDS = "name,email,workspaces"
WEBHOOK_FIELDS = "resource,target,active,last_failure_at,last_failure_content,delivery_retry_count"
PROJECT_FIELDS = "name,workspace,permalink_url,archived"
PROJECT_ACCESS_FIELDS = "privacy_setting,team,team.name,members"
CUSTOM_FIELD_SETTING_FIELDS = (
    "custom_field.name,custom_field.resource_subtype,custom_field.enum_options.name,custom_field.enum_options.enabled"
)


def project_from(data: dict[str, Any]) -> Project:
    return Project(
        gid=ProjectGid(data["gid"]),
        name=data.get("name") or "",
        workspace_gid=WorkspaceGid((data.get("workspace") or {}).get("gid", "")),
        permalink_url=data.get("permalink_url"),
        archived=bool(data.get("archived")),
    )


def project_access_from(data: dict[str, Any]) -> ProjectAccess:
    team = data.get("team") or {}
    return ProjectAccess(
        privacy=privacy_of(data.get("privacy_setting")),
        members=frozenset(AsanaUserGid(str(m["gid"])) for m in data.get("members") or () if m.get("gid")),
        team_gid=str(team["gid"]) if team.get("gid") else None,
        team_name=team.get("name"),
    )


def webhook_from(row: dict[str, Any]) -> Webhook:
    return Webhook(
        gid=row["gid"],
        resource_gid=(row.get("resource") or {}).get("gid", ""),
        target=row.get("target") or "",
        active=bool(row.get("active", True)),
        last_failure_at=row.get("last_failure_at"),
        delivery_retry_count=int(row.get("delivery_retry_count") or 0),
        last_failure_content=row.get("last_failure_content"),
    )


def user_from(data: dict[str, Any]) -> AsanaUser:
    return AsanaUser(
        gid=AsanaUserGid(data["gid"]),
        name=data.get("name") or "",
        email=data.get("email"),
        workspace_gids=tuple(WorkspaceGid(w["gid"]) for w in data.get("workspaces") or ()),
    )


def custom_field_from(data: dict[str, Any]) -> CustomField:
    return CustomField(
        gid=data["gid"],
        name=data.get("name") or "",
        subtype=data.get("resource_subtype") or "",
        enum_options=tuple(
            EnumOption(gid=o["gid"], name=o.get("name") or "", enabled=bool(o.get("enabled", True)))
            for o in data.get("enum_options") or ()
        ),
    )


def draft_body(draft: TaskDraft) -> dict[str, Any]:
    body: dict[str, Any] = {"name": draft.name}
    if draft.html_notes is not None:
        body["html_notes"] = draft.html_notes
    else:
        body["notes"] = draft.notes
    if draft.section_gid:
        body["memberships"] = [{"project": draft.project_gid, "section": draft.section_gid}]
    else:
        body["projects"] = [draft.project_gid]
    if draft.assignee:
        body["assignee"] = draft.assignee
    if draft.followers:
        body["followers"] = list(draft.followers)
    if draft.due_on:
        body["due_on"] = draft.due_on.isoformat()
    if draft.custom_fields:
        body["custom_fields"] = dict(draft.custom_fields)
    if draft.parent:
        body["parent"] = draft.parent
    return body


def story_from(data: dict[str, Any]) -> Story:
    author = data.get("created_by") or {}
    return Story(
        gid=str(data["gid"]),
        text=data.get("text") or "",
        subtype=data.get("resource_subtype") or "",
        author_gid=author.get("gid"),
        author_name=author.get("name"),
    )


def task_from(data: dict[str, Any]) -> Task:
    assignee = data.get("assignee") or {}
    due = data.get("due_on")
    return Task(
        gid=TaskGid(data["gid"]),
        name=data.get("name") or "",
        permalink_url=data.get("permalink_url") or "",
        completed=bool(data.get("completed")),
        assignee=AsanaUserGid(assignee["gid"]) if assignee.get("gid") else None,
        assignee_name=assignee.get("name"),
        due_on=date.fromisoformat(due) if due else None,
        notes=data.get("notes") or "",
        project_gids=tuple(ProjectGid(p["gid"]) for p in data.get("projects") or ()),
        raw=data,
    )
