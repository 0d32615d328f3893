"""Slack user → Asana user: cached, so warm requests cost no calls; people without Asana are looked up again sooner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.domain.model import AsanaUserGid, SlackUserId, TeamId, UserMapping, WorkspaceGid
from bridge.domain.work import AsanaUser
from bridge.services.people import People
from tests.support import FakeClock


class FakeStore:
    def __init__(self) -> None:
        self.mappings: dict[tuple[str, str], UserMapping] = {}

    async def get_user_mapping(self, team_id: TeamId, user: SlackUserId) -> UserMapping | None:
        return self.mappings.get((team_id, user))

    async def save_user_mapping(self, mapping: UserMapping) -> None:
        self.mappings[(mapping.team_id, mapping.slack_user_id)] = mapping


class FakeSlack:
    def __init__(self, emails: dict[str, str]) -> None:
        self.emails = emails
        self.calls = 0

    async def user_email(self, user_id: str) -> str | None:
        self.calls += 1
        return self.emails.get(user_id)


class FakeAsana:
    def __init__(self, users: dict[str, AsanaUser]) -> None:
        self.users = users
        self.calls = 0

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None:
        self.calls += 1
        return self.users.get(email)


WS = WorkspaceGid("1")
ANA = AsanaUser(AsanaUserGid("11"), "Ana", "ana@example.com", (WS,))
ELSEWHERE = AsanaUser(AsanaUserGid("12"), "Eve", "eve@example.com", (WorkspaceGid("2"),))


@pytest.mark.parametrize(
    ("user", "later", "expected", "looked_up_again"),
    [
        ("U_ANA", timedelta(hours=23), "11", False),
        ("U_ANA", timedelta(hours=25), "11", True),
        ("U_NOBODY", timedelta(minutes=59), None, False),
        ("U_NOBODY", timedelta(minutes=61), None, True),
        ("U_EVE", timedelta(0), None, False),  # an Asana user of another workspace is nobody here
        ("U_NO_EMAIL", timedelta(minutes=61), None, True),
    ],
)
async def test_mapping_and_its_cache(user: str, later: timedelta, expected: str | None, looked_up_again: bool) -> None:
    clock = FakeClock()
    slack = FakeSlack({"U_ANA": "ana@example.com", "U_NOBODY": "x@example.com", "U_EVE": "eve@example.com"})
    asana = FakeAsana({"ana@example.com": ANA, "eve@example.com": ELSEWHERE})
    people = People(store=FakeStore(), slack=slack, asana=asana, clock=clock)  # type: ignore[arg-type]
    assert await people.asana_user(TeamId("T"), SlackUserId(user), WS) == expected
    first = slack.calls
    clock.advance(later)
    assert await people.asana_user(TeamId("T"), SlackUserId(user), WS) == expected
    assert (slack.calls > first) is looked_up_again
