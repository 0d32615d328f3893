"""The full JSON shape of each record type, with nested resources left as Refs for the projection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.sandbox.asana.clock import iso
from bridge.sandbox.asana.model import Task
from bridge.sandbox.asana.store import Store

APP_URL = "https://app.asana.com"


@dataclass(frozen=True)
class Ref:
    """A nested resource: compact unless opt_fields asks for more of it."""

    kind: str
    gid: str


def _ref(kind: str, gid: str | None) -> Ref | None:
    return Ref(kind, gid) if gid else None


class Shapes:
    """Every field Asana can return for a record, opt-in ones included."""

    def __init__(self, store: Store, failure_window: timedelta) -> None:
        self.store = store
        self.failure_window = failure_window

    def full(self, kind: str, gid: str) -> dict[str, Any]:
        builder = getattr(self, f"_{kind}")
        return dict(builder(gid))

    def _workspace(self, gid: str) -> dict[str, Any]:
        ws = self.store.workspaces[gid]
        return {
            "gid": gid,
            "resource_type": "workspace",
            "name": ws.name,
            "email_domains": list(ws.email_domains),
            "is_organization": True,
        }

    def _user(self, gid: str) -> dict[str, Any]:
        user = self.store.users[gid]
        return {
            "gid": gid,
            "resource_type": "user",
            "name": user.name,
            "email": user.email,
            "photo": None,
            "workspaces": [Ref("workspace", w) for w in user.workspaces],
        }

    def _project(self, gid: str) -> dict[str, Any]:
        p = self.store.projects[gid]
        return {
            "gid": gid,
            "resource_type": "project",
            "name": p.name,
            "archived": p.archived,
            "color": None,
            "completed": False,
            "completed_at": None,
            "completed_by": None,
            "created_at": iso(p.created_at),
            "modified_at": iso(p.modified_at),
            "default_view": "list",
            "due_on": None,
            "start_on": None,
            "notes": p.notes,
            "html_notes": f"<body>{_escape(p.notes)}</body>",
            "public": p.public,
            "privacy_setting": "public_to_workspace" if p.public else ("private_to_team" if p.team else "private"),
            "team": _ref("team", p.team),
            "owner": _ref("user", p.owner),
            "members": [Ref("user", m) for m in p.members],
            "followers": [Ref("user", m) for m in p.members],
            "custom_field_settings": [Ref("custom_field_setting", s) for s in p.field_settings],
            "workspace": Ref("workspace", p.workspace),
            "permalink_url": f"{APP_URL}/1/{p.workspace}/project/{gid}",
        }

    def _team(self, gid: str) -> dict[str, Any]:
        team = self.store.teams[gid]
        return {"gid": gid, "resource_type": "team", "name": team.name}

    def _section(self, gid: str) -> dict[str, Any]:
        s = self.store.sections[gid]
        return {
            "gid": gid,
            "resource_type": "section",
            "name": s.name,
            "created_at": iso(s.created_at),
            "project": Ref("project", s.project),
            "projects": [Ref("project", s.project)],
        }

    def _enum_option(self, gid: str) -> dict[str, Any]:
        o = self.store.options[gid]
        return {"gid": gid, "resource_type": "enum_option", "name": o.name, "enabled": o.enabled, "color": o.color}

    def _custom_field(self, gid: str) -> dict[str, Any]:
        cf = self.store.fields[gid]
        return {
            "gid": gid,
            "resource_type": "custom_field",
            "name": cf.name,
            "description": cf.description,
            "resource_subtype": "enum",
            "type": "enum",
            "representation_type": "enum",
            "enum_options": [Ref("enum_option", o) for o in cf.options],
            "is_formula_field": False,
            "is_value_read_only": False,
            "is_global_to_workspace": False,
            "has_notifications_enabled": True,
            "created_by": _ref("user", cf.created_by),
            "privacy_setting": "public_with_guests",
            "default_access_level": "editor",
        }

    def _custom_field_setting(self, gid: str) -> dict[str, Any]:
        s = self.store.settings[gid]
        return {
            "gid": gid,
            "resource_type": "custom_field_setting",
            "is_important": s.is_important,
            "custom_field": Ref("custom_field", s.field),
            "parent": Ref("project", s.project),
            "project": Ref("project", s.project),
        }

    def task_field_values(self, task: Task) -> list[dict[str, Any]]:
        """task.custom_fields: each field the task carries, with its value; disabled once no project has it."""
        carried = self.store.fields_on(task)
        out = []
        for cf_gid in [*carried, *[f for f in task.custom_values if f not in carried]]:
            entry = self._custom_field(cf_gid)
            option = task.custom_values.get(cf_gid)
            entry["enabled"] = cf_gid in carried
            entry["enum_value"] = _ref("enum_option", option)
            entry["display_value"] = self.store.options[option].name if option else None
            out.append(entry)
        return out

    def _task(self, gid: str) -> dict[str, Any]:
        t = self.store.tasks[gid]
        return {
            "gid": gid,
            "resource_type": "task",
            "resource_subtype": t.resource_subtype,
            "name": t.name,
            "notes": t.notes,
            "html_notes": t.html_notes,
            "assignee": _ref("user", t.assignee),
            "assignee_status": t.assignee_status,
            "assignee_section": None,
            "completed": t.completed,
            "completed_at": iso(t.completed_at) if t.completed_at else None,
            "completed_by": _ref("user", t.completed_by),
            "created_at": iso(t.created_at),
            "created_by": {"gid": t.created_by, "resource_type": "user"},
            "modified_at": iso(t.modified_at),
            "due_on": t.due_on.isoformat() if t.due_on else None,
            "due_at": iso(t.due_at) if t.due_at else None,
            "start_on": t.start_on.isoformat() if t.start_on else None,
            "start_at": None,
            "actual_time_minutes": None,
            "followers": [Ref("user", f) for f in t.followers],
            "projects": [Ref("project", p) for p in t.projects()],
            "memberships": [{"project": Ref("project", p), "section": Ref("section", s)} for p, s in t.memberships],
            "parent": _ref("task", t.parent),
            "num_subtasks": len(t.subtasks),
            "tags": [],
            "custom_fields": self.task_field_values(t),
            "dependencies": [],
            "dependents": [],
            "liked": False,
            "likes": [],
            "num_likes": 0,
            "hearted": False,
            "hearts": [],
            "num_hearts": 0,
            "is_rendered_as_separator": False,
            "workspace": Ref("workspace", t.workspace),
            "permalink_url": f"{APP_URL}/1/{t.workspace}/task/{gid}",
        }

    def _story(self, gid: str) -> dict[str, Any]:
        s = self.store.stories[gid]
        out: dict[str, Any] = {
            "gid": gid,
            "resource_type": "story",
            "resource_subtype": s.resource_subtype,
            "created_at": iso(s.created_at),
            "created_by": _ref("user", s.created_by),
            "type": s.kind,
            "text": s.text,
            "html_text": s.html_text,
            "is_pinned": s.is_pinned,
            "is_editable": s.kind == "comment",
            "is_edited": False,
            "liked": False,
            "likes": [],
            "num_likes": 0,
            "hearted": False,
            "hearts": [],
            "num_hearts": 0,
            "previews": [],
            "source": "api",
            "target": Ref("task", s.task),
        }
        if s.sticker_name:
            out["sticker_name"] = s.sticker_name
        out.update(s.extra)
        return out

    def _ooo_entry(self, gid: str) -> dict[str, Any]:
        e = self.store.ooo[gid]
        return {
            "gid": gid,
            "resource_type": "ooo_entry",
            "start_date": e.start_date.isoformat(),
            "end_date": e.end_date.isoformat(),
            "user": Ref("user", e.user),
            "created_by": Ref("user", e.created_by),
        }

    def _webhook(self, gid: str) -> dict[str, Any]:
        w = self.store.webhooks[gid]
        deletion = iso(w.first_failure_at + self.failure_window) if w.first_failure_at else None
        return {
            "gid": gid,
            "resource_type": "webhook",
            "active": w.active,
            "resource": Ref(w.resource_kind, w.resource),
            "target": w.target,
            "created_at": iso(w.created_at),
            "last_success_at": iso(w.last_success_at) if w.last_success_at else None,
            "last_failure_at": iso(w.last_failure_at) if w.last_failure_at else None,
            "last_failure_content": w.last_failure_content,
            "delivery_retry_count": w.delivery_retry_count,
            "next_attempt_after": iso(w.next_attempt_after) if w.next_attempt_after else None,
            "failure_deletion_timestamp": deletion,
            "filters": [f.to_json() for f in w.filters],
        }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
