"""The router on fakes: whom a sweep assigns, what it writes to Asana and says in the thread, when it pings and
moves a task on, and who may answer a ping. The choice itself is in test_routing.py (domain); the running bridge's
tests/integration/test_routing.py keeps the ticks end to end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from bridge import wording
from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, UserMapping
from bridge.domain.nags import TaskView
from bridge.domain.policy import Policy
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.work import AsanaUser
from bridge.services.cards import Cards
from bridge.services.errors import UserError
from bridge.services.people import People
from bridge.services.pool import Pool
from bridge.services.presence import Presence
from bridge.services.routing import Router
from bridge.services.routing_clicks import RoutingClick, RoutingClicks
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

ANA, BO, CY = SlackUserId("U1"), SlackUserId("U2"), SlackUserId("U3")
GID = TaskGid("500")
HOME = (PROJECT, CHANNEL)
POOL = {
    "routing": {
        "reassign_after": "1d",
        "pool": [
            {"email": "ana@example.com", "skills": ["webhooks"]},
            {"email": "bo@example.com", "skills": ["oauth"]},
        ],
    },
    "triage": {"triager": "cy@example.com"},
}


@dataclass
class World:
    router: Router
    clicks: RoutingClicks
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore
    clock: FakeClock

    def view(self, **changes: Any) -> dict[tuple[str, str], list[TaskView]]:
        return {HOME: [TaskView(GID, START, **changes)]}

    async def sweep(self, **changes: Any) -> int:
        return await self.router.sweep(self.view(**changes), self.clock.now())

    def assigned(self) -> list[str]:
        return [call[2]["assignee"] for call in self.asana.calls if call[0] == "update_task"]

    def said(self) -> list[str]:
        return [p.text for p in self.slack.posts]


def world(policy: Policy | None = None, *, title: str = "Webhook retries fail") -> World:
    store, clock = FakeStore(), FakeClock()
    people: dict[str, Person] = {
        ANA: Person("Ana", "ana@example.com", "UTC"),
        BO: Person("Bo", "bo@example.com", "UTC"),
        CY: Person("Cy", "cy@example.com", "UTC"),
    }
    slack = FakeSlack(people)
    asana = FakeAsana(users=[AsanaUser(AsanaUserGid(f"g{uid}"), p.name, p.email) for uid, p in people.items()])
    asana.add_task(GID, title)
    store.links[(TEAM, CHANNEL)] = a_link(triage_section_gid=None)
    store.tasks[GID] = a_tracked_task(GID, name=title)
    for uid, person in people.items():
        user = SlackUserId(uid)
        store.mappings[(TEAM, user)] = UserMapping(TEAM, user, person.email, AsanaUserGid(f"g{uid}"), START)
    policy = policy or parse_policy(POOL)
    persons = People(store=store, slack=slack, asana=asana, clock=clock)
    presence = Presence(slack=slack, pool=Pool(store=store, asana=asana, slack=slack))
    router = Router(
        routings=store,
        links=store,
        tasks=store,
        posts=store,
        asana=asana,
        slack=slack,
        clock=clock,
        policy=policy,
        presence=presence,
        cards=Cards(links=store, captures=store, slack=slack, people=persons, clock=clock, policy=policy),
    )
    clicks = RoutingClicks(
        routings=store,
        links=store,
        tasks=store,
        asana=asana,
        slack=slack,
        people=persons,
        pool=presence.pool,
        clock=clock,
        policy=policy,
        router=router,
    )
    return World(router, clicks, asana, slack, store, clock)


async def test_an_unassigned_task_goes_to_the_best_match_with_the_reason_in_asana_and_the_thread() -> None:
    w = world()
    assert await w.sweep() == 1
    assert w.assigned() == ["gU1"]
    [comment] = [text for _, text in w.asana.comments]
    assert "webhooks" in comment
    [reply] = w.said()
    assert "<@U1>" in reply and "webhooks" in reply
    row = w.store.routings[GID]
    assert (row.assignee, row.holders, row.announcement) == ("ana@example.com", ("ana@example.com",), None)
    assert w.store.routed_counts[PROJECT] == {"ana@example.com": 1}


@pytest.mark.parametrize(
    ("view", "link"),
    [
        ({"assignee": AsanaUserGid("gU2")}, {}),  # a person assigned it
        ({}, {"triage_section_gid": "s-triage"}),  # triage has not given it a priority yet
    ],
    ids=["assigned by a person", "waiting for triage"],
)
async def test_what_is_not_routing_s_to_assign_is_left_alone(view: dict[str, Any], link: dict[str, Any]) -> None:
    w = world()
    w.store.links[(TEAM, CHANNEL)] = replace(w.store.links[(TEAM, CHANNEL)], **link)
    assert await w.sweep(**view) == 0
    assert (w.asana.writes(), w.slack.posts, w.store.routings) == ([], [], {})


async def test_a_task_is_routed_once_however_often_the_sweep_runs() -> None:
    w = world()
    await w.sweep()
    assert await w.sweep(assignee=AsanaUserGid("gU1")) == 0
    assert w.assigned() == ["gU1"] and len(w.said()) == 1


async def test_someone_out_of_office_is_skipped_and_the_thread_says_so() -> None:
    w = world()
    w.asana.out["gU1"] = [(date(2026, 11, 30), date(2026, 12, 4))]
    await w.sweep()
    assert w.assigned() == ["gU2"]
    [reply] = w.said()
    assert "Ana" in reply and "<@U1>" not in reply  # named, not pinged


async def test_when_nobody_can_take_it_the_triager_hears_once() -> None:
    w = world()
    w.asana.out["gU1"] = w.asana.out["gU2"] = [(date(2026, 11, 30), date(2026, 12, 4))]
    assert await w.sweep() == 1
    assert await w.sweep() == 0
    [reply] = w.said()
    assert "<@U3>" in reply
    assert w.assigned() == [] and w.store.routings[GID].told_nobody


async def test_a_holder_who_does_not_act_is_pinged_then_the_task_moves_on() -> None:
    w = world()
    await w.sweep()
    w.clock.advance(timedelta(hours=23))  # 7 of its 8 business hours (3/4 of a day: the ping)
    assert await w.sweep(assignee=AsanaUserGid("gU1")) == 1
    ping = w.slack.posts[-1]
    assert "<@U1>" in ping.text and w.store.routings[GID].ping_ts == ping.ts
    w.clock.advance(timedelta(days=1))
    assert await w.sweep(assignee=AsanaUserGid("gU1")) == 1
    assert w.assigned() == ["gU1", "gU2"]
    assert w.store.routings[GID].holders == ("ana@example.com", "bo@example.com")


def ping_click(w: World, by: SlackUserId, *, keep: bool) -> RoutingClick:
    row = w.store.routings[GID]
    assert row.ping_ts is not None
    return RoutingClick(TEAM, CHANNEL, by, GID, row.ping_ts, keep)


async def pinged(w: World) -> None:
    await w.sweep()
    w.clock.advance(timedelta(hours=23))
    await w.sweep(assignee=AsanaUserGid("gU1"))


async def test_the_holder_keeps_the_task_with_a_fresh_window() -> None:
    w = world()
    await pinged(w)
    assert await w.clicks.click(ping_click(w, ANA, keep=True)) is None
    row = w.store.routings[GID]
    assert (row.assigned_at, row.ping_ts) == (w.clock.now(), None)
    assert w.assigned() == ["gU1"] and w.slack.updates[-1].ts == w.slack.posts[-1].ts


@pytest.mark.parametrize("by", [ANA, CY], ids=["the holder", "the triager"])
async def test_the_holder_or_the_triager_may_hand_it_back_and_it_moves_on_now(by: SlackUserId) -> None:
    w = world()
    await pinged(w)
    await w.clicks.click(ping_click(w, by, keep=False))
    assert w.assigned() == ["gU1", "gU2"]


async def test_nobody_else_may_answer_a_ping() -> None:
    w = world()
    await pinged(w)
    with pytest.raises(UserError):
        await w.clicks.click(ping_click(w, BO, keep=False))
    assert w.assigned() == ["gU1"]


async def test_a_click_on_an_old_ping_is_told_it_is_outdated() -> None:
    w = world()
    await pinged(w)
    stale = replace(ping_click(w, ANA, keep=True), message_ts=w.slack.posts[0].ts)
    assert await w.clicks.click(stale) == wording.ROUTING_CLICK_OUTDATED


async def test_without_a_pool_nothing_is_routed() -> None:
    w = world(Policy())
    assert await w.sweep() == 0
    assert w.asana.calls == []
