"""Who may act on a project's tasks from Slack, as Asana's project privacy says (domain.access)."""

from __future__ import annotations

import pytest

from bridge.domain.access import Privacy, ProjectAccess, Refusal, needs, privacy_of, refusal
from bridge.domain.model import AsanaUserGid

ANA, BO = AsanaUserGid("1"), AsanaUserGid("2")


def access(privacy: Privacy, *, team: str | None = None) -> ProjectAccess:
    return ProjectAccess(privacy=privacy, members=frozenset({ANA}), team_gid=team)


@pytest.mark.parametrize(
    ("project", "user", "guest", "team", "asks", "answer"),
    [
        (access(Privacy.PRIVATE), ANA, None, (), None, None),  # members always may
        (access(Privacy.PUBLIC), BO, False, (), "guest", None),
        (access(Privacy.PUBLIC), BO, True, (), "guest", Refusal.GUEST),
        (access(Privacy.PUBLIC), BO, None, (), "guest", Refusal.GUEST),  # not known: refused
        (access(Privacy.TEAM, team="9"), BO, None, (BO,), "team", None),
        (access(Privacy.TEAM, team="9"), BO, None, (), "team", Refusal.NOT_IN_TEAM),
        (access(Privacy.TEAM), BO, None, (), None, Refusal.NOT_A_MEMBER),  # no team known: as private
        (access(Privacy.PRIVATE), BO, False, (BO,), None, Refusal.NOT_A_MEMBER),
    ],
)
def test_who_may_act(
    project: ProjectAccess,
    user: AsanaUserGid,
    guest: bool | None,
    team: tuple[AsanaUserGid, ...],
    asks: str | None,
    answer: Refusal | None,
) -> None:
    assert needs(project, user) == asks
    assert refusal(project, user, guest=guest, team_members=team) == answer


@pytest.mark.parametrize(
    ("setting", "privacy"),
    [
        ("public_to_workspace", Privacy.PUBLIC),
        ("private_to_team", Privacy.TEAM),
        ("private", Privacy.PRIVATE),
        (None, Privacy.PRIVATE),
        ("members_only", Privacy.PRIVATE),  # anything new is treated as the strictest
    ],
)
def test_privacy_settings(setting: str | None, privacy: Privacy) -> None:
    assert privacy_of(setting) is privacy
