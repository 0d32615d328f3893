"""Unfurls on fakes: which pasted task links get a preview, and what the Done and Assign-to-me buttons write to
Asana, for whom. tests/integration/test_unfurls.py keeps them end to end through Slack."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bridge import wording
from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, TeamId
from bridge.domain.policy import Policy
from bridge.domain.work import AsanaUser
from bridge.services.errors import UserError
from bridge.services.people import People
from bridge.services.unfurls import Unfurls
from tests.unit.fakes import (
    CHANNEL,
    PROJECT,
    TEAM,
    FakeAsana,
    FakeClock,
    FakeSlack,
    FakeStore,
    Person,
    a_link,
    a_tracked_task,
    task_of,
)

ANA, GHOST = SlackUserId("U1"), SlackUserId("U9")
GID = TaskGid("500")
URL = f"https://app.asana.com/0/{PROJECT}/{GID}"
MESSAGE = "1700000000.000300"


@dataclass
class World:
    unfurls: Unfurls
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore


def world(**task: object) -> World:
    store, clock = FakeStore(), FakeClock()
    slack = FakeSlack({ANA: Person("Ana", "ana@example.com"), GHOST: Person("Gus", "gus@nowhere.example")})
    asana = FakeAsana(users=[AsanaUser(AsanaUserGid("a1"), "Ana", "ana@example.com")])
    asana.add_task(GID, "Webhook retries", projects=[{"gid": PROJECT}], **task)
    store.links[(TEAM, CHANNEL)] = a_link()
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    unfurls = Unfurls(
        asana=asana,
        slack=slack,
        people=people,
        policy=Policy(),
        workspace_gid=lambda: "w1",
        links=store,
        tasks=store,
    )
    return World(unfurls, asana, slack, store)


async def test_each_link_to_a_task_the_bridge_can_see_gets_a_preview() -> None:
    w = world()
    gone = f"https://app.asana.com/0/{PROJECT}/404"
    told = await w.unfurls.unfurl(TEAM, CHANNEL, MESSAGE, [URL, gone, "https://example.com/0/1/2", URL])
    assert told == 1
    [(channel, ts, previews)] = w.slack.unfurls
    assert (channel, ts, list(previews)) == (CHANNEL, MESSAGE, [URL])


@pytest.mark.parametrize(
    ("followed_by", "previewed"), [(TEAM, True), (TeamId("T2"), False)], ids=["this workspace's", "another's"]
)
async def test_another_workspaces_task_is_not_shown(followed_by: TeamId, previewed: bool) -> None:
    w = world()
    w.store.tasks[GID] = a_tracked_task(GID, team_id=followed_by)
    assert await w.unfurls.unfurl(TEAM, CHANNEL, MESSAGE, [URL]) == int(previewed)


async def test_done_completes_the_task_once_and_says_who_in_asana() -> None:
    w = world()
    said = await w.unfurls.complete(TEAM, ANA, GID)
    again = await w.unfurls.complete(TEAM, ANA, GID)
    assert [c[0] for c in w.asana.writes()] == ["update_task", "comment"]
    assert w.asana.tasks[GID]["completed"] is True
    assert "Ana" in w.asana.comments[0][1]
    assert said == wording.unfurl_completed(task_of(w.asana.tasks[GID]))
    assert again == wording.unfurl_already_completed(task_of(w.asana.tasks[GID]))


async def test_assign_to_me_makes_the_clicker_the_assignee() -> None:
    w = world()
    await w.unfurls.assign_to_me(TEAM, ANA, GID)
    assert [c[1:] for c in w.asana.writes() if c[0] == "update_task"] == [(GID, {"assignee": "a1"})]
    assert "Ana" in w.asana.comments[0][1]


async def test_someone_without_asana_cannot_click() -> None:
    w = world()
    with pytest.raises(UserError) as refused:
        await w.unfurls.complete(TEAM, GHOST, GID)
    assert str(refused.value) == wording.unfurl_unmapped(GHOST)
    assert w.asana.writes() == []
