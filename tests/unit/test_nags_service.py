"""The nag scheduler on fakes: what a tick posts (one message per task, once, only while leading) and what it
records. The rules themselves are in test_nag_rules.py; tests/integration/test_nags.py keeps ticks end to end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, UserMapping
from bridge.domain.nags import SNOOZED_UNTIL
from bridge.domain.policy import Policy
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.work import AsanaUser
from bridge.errors import SlackError
from bridge.services.nag_assembly import nagger_for
from bridge.services.nags import Nagger
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

ANA = SlackUserId("U1")
TODAY = START.date().isoformat()


@dataclass
class World:
    nagger: Nagger
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore
    clock: FakeClock


def snapshot(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "completed": False,
        "due_on": TODAY,
        "assignee": {"gid": "a1", "name": "Ana"},
        "memberships": [{"project": {"gid": PROJECT}, "section": {"gid": "s-doing", "name": "Doing"}}],
        "custom_fields": [],
    }
    return base | fields


def world(policy: Policy | None = None, tasks: dict[str, dict[str, Any]] | None = None) -> World:
    store, clock = FakeStore(), FakeClock()
    slack = FakeSlack({ANA: Person("Ana", "ana@example.com")})
    asana = FakeAsana(users=[AsanaUser(AsanaUserGid("a1"), "Ana", "ana@example.com")])
    store.links[(TEAM, CHANNEL)] = a_link()
    store.mappings[(TEAM, ANA)] = UserMapping(TEAM, ANA, "ana@example.com", AsanaUserGid("a1"), START)
    for gid, fields in (tasks or {"500": {}}).items():
        store.tasks[TaskGid(gid)] = a_tracked_task(
            gid, snapshot=snapshot(**fields), created_at=START - timedelta(days=3)
        )
    nagger = nagger_for(store, asana=asana, slack=slack, clock=clock, policy=policy or Policy())
    return World(nagger, asana, slack, store, clock)


async def test_a_task_due_today_gets_one_reminder_in_its_thread_and_it_is_recorded() -> None:
    w = world()
    assert await w.nagger.tick() == 1
    [nag] = w.slack.posts
    assert nag.thread_ts == w.store.tasks[TaskGid("500")].thread_ts and "<@U1>" in nag.text
    [(key, posted)] = [(k, n) for (_, _, k), n in w.store.nags.items()]
    assert (key.kind, key.stage, posted.message_ts) == ("reminder", "due_today", nag.ts)
    assert await w.nagger.tick() == 0  # sent once
    assert len(w.slack.posts) == 1


async def test_only_the_leading_replica_nags() -> None:
    w = world()
    w.store.leader = False
    assert await w.nagger.tick() == 0
    assert (w.slack.posts, w.store.nags) == ([], {})


@pytest.mark.parametrize(
    ("fields", "nagged"),
    [
        ({}, True),
        ({"completed": True}, False),
        ({"due_on": (START + timedelta(days=9)).date().isoformat()}, False),
        ({SNOOZED_UNTIL: (START + timedelta(hours=1)).isoformat()}, False),
    ],
    ids=["due today", "completed", "due later", "snoozed"],
)
async def test_what_is_not_due_is_not_nagged(fields: dict[str, Any], nagged: bool) -> None:
    w = world(tasks={"500": fields})
    assert await w.nagger.tick() == int(nagged)


async def test_a_snooze_ends() -> None:
    w = world(tasks={"500": {SNOOZED_UNTIL: (START + timedelta(hours=1)).isoformat()}})
    assert await w.nagger.tick() == 0
    w.clock.advance(timedelta(hours=2))
    assert await w.nagger.tick() == 1


async def test_each_task_gets_its_own_message() -> None:
    w = world(tasks={"500": {}, "501": {}, "502": {"completed": True}})
    assert await w.nagger.tick() == 2
    assert sorted(p.thread_ts or "" for p in w.slack.posts) == sorted(
        w.store.tasks[TaskGid(g)].thread_ts for g in ("500", "501")
    )


async def test_a_nag_slack_refused_stays_due_for_the_next_tick() -> None:
    w = world()
    w.slack.failures.append(SlackError("chat.postMessage: fatal_error", code="fatal_error"))
    assert await w.nagger.tick() == 0
    assert w.store.nags == {}
    w.clock.advance(timedelta(minutes=1))
    assert await w.nagger.tick() == 1


async def test_the_assignee_gets_a_copy_by_dm_when_the_policy_says_so() -> None:
    w = world(parse_policy({"reminders": {"dm_assignee": True}}))
    assert await w.nagger.tick() == 1
    assert [p.channel for p in w.slack.posts] == [CHANNEL, ANA]


async def test_a_task_left_in_triage_nags_the_triager_who_then_follows_it() -> None:
    policy = parse_policy({"triage": {"triager": "ana@example.com", "grace": "1h"}})
    triage = [{"project": {"gid": PROJECT}, "section": {"gid": "s-triage", "name": "Needs triage"}}]
    w = world(policy, {"500": {"memberships": triage, "due_on": None, "assignee": None}})
    assert await w.nagger.tick() == 1
    assert ("add_followers", "500", ("a1",)) in w.asana.writes()
    assert "<@U1>" in w.slack.posts[0].text
