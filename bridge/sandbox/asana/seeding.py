"""Creating the records tests and the demo start from: workspaces, people, projects, fields, OOO entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.model import (
    CustomField,
    CustomFieldSetting,
    EnumOption,
    OooEntry,
    Project,
    Section,
    Team,
    User,
    Workspace,
    WorkspaceMembership,
)
from bridge.sandbox.asana.world import World

_COLORS = ("red", "orange", "yellow-orange", "yellow", "yellow-green", "green", "blue-green", "aqua", "blue")


def add_workspace(w: World, name: str) -> str:
    ws = Workspace(gid=w.store.new_gid(), name=name)
    w.store.workspaces[ws.gid] = ws
    return ws.gid


def add_user(
    w: World, name: str, email: str, workspaces: Sequence[str], token: str | None, guest_of: Sequence[str] = ()
) -> str:
    for ws in workspaces:
        if ws not in w.store.workspaces:
            raise KeyError(f"no workspace {ws}")
    if any(u.email.lower() == email.lower() for u in w.store.users.values()):
        raise ValueError(f"a user with email {email} exists already")
    user = User(gid=w.store.new_gid(), name=name, email=email, workspaces=list(workspaces))
    w.store.users[user.gid] = user
    for ws in workspaces:
        membership = WorkspaceMembership(gid=w.store.new_gid(), user=user.gid, workspace=ws, is_guest=ws in guest_of)
        w.store.workspace_memberships[membership.gid] = membership
    if token is not None:
        w.store.tokens[token] = user.gid
    return user.gid


def add_project(
    w: World,
    workspace_gid: str,
    name: str,
    sections: Sequence[str],
    *,
    public: bool,
    members: Sequence[str],
    owner: str | None,
    privacy: str | None = None,
    team: str | None = None,
) -> str:
    if workspace_gid not in w.store.workspaces:
        raise KeyError(f"no workspace {workspace_gid}")
    privacy = privacy or ("public_to_workspace" if public else "private_to_team" if team else "private")
    now = w.clock.now()
    project = Project(
        gid=w.store.new_gid(),
        name=name,
        workspace=workspace_gid,
        created_at=now,
        modified_at=now,
        owner=owner,
        public=privacy == "public_to_workspace",
        members=list(dict.fromkeys([*([owner] if owner else []), *members])),
        privacy=privacy,
        team=team,
    )
    w.store.projects[project.gid] = project
    # Every Asana project has at least one section; tasks without one land in it.
    for section_name in sections or ("Untitled section",):
        create_section(w, project.gid, section_name)
    return project.gid


def add_team(w: World, workspace_gid: str, name: str, members: Sequence[str]) -> str:
    if workspace_gid not in w.store.workspaces:
        raise KeyError(f"no workspace {workspace_gid}")
    team = Team(gid=w.store.new_gid(), name=name, workspace=workspace_gid, members=list(members))
    w.store.teams[team.gid] = team
    return team.gid


def create_section(
    w: World, project_gid: str, name: str, *, before: str | None = None, after: str | None = None
) -> str:
    """Add a section at the end, or before/after another one of the project."""
    project = w.store.projects[project_gid]
    index = len(project.sections)
    for anchor, shift in ((before, 0), (after, 1)):
        if anchor is not None:
            if anchor not in project.sections:
                raise bad_request(f"Section {anchor} is not in project {project.gid}")
            index = project.sections.index(anchor) + shift
    section = Section(gid=w.store.new_gid(), name=name, project=project.gid, created_at=w.clock.now())
    w.store.sections[section.gid] = section
    project.sections.insert(index, section.gid)
    return section.gid


def add_enum_field(
    w: World, workspace_gid: str, name: str, options: Sequence[str], created_by: str | None = None
) -> str:
    if workspace_gid not in w.store.workspaces:
        raise KeyError(f"no workspace {workspace_gid}")
    if not 1 <= len(options) <= 500:
        raise ValueError("an enum field has between 1 and 500 options")
    cf = CustomField(gid=w.store.new_gid(), name=name, workspace=workspace_gid, options=[], created_by=created_by)
    w.store.fields[cf.gid] = cf
    for i, option_name in enumerate(options):
        option = EnumOption(
            gid=w.store.new_gid(), name=option_name, color=_COLORS[i % len(_COLORS)], enabled=True, field=cf.gid
        )
        w.store.options[option.gid] = option
        cf.options.append(option.gid)
    return cf.gid


def attach_field(w: World, project_gid: str, field_gid: str, is_important: bool = True) -> str:
    project = w.store.projects[project_gid]
    cf = w.store.fields[field_gid]
    if cf.workspace != project.workspace:
        raise ValueError("the field and the project are in different workspaces")
    for existing in project.field_settings:
        if w.store.settings[existing].field == field_gid:
            return existing
    setting = CustomFieldSetting(gid=w.store.new_gid(), project=project_gid, field=field_gid, is_important=is_important)
    w.store.settings[setting.gid] = setting
    project.field_settings.append(setting.gid)
    return setting.gid


def add_ooo(w: World, user_gid: str, start: date, end: date, workspace_gid: str | None, created_by: str | None) -> str:
    user = w.store.users[user_gid]
    workspace = workspace_gid or user.workspaces[0]
    if end < start:
        raise ValueError("an OOO entry ends on or after its start")
    entry = OooEntry(
        gid=w.store.new_gid(),
        user=user_gid,
        workspace=workspace,
        start_date=start,
        end_date=end,
        created_by=created_by or user_gid,
    )
    w.store.ooo[entry.gid] = entry
    return entry.gid
