"""Who may act on a task from Slack: the people Asana lets change it. Pure.

The task's assignee, the person who asked for it and the link's triager always may. Anyone else may as Asana's
project privacy says (`privacy_setting`): a project public to the workspace, any member of the workspace who is not
a guest; a project private to a team, the team's members; a private project, only its members (listed members may
act on any project).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bridge.domain.model import AsanaUserGid


class Privacy(StrEnum):
    PUBLIC = "public_to_workspace"
    TEAM = "private_to_team"
    PRIVATE = "private"


class Refusal(StrEnum):
    """Why someone may not act, which also says who may."""

    GUEST = "guest"  # a public project, but they are a guest of the workspace
    NOT_IN_TEAM = "not_in_team"  # a team's project, and they are not in the team
    NOT_A_MEMBER = "not_a_member"  # a private project, and they are not a member


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    privacy: Privacy
    members: frozenset[AsanaUserGid]
    team_gid: str | None = None
    team_name: str | None = None


def privacy_of(setting: str | None) -> Privacy:
    """Asana's privacy_setting; an unknown or missing one is treated as the strictest."""
    try:
        return Privacy(setting or "")
    except ValueError:
        return Privacy.PRIVATE


def needs(access: ProjectAccess, user: AsanaUserGid) -> str | None:
    """What else must be known to judge `user`: "guest" (their workspace membership), "team" (the team's
    members), or None (the project's members say it all)."""
    if user in access.members:
        return None
    if access.privacy is Privacy.PUBLIC:
        return "guest"
    if access.privacy is Privacy.TEAM and access.team_gid:
        return "team"
    return None


def refusal(
    access: ProjectAccess,
    user: AsanaUserGid,
    *,
    guest: bool | None = None,
    team_members: Collection[AsanaUserGid] = (),
) -> Refusal | None:
    """None when `user` may act on the project's tasks; otherwise why not."""
    if user in access.members:
        return None
    if access.privacy is Privacy.PUBLIC:
        return Refusal.GUEST if guest is not False else None
    if access.privacy is Privacy.TEAM and access.team_gid:
        return None if user in team_members else Refusal.NOT_IN_TEAM
    return Refusal.NOT_A_MEMBER
