"""The outbox on fakes: a post is sent once, a send cut off after Slack took it is found instead of sent again, and
a post another replica is sending is left to it while that replica lives. tests/integration/test_outbox_faults.py
keeps Slack's failures end to end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bridge.domain.model import Holder, MessageTs, OutboxPost, OutboxState
from bridge.errors import SlackError
from bridge.services.outbox import POST_EVENT_TYPE, Outbox, PostInFlight
from tests.unit.fakes import CHANNEL, START, TEAM, FakeClock, FakeSlack, FakeStore

THREAD = MessageTs("1600000000.000100")
ME = Holder("replica-a", alive_within=timedelta(seconds=6))


@dataclass
class World:
    outbox: Outbox
    slack: FakeSlack
    store: FakeStore
    clock: FakeClock

    async def post(self, key: str = "k1", thread: MessageTs | None = THREAD) -> MessageTs:
        return await self.outbox.post_once(
            key=key, team_id=TEAM, channel=CHANNEL, thread_ts=thread, text="✅ completed by Ana", blocks=[]
        )


def world(holder: Holder | None = ME) -> World:
    store, slack, clock = FakeStore(), FakeSlack(), FakeClock()
    return World(Outbox(store=store, slack=slack, clock=clock, holder=holder), slack, store, clock)


def recorded(sender: str | None, *, ago: timedelta = timedelta(0)) -> OutboxPost:
    """A post an earlier attempt recorded and never marked sent."""
    return OutboxPost("k1", TEAM, CHANNEL, THREAD, {"text": "…"}, OutboxState.PENDING, START - ago, sender=sender)


async def test_a_post_is_sent_once_and_carries_its_key() -> None:
    w = world()
    first = await w.post()
    assert await w.post() == first
    [post] = w.slack.posts
    assert post.metadata == {"event_type": POST_EVENT_TYPE, "event_payload": {"key": "k1"}}
    assert w.store.outbox["k1"].state is OutboxState.SENT and w.store.outbox["k1"].message_ts == first


@pytest.mark.parametrize("thread", [THREAD, None], ids=["in a thread", "top-level"])
async def test_a_send_slack_took_before_a_crash_is_found_not_sent_again(thread: MessageTs | None) -> None:
    w = world()
    w.store.outbox["k1"] = recorded("replica-dead", ago=timedelta(minutes=5))
    earlier = await w.slack.post_message(
        CHANNEL, "…", thread_ts=thread, metadata={"event_type": POST_EVENT_TYPE, "event_payload": {"key": "k1"}}
    )
    assert await w.post(thread=thread) == earlier
    assert len(w.slack.posts) == 1 and w.store.outbox["k1"].message_ts == earlier


@pytest.mark.parametrize(
    ("sender", "alive", "sent"),
    [
        ("replica-b", True, False),  # another replica is sending it right now
        ("replica-b", False, True),  # that replica died: take it over at once
        ("replica-a", False, True),  # this replica's own attempt that failed
    ],
    ids=["alive replica's", "dead replica's", "our own failed attempt"],
)
async def test_a_recorded_post_is_taken_over_only_from_a_replica_that_is_gone(
    sender: str, alive: bool, sent: bool
) -> None:
    w = world()
    w.store.outbox["k1"] = recorded(sender)
    if alive:
        w.store.alive.add(sender)
    if sent:
        await w.post()
        assert w.store.outbox["k1"].sender == "replica-a"
    else:
        with pytest.raises(PostInFlight):
            await w.post()
    assert len(w.slack.posts) == int(sent)


async def test_without_holders_a_recorded_post_waits_out_its_time_in_flight() -> None:
    w = world(holder=None)
    w.store.outbox["k1"] = recorded(None)
    with pytest.raises(PostInFlight):
        await w.post()
    w.clock.advance(timedelta(minutes=2))
    await w.post()
    assert len(w.slack.posts) == 1


async def test_a_failed_send_stays_recorded_for_the_next_attempt() -> None:
    w = world()
    w.slack.failures.append(SlackError("chat.postMessage: channel_not_found", code="channel_not_found"))
    with pytest.raises(SlackError):
        await w.post()
    assert w.store.outbox["k1"].state is OutboxState.PENDING and w.slack.posts == []
    await w.post()  # our own failed attempt: sent now
    assert len(w.slack.posts) == 1
