"""Nag buttons on fakes: who may click, what each click writes to Asana, how the nag is edited, and that a double
click acts once. tests/integration/test_nag_buttons.py keeps the clicks end to end through Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bridge import wording
from bridge.domain.access import Privacy, ProjectAccess
from bridge.domain.model import AsanaUserGid, MessageTs, NagKey, SlackUserId, TaskGid, TeamId
from bridge.domain.nag_clicks import Action, Click, PostedNag
from bridge.domain.nags import SNOOZED_UNTIL
from bridge.domain.policy import Policy
from bridge.domain.work import AsanaUser
from bridge.errors import AsanaUnavailable
from bridge.services.cards import Cards
from bridge.services.errors import UserError
from bridge.services.nag_actions import NagActions
from bridge.services.nag_click import NagClick, home_claim
from bridge.services.people import People
from tests.unit.fakes import (
    CHANNEL,
    PROJECT,
    START,
    TEAM,
    FakeAsana,
    FakeClock,
    FakeSlack,
    FakeStore,
    Person,
    a_link,
    a_tracked_task,
)

ANA, BO, EVE, GHOST = SlackUserId("U1"), SlackUserId("U2"), SlackUserId("U5"), SlackUserId("U9")
GID = TaskGid("500")
NAG = MessageTs("1700000000.000900")


@dataclass
class World:
    actions: NagActions
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore

    def writes(self) -> list[str]:
        return [call[0] for call in self.asana.writes()]


def world(**task: Any) -> World:
    store, clock = FakeStore(), FakeClock()
    slack = FakeSlack(
        {
            ANA: Person("Ana", "ana@example.com"),
            BO: Person("Bo", "bo@example.com"),
            EVE: Person("Eve", "eve@example.com"),
            GHOST: Person("Gus", "gus@nowhere.example"),
        }
    )
    asana = FakeAsana(
        users=[
            AsanaUser(AsanaUserGid("a1"), "Ana", "ana@example.com"),
            AsanaUser(AsanaUserGid("b2"), "Bo", "bo@example.com"),
            AsanaUser(AsanaUserGid("e5"), "Eve", "eve@example.com"),
        ]
    )
    asana.add_task(GID, "Webhook retries", assignee={"gid": "a1", "name": "Ana"}, due_on="2026-11-30", **task)
    store.links[(TEAM, CHANNEL)] = a_link()
    store.tasks[GID] = a_tracked_task(GID, requester=BO)
    key = NagKey(GID, "reminder", "due_today", "2026-11-30")
    store.nags[(GID, NAG, key)] = PostedNag(key, START, NAG)
    policy = Policy()
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    cards = Cards(links=store, captures=store, slack=slack, people=people, clock=clock, policy=policy)
    actions = NagActions(
        nag_log=store,
        links=store,
        tasks=store,
        mappings=store,
        asana=asana,
        slack=slack,
        people=people,
        clock=clock,
        policy=policy,
        cards=cards,
    )
    return World(actions, asana, slack, store)


def click(action: Action, *, by: SlackUserId = ANA, value: str | None = None, team: TeamId = TEAM) -> NagClick:
    return NagClick(team, CHANNEL, by, GID, NAG, Click(action, value))


@pytest.mark.parametrize(
    ("action", "value", "writes", "keeps_buttons"),
    [
        (Action.DONE, None, ["update_task", "comment"], False),
        (Action.SNOOZE, None, ["comment"], True),
        (Action.PUSH, None, ["update_task", "comment"], True),
        (Action.REASSIGN, BO, ["update_task", "comment"], True),
    ],
    ids=["done", "snooze", "push a week", "reassign"],
)
async def test_a_click_by_the_assignee_changes_the_task_comments_and_edits_the_nag(
    action: Action, value: str | None, writes: list[str], keeps_buttons: bool
) -> None:
    w = world()
    assert await w.actions.act(click(action, value=value)) is None
    assert w.writes() == writes
    [(task_gid, comment)] = w.asana.comments
    assert task_gid == GID and "Ana" in comment
    # The nag is edited in place, then the task's card drawn again (the relay tells no change the bridge made).
    assert [edit.ts for edit in w.slack.updates] == [NAG, w.store.tasks[GID].thread_ts]
    [posted] = w.store.nags.values()
    # A done task's nag stays claimed (no buttons left); otherwise it is released for the next change.
    assert (posted.acted_by is None) is keeps_buttons


async def test_each_click_writes_what_it_says() -> None:
    w = world()
    await w.actions.act(click(Action.REASSIGN, value=BO))
    await w.actions.act(click(Action.PUSH, by=BO))  # Ana is no longer the assignee: Bo (who asked) goes on
    await w.actions.act(click(Action.DONE, by=BO))
    updates = [call[2] for call in w.asana.calls if call[0] == "update_task"]
    assert updates == [{"assignee": "b2"}, {"due_on": "2026-12-07"}, {"completed": True}]
    assert w.store.tasks[GID].completed


async def test_a_snooze_is_kept_in_the_snapshot_for_the_scheduler() -> None:
    w = world()
    await w.actions.act(click(Action.SNOOZE))
    assert SNOOZED_UNTIL in w.store.tasks[GID].snapshot


async def test_a_double_click_acts_once() -> None:
    w = world()
    await w.actions.act(click(Action.DONE))
    said = await w.actions.act(click(Action.DONE, by=BO))
    assert said is not None and said.startswith("Already handled")
    assert w.writes() == ["update_task", "comment"]


@pytest.mark.parametrize(
    ("by", "access", "allowed"),
    [
        (ANA, None, True),  # the assignee
        (BO, None, True),  # who asked for it
        (EVE, None, False),  # neither, and the project is private to its members
        (EVE, ProjectAccess(Privacy.PRIVATE, frozenset({AsanaUserGid("e5")})), True),  # a member
        (EVE, ProjectAccess(Privacy.PUBLIC, frozenset()), True),  # a public project, and Eve is no guest
    ],
    ids=["assignee", "requester", "stranger", "member", "public project"],
)
async def test_only_people_asana_lets_change_the_task_may_click(
    by: SlackUserId, access: ProjectAccess | None, allowed: bool
) -> None:
    w = world()
    if access is not None:
        w.asana.access[PROJECT] = access
    if allowed:
        await w.actions.act(click(Action.DONE, by=by))
        assert w.writes() == ["update_task", "comment"]
    else:
        with pytest.raises(UserError, match="not one of its members, so nothing was changed"):
            await w.actions.act(click(Action.DONE, by=by))
        assert (w.writes(), w.slack.updates) == ([], [])
        assert all(nag.acted_by is None for nag in w.store.nags.values())


@pytest.mark.parametrize(
    ("a_click", "said"),
    [
        (click(Action.DONE, by=GHOST), wording.unfurl_unmapped(GHOST)),
        (click(Action.DONE, team=TeamId("T2")), wording.NAG_TASK_UNKNOWN),
        (click(Action.REASSIGN, value=GHOST), wording.nag_assignee_unknown(GHOST)),
    ],
    ids=["clicker without Asana", "another workspace's task", "assignee without Asana"],
)
async def test_a_click_that_cannot_be_carried_out_changes_nothing(a_click: NagClick, said: str) -> None:
    w = world()
    with pytest.raises(UserError) as refused:
        await w.actions.act(a_click)
    assert str(refused.value) == said
    assert (w.writes(), w.slack.updates) == ([], [])


async def test_a_nag_the_task_outgrew_is_edited_to_say_so_and_nothing_changes() -> None:
    w = world(completed=True)
    said = await w.actions.act(click(Action.PUSH))
    assert said is not None and "completed in Asana already" in said
    assert w.writes() == []
    [edited] = w.slack.updates
    assert edited.ts == NAG and "nothing changed" in edited.text


async def test_asking_for_what_the_task_has_changes_nothing_and_leaves_the_nag() -> None:
    w = world()
    said = await w.actions.act(click(Action.REASSIGN, value=ANA))
    assert said == "The task is already assigned to Ana; nothing changed."
    assert (w.writes(), w.slack.updates) == ([], [])


async def test_a_change_asana_refuses_frees_the_nag_for_another_try() -> None:
    w = world()
    w.asana.failures["update_task"] = [AsanaUnavailable("503", status=503)]
    with pytest.raises(AsanaUnavailable):
        await w.actions.act(click(Action.DONE))
    assert all(nag.acted_by is None for nag in w.store.nags.values())
    await w.actions.act(click(Action.DONE))
    assert w.writes() == ["update_task", "update_task", "comment"]


async def test_a_click_in_the_app_home_acts_once_per_view_and_says_what_it_did() -> None:
    w = world()
    view = home_claim("hash-1")
    in_home = NagClick(TEAM, None, ANA, GID, view, Click(Action.SNOOZE))
    said = await w.actions.act(in_home)
    assert said is not None and said.startswith("💤 Snoozed")
    assert [u.ts for u in w.slack.updates] == [w.store.tasks[GID].thread_ts]  # the card; no nag message to edit
    w.asana.tasks[GID]["completed"] = True
    outdated = await w.actions.act(NagClick(TEAM, None, ANA, GID, home_claim("hash-2"), Click(Action.DONE)))
    assert outdated is not None and "completed in Asana already" in outdated
    assert w.writes() == ["comment"]  # the snooze's comment; the outdated click wrote nothing
