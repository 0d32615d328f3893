"""Each piece of work names the Slack workspace it acts for (SlackTeams.for_team), nothing ambient: a relay or a nag
for a link of workspace B posts as B while a post of workspace A is still on its way. The two-workspace install end
to end is tests/integration/test_oauth_install.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.domain.model import (
    AsanaUserGid,
    ChannelId,
    ClaimedEvent,
    InboxEvent,
    InboxSource,
    MessageTs,
    ProjectGid,
    TaskGid,
    TeamId,
)
from bridge.domain.policy import Policy
from bridge.domain.work import AsanaUser
from bridge.services.nag_assembly import nagger_for
from bridge.services.outbox import Outbox
from tests.unit.fakes import START, FakeAsana, FakeClock, FakeSlack, FakeStore, a_link, a_tracked_task
from tests.unit.test_relay_service import a_relay

TEAM_A, TEAM_B = TeamId("T0ACME"), TeamId("T0GLOBEX")
CHANNEL_A, CHANNEL_B = ChannelId("C0ACME"), ChannelId("C0GLOBEX")
PROJECT_A, PROJECT_B = ProjectGid("100"), ProjectGid("200")
TASK_A, TASK_B = TaskGid("500"), TaskGid("600")


class HeldSlack(FakeSlack):
    """Workspace A's posts wait for `release`: whatever A does stays in flight meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = asyncio.Event(), asyncio.Event()

    async def post_message(self, channel: str, text: str, **options: Any) -> MessageTs:
        if self.team == TEAM_A:
            self.holding.set()
            await self.release.wait()
        return await super().post_message(channel, text, **options)


@dataclass
class World:
    slack: HeldSlack
    asana: FakeAsana
    store: FakeStore
    clock: FakeClock

    async def a_post_for_workspace_a(self) -> MessageTs:
        """What a capture of workspace A does last: post its task's thread (held, see HeldSlack)."""
        outbox = Outbox(store=self.store, slack=self.slack, clock=self.clock)
        return await outbox.post_once(
            key="thread:a", team_id=TEAM_A, channel=CHANNEL_A, thread_ts=None, text="for A", blocks=[]
        )


def world() -> World:
    store, clock, slack = FakeStore(), FakeClock(), HeldSlack()
    asana = FakeAsana(users=[AsanaUser(AsanaUserGid("a1"), "Ana", "ana@example.com")])
    for team, channel, project, gid in ((TEAM_A, CHANNEL_A, PROJECT_A, TASK_A), (TEAM_B, CHANNEL_B, PROJECT_B, TASK_B)):
        store.links[(team, channel)] = a_link(team_id=team, channel_id=channel, project_gid=project)
        fields = {"completed": False, "due_on": START.date().isoformat(), "memberships": [], "custom_fields": []}
        asana.add_task(gid, name="Webhook retries", projects=[{"gid": project}], **fields)
        store.tasks[gid] = a_tracked_task(
            gid, team_id=team, channel_id=channel, project_gid=project, snapshot=fields, created_at=START
        )
    return World(slack, asana, store, clock)


async def test_a_relay_for_workspace_b_posts_as_b_while_a_post_of_workspace_a_is_in_flight() -> None:
    w = world()
    in_flight = asyncio.create_task(w.a_post_for_workspace_a())
    await w.slack.holding.wait()
    relay = a_relay(w.store, w.asana, w.slack, w.clock, bridge_user="1")
    w.asana.tasks[TASK_B].update(completed=True, completed_by={"name": "Ana"})
    body = {"user": {"gid": "a1"}, "resource": {"gid": TASK_B, "resource_type": "task"}, "action": "changed"}
    event = InboxEvent("k1", InboxSource.WEBHOOK, PROJECT_B, TASK_B, "task", "changed", body, START, TASK_B)
    # Posted as A, it would wait for A's release: the timeout turns that into a failure.
    await asyncio.wait_for(relay.relay_task(TASK_B, [ClaimedEvent(1, event, 1, START)]), timeout=5)

    assert [(p.channel, p.text, p.team) for p in w.slack.posts] == [(CHANNEL_B, "✅ completed by Ana", TEAM_B)]
    assert set(w.slack.teams("update_message")) == {TEAM_B}  # its card, redrawn
    assert not in_flight.done()
    w.slack.release.set()
    await in_flight
    assert [(p.channel, p.team) for p in w.slack.posts][-1] == (CHANNEL_A, TEAM_A)


async def test_a_nag_for_workspace_b_posts_as_b_while_a_post_of_workspace_a_is_in_flight() -> None:
    w = world()
    w.store.tasks[TASK_A] = a_tracked_task(TASK_A, team_id=TEAM_A, completed=True)  # nothing to nag in A
    in_flight = asyncio.create_task(w.a_post_for_workspace_a())
    await w.slack.holding.wait()
    w.clock.advance(timedelta(hours=1))
    nagger = nagger_for(w.store, asana=w.asana, slack=w.slack, clock=w.clock, policy=Policy())

    assert await asyncio.wait_for(nagger.tick(), timeout=5) == 1  # posted as A, it would wait (see HeldSlack)
    [nag] = w.slack.posts
    assert (nag.channel, nag.thread_ts, nag.team) == (CHANNEL_B, w.store.tasks[TASK_B].thread_ts, TEAM_B)
    assert not in_flight.done()
    w.slack.release.set()
    await in_flight
    assert w.slack.posts[-1].team == TEAM_A
