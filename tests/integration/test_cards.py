"""One live card per task (issue #17): drawn from the task's state after an Asana change, a button on the card, or
a nag's; for a captured message it is the bridge's own first reply in the thread, and a person's message is never
edited."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bridge import wording
from bridge.domain.model import TaskGid, TrackedTask
from bridge.sandbox.slack.models import Message
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import ALWAYS_OPEN, eventually

POLICY = (
    ALWAYS_OPEN
    + """
[sla]
P1 = { first_response = "4h", resolution = "2d" }

[capture]
acknowledge = true
"""
)


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


def _card(running: Running, tracked: TrackedTask) -> Message:
    """The card as it is now (a copy: clicking it is clicking what people see)."""
    world = running.world
    found = running.slack.workspace.channel(world.channel).find(tracked.snapshot["_bridge_card_ts"])
    assert found is not None
    return copy.deepcopy(found)


def _says(running: Running, tracked: TrackedTask) -> str:
    card = _card(running, tracked)
    assert card.blocks is not None
    return str(card.blocks[0]["text"]["text"])


def _at(running: Running, name: str) -> str:
    return f"<@{running.world.slack_people[name]}>"


async def test_the_card_is_drawn_again_after_an_asana_change_and_after_its_own_buttons(running: Running) -> None:
    world = running.world
    tracked = await running.slash_task("Rotate the signing keys p1", by="ana", title="Rotate the signing keys")
    assert tracked.snapshot["_bridge_card_ts"] == tracked.thread_ts  # /task: the card is the thread's root
    said = _says(running, tracked)
    assert "Priority: P1" in said and f"Requested by {_at(running, 'ana')}" in said and "SLA: first response" in said
    assert "Unassigned" in said

    # Changed in Asana: the card names the new assignee with an @mention, and keeps the priority.
    world.asana.act(world.asana_people["cy"]).assign(tracked.task_gid, world.asana_people["bo"])
    await eventually(lambda: f"Assignee: {_at(running, 'bo')}" in _says(running, tracked))
    assert "Priority: P1" in _says(running, tracked)

    # Push due from the card's menu: the card shows the new due date.
    before = world.asana.store.tasks[tracked.task_gid].due_on
    assert before is not None
    await running.user("ana").choose_overflow(_card(running, tracked), wording.NAG_MORE, wording.NAG_MORE_PUSH)
    await eventually(lambda: world.asana.store.tasks[tracked.task_gid].due_on != before)
    after = world.asana.store.tasks[tracked.task_gid].due_on
    assert after is not None
    await eventually(lambda: f"due in {(after - _today(running)).days} days" in _says(running, tracked))
    # Reassign from the card, then Assign to me: each time the card and the thread say who.
    await running.user("ana").select_user(_card(running, tracked), wording.NAG_REASSIGN, world.slack_people["cy"])
    await eventually(lambda: f"Assignee: {_at(running, 'cy')}" in _says(running, tracked))
    await running.user("bo").click_button(_card(running, tracked), wording.NAG_ASSIGN_ME)
    await eventually(lambda: f"Assignee: {_at(running, 'bo')}" in _says(running, tracked))
    thread = [m.text for m in world.slack.thread(world.channel, tracked.thread_ts)[1:]]
    assert any(f"Reassigned to {_at(running, 'cy')} by {_at(running, 'ana')}" in t for t in thread)
    assert any(f"Reassigned to {_at(running, 'bo')} by {_at(running, 'bo')}" in t for t in thread)
    assert world.asana.store.tasks[tracked.task_gid].assignee == world.asana_people["bo"]

    # Done from the card: struck through, no buttons left.
    await running.user("bo").click_button(_card(running, tracked), wording.NAG_DONE)
    await eventually(lambda: _says(running, tracked).startswith("✅ ~"))
    assert not [b for b in _card(running, tracked).blocks or [] if b["type"] == "actions"]


def _today(running: Running) -> Any:
    return running.bridge.clock.now().date()


async def test_a_captured_message_gets_the_bridges_reply_as_its_card_and_is_never_edited(running: Running) -> None:
    world = running.world
    ana, bo = running.user("ana"), running.user("bo")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await ana.slash_command("/asana", "capture reaction", world.channel)
    await ana.slash_command("/asana", "relay quiet", world.channel)
    question = await bo.post_message(world.channel, "Why do webhooks stop after a day?")
    assert question.ts is not None
    await ana.add_reaction(world.channel, question.ts, "ticket")
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name.startswith("Why do webhooks")]))[0]

    async def tracked_now() -> TrackedTask | None:
        return await running.bridge.store.get_tracked_task(TaskGid(task.gid))

    tracked = await eventually(tracked_now)
    assert tracked.thread_ts == question.ts and tracked.snapshot["_bridge_card_ts"] != question.ts
    card = _card(running, tracked)
    assert card.thread_ts == question.ts and card.bot_id
    assert wording.CARD_THREAD_NOTE in str(card.blocks)

    # Quiet: nothing is said in the thread, but the completion still shows, on the card.
    world.asana.act(world.asana_people["cy"]).complete(task.gid)
    await eventually(lambda: _says(running, tracked).startswith("✅ ~"))
    await world.asana.deliveries_idle(timeout=10)
    assert all(c.params.get("ts") != question.ts for c in world.slack.calls_to("chat.update"))
    assert [c for c in world.slack.calls_to("chat.update") if c.response.get("error")] == []
