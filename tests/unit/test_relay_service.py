"""The relay on fakes: what a burst of Asana events makes the bridge say in Slack (one reply per burst, no echoes,
the channel's noise settings) and keep. tests/integration/test_relay*.py keep webhooks → Slack end to end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import count
from typing import Any

import pytest

from bridge.domain.model import (
    AsanaUserGid,
    ClaimedEvent,
    CommentLink,
    InboxEvent,
    InboxSource,
    MessageTs,
    SlackUserId,
    TaskGid,
    UserMapping,
)
from bridge.domain.policy import Policy
from bridge.domain.work import AsanaUser, Story
from bridge.services.cards import Cards
from bridge.services.new_tasks import NewTasks
from bridge.services.people import People
from bridge.services.relay import Relay
from bridge.services.relay_posts import RelayPosts
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

BRIDGE, ANA, BO = "1", "a1", "b2"  # Asana users
SLACK_ANA, SLACK_BO = SlackUserId("U1"), SlackUserId("U2")
GID = TaskGid("500")
_keys = count()


@dataclass
class World:
    relay: Relay
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore

    def replies(self) -> list[str]:
        return [p.text for p in self.slack.posts if p.thread_ts is not None]


def raw(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Webhook retries",
        "completed": False,
        "assignee": None,
        "due_on": "2026-12-04",
        "memberships": [{"project": {"gid": PROJECT}, "section": {"gid": "s-triage", "name": "Needs triage"}}],
        "custom_fields": [],
        "projects": [{"gid": PROJECT}],
    }
    return base | fields


def world(*, tracked: bool = True, **link: Any) -> World:
    store, clock = FakeStore(), FakeClock()
    slack = FakeSlack({SLACK_ANA: Person("Ana", "ana@example.com"), SLACK_BO: Person("Bo", "bo@example.com")})
    asana = FakeAsana(
        users=[
            AsanaUser(AsanaUserGid(ANA), "Ana", "ana@example.com"),
            AsanaUser(AsanaUserGid(BO), "Bo", "bo@example.com"),
        ]
    )
    asana.add_task(GID, **raw())
    store.links[(TEAM, CHANNEL)] = a_link(**link)
    if tracked:
        store.tasks[GID] = a_tracked_task(GID, snapshot=raw(), requester=SLACK_BO)
    for slack_user, asana_user in ((SLACK_ANA, ANA), (SLACK_BO, BO)):
        store.mappings[(TEAM, slack_user)] = UserMapping(TEAM, slack_user, None, AsanaUserGid(asana_user), START)
    relay = a_relay(store, asana, slack, clock, bridge_user=BRIDGE)
    return World(relay, asana, slack, store)


def a_relay(store: FakeStore, asana: FakeAsana, slack: FakeSlack, clock: FakeClock, *, bridge_user: str) -> Relay:
    """The relay and its two helpers (what it says where, new tasks), on the fakes."""
    policy, me = Policy(), lambda: bridge_user
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    cards = Cards(links=store, captures=store, slack=slack, people=people, clock=clock, policy=policy)
    posts = RelayPosts(links=store, mappings=store, posts=store, slack=slack, people=people, clock=clock)
    return Relay(
        tasks=store,
        comments=store,
        mappings=store,
        asana=asana,
        clock=clock,
        bridge_user=me,
        policy=policy,
        cards=cards,
        posts=posts,
        new_tasks=NewTasks(
            links=store,
            tasks=store,
            asana=asana,
            clock=clock,
            bridge_user=lambda: bridge_user,
            cards=cards,
            posts=posts,
        ),
    )


def event(
    action: str = "changed", *, by: str = ANA, resource: str = GID, kind: str = "task", **payload: Any
) -> ClaimedEvent:
    body = {"user": {"gid": by}, "resource": {"gid": resource, "resource_type": kind}, "action": action, **payload}
    key = f"k{next(_keys)}"
    return ClaimedEvent(
        1, InboxEvent(key, InboxSource.WEBHOOK, PROJECT, resource, kind, action, body, START, GID), 1, START
    )


def change(w: World, **fields: Any) -> None:
    w.asana.tasks[GID].update(fields)


async def test_a_change_by_a_person_is_told_once_in_the_thread_and_kept() -> None:
    w = world()
    change(w, completed=True, completed_by={"name": "Ana"})
    burst = [event(), event()]
    await w.relay.relay_task(GID, burst)
    await w.relay.relay_task(GID, burst)  # the same burst again (a retry after a crash): not told twice
    assert w.replies() == ["✅ completed by Ana"]
    assert w.slack.posts[0].thread_ts == w.store.tasks[GID].thread_ts
    assert w.store.tasks[GID].completed
    assert [u.ts for u in w.slack.updates][-1] == w.store.tasks[GID].thread_ts  # the card says it too


async def test_the_bridges_own_changes_are_not_echoed() -> None:
    w = world()
    change(w, completed=True)
    await w.relay.relay_task(GID, [event(by=BRIDGE)])
    assert (w.asana.calls, w.slack.posts) == ([], [])


async def test_every_change_of_a_burst_goes_in_one_reply() -> None:
    w = world()
    change(w, name="Webhook retries on 5xx", assignee={"gid": BO, "name": "Bo"})
    await w.relay.relay_task(GID, [event(), event()])
    [reply] = w.replies()
    assert "<@U2>" in reply and "Webhook retries on 5xx" in reply


@pytest.mark.parametrize(
    ("link", "told"),
    [
        ({}, 1),
        ({"quiet": True}, 0),
        ({"relay_kinds": frozenset({"completed"})}, 0),
        ({"relay_kinds": frozenset({"assigned"})}, 1),
    ],
    ids=["every kind", "quiet", "another kind only", "this kind"],
)
async def test_the_channel_chooses_what_it_hears(link: dict[str, Any], told: int) -> None:
    w = world(**link)
    change(w, assignee={"gid": BO, "name": "Bo"})
    await w.relay.relay_task(GID, [event()])
    assert len(w.replies()) == told
    assert w.store.tasks[GID].snapshot["assignee"] == {"gid": BO, "name": "Bo"}  # kept either way


async def test_a_comment_in_asana_is_told_and_is_a_first_response_unless_by_the_requester() -> None:
    w = world()
    w.store.tasks[GID] = replace(w.store.tasks[GID], ack_subtask_gid=TaskGid("501"))
    w.asana.stories["s1"] = Story("s1", "Bo here: still failing", "comment_added", BO, "Bo")
    w.asana.stories["s2"] = Story("s2", "Looking into it", "comment_added", ANA, "Ana")
    await w.relay.relay_task(GID, [event("added", by=BO, resource="s1", kind="story")])
    assert w.store.tasks[GID].first_response_at is None  # the requester's own comment
    await w.relay.relay_task(GID, [event("added", by=ANA, resource="s2", kind="story")])
    assert len(w.replies()) == 2 and "Looking into it" in w.replies()[1]
    assert w.store.tasks[GID].first_response_at == START
    assert ("update_task", "501", {"completed": True}) in w.asana.writes()


async def test_a_comment_the_bridge_wrote_from_slack_is_not_told_back() -> None:
    w = world()
    w.store.comment_links[(TEAM, CHANNEL, MessageTs("1.1"))] = CommentLink(
        TEAM, CHANNEL, MessageTs("1.1"), GID, "s1", START
    )
    await w.relay.relay_task(GID, [event("added", by=ANA, resource="s1", kind="story")])
    assert (w.asana.calls, w.slack.posts) == ([], [])


async def test_a_task_deleted_in_asana_is_told() -> None:
    w = world()
    del w.asana.tasks[GID]
    await w.relay.relay_task(GID, [event("deleted")])
    [reply] = w.replies()
    assert "deleted" in reply


@pytest.mark.parametrize(
    ("link", "posted"), [({}, True), ({"quiet": True}, False)], ids=["linked project", "quiet channel"]
)
async def test_a_task_made_in_asana_in_a_linked_project_gets_a_thread_of_its_own(
    link: dict[str, Any], posted: bool
) -> None:
    w = world(tracked=False, **link)
    added = event("added", parent={"gid": PROJECT, "resource_type": "project"})
    await w.relay.relay_task(GID, [added])
    assert [p.thread_ts for p in w.slack.posts] == ([None] if posted else [])
    assert (GID in w.store.tasks) is posted
    if posted:
        assert w.store.tasks[GID].thread_ts == w.slack.posts[0].ts


async def test_a_task_made_by_the_bridge_itself_is_left_to_the_capture() -> None:
    w = world(tracked=False)
    change(w, followers=[{"gid": BRIDGE}])
    await w.relay.relay_task(GID, [event("added", by="", parent={"gid": PROJECT, "resource_type": "project"})])
    assert w.slack.posts == []


async def test_who_asked_for_a_dm_hears_of_work_assigned_to_them() -> None:
    w = world()
    w.store.dm_subscribers[(TEAM, AsanaUserGid(BO))] = [SLACK_BO]
    change(w, assignee={"gid": BO, "name": "Bo"})
    await w.relay.relay_task(GID, [event()])
    dms = [p for p in w.slack.posts if p.channel == SLACK_BO]
    assert len(dms) == 1 and dms[0].thread_ts is None
    change(w, assignee={"gid": ANA, "name": "Ana"})
    await w.relay.relay_task(GID, [event(by=BO)])
    assert len([p for p in w.slack.posts if p.channel == SLACK_BO]) == 1  # Ana has no DMs; Bo's came once
