"""Relay end to end (DESIGN §2.2): Asana changes land once in their Slack thread, with no echoes."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.domain.model import ChannelId, MessageTs, ProjectGid, TaskGid, TeamId
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import eventually

POLICY = """
[sla]
P1 = { first_response = "4h", resolution = "2d" }
"""


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


async def _task(running: Running, title: str = "Relay me") -> tuple[Any, str]:
    """Link the channel and create a task with /task; returns the emulator's task and its thread ts."""
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await ana.slash_command("/task", title, world.channel)
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == title]))[0]
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    await world.asana.deliveries_idle(timeout=10)
    return task, tracked.thread_ts


def _replies(running: Running, thread_ts: str) -> list[Any]:
    world = running.world
    return [m for m in world.slack.thread(world.channel, thread_ts) if m.ts != thread_ts and m.bot_id]


def _at(running: Running, name: str) -> str:
    """How the bridge names someone who is in Slack: an @mention."""
    return f"<@{running.world.slack_people[name]}>"


def _texts(running: Running, thread_ts: str) -> str:
    return "\n".join(m.text for m in _replies(running, thread_ts))


async def test_completion_is_told_once_and_the_root_message_is_updated(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    before = len(_replies(running, thread))
    world.asana.act(world.asana_people["bo"]).complete(task.gid)
    await eventually(lambda: f"✅ completed by {_at(running, 'bo')}" in _texts(running, thread))
    root = next(m for m in world.slack.messages(world.channel) if m.ts == thread)
    await eventually(lambda: "✅" in str(root.blocks) and "~" in str(root.blocks))
    assert "Requested by" in str(root.blocks)  # completing keeps what the post said about the task
    await running.bridge.poller.poll_project(
        ProjectGid(world.project)
    )  # the same change read again from the Events API
    await world.asana.deliveries_idle(timeout=10)
    completions = [m for m in _replies(running, thread)[before:] if "completed" in m.text]
    assert len(completions) == 1


async def test_assignee_due_pushes_and_comments(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    bo = world.asana.act(world.asana_people["bo"])
    bo.assign(task.gid, world.asana_people["ana"])
    await eventually(lambda: f"👤 assigned to {_at(running, 'ana')}" in _texts(running, thread))
    bo.set_due(task.gid, "2026-12-02")
    await eventually(lambda: "📅 due set to Wed 02 Dec" in _texts(running, thread))
    bo.set_due(task.gid, "2026-12-04")
    await eventually(lambda: "1st push" in _texts(running, thread))
    bo.set_due(task.gid, "2026-12-09")
    await eventually(lambda: "📅 due moved to Wed 09 Dec (was Fri 04 Dec; 2nd push)" in _texts(running, thread))
    bo.comment(task.gid, "Looking into it <now>")
    await eventually(lambda: f"💬 {_at(running, 'bo')}: Looking into it &lt;now&gt;" in _texts(running, thread))


async def test_an_asana_comment_by_someone_else_acknowledges(running: Running) -> None:
    world = running.world
    task, _ = await _task(running)
    ack = (await eventually(lambda: [t for t in running.asana_tasks() if t.parent == task.gid]))[0]
    world.asana.act(world.asana_people["cy"]).comment(task.gid, "On it")
    await eventually(lambda: world.asana.store.tasks[ack.gid].completed)
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task.gid))
    assert tracked is not None and tracked.first_response_at is not None


async def test_the_bridges_own_changes_are_not_echoed(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    ana = running.user("ana")
    await ana.post_message(world.channel, "A reply that becomes a comment", thread_ts=thread)
    await eventually(
        lambda: [s for s in world.asana.store.stories.values() if s.task == task.gid and s.kind == "comment"]
    )
    await world.asana.deliveries_idle(timeout=10)
    world.asana.act(world.asana_people["bo"]).rename(task.gid, "Barrier")
    await eventually(lambda: "renamed" in _texts(running, thread))
    texts = _texts(running, thread)
    assert "A reply that becomes a comment" not in texts  # the bridge's comment did not come back
    assert "Acknowledge" not in texts and "🆕" not in texts  # nor did its subtask or its task creation


async def test_a_burst_of_twenty_changes_makes_at_most_three_posts(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    before = len(_replies(running, thread))
    bo = world.asana.act(world.asana_people["bo"])
    for index in range(20):
        bo.rename(task.gid, f"Name {index}")
    await eventually(lambda: "Name 19" in _texts(running, thread))
    await world.asana.deliveries_idle(timeout=10)
    assert len(_replies(running, thread)) - before <= 3


async def test_a_task_created_in_asana_gets_its_own_thread(running: Running) -> None:
    world = running.world
    await _task(running)
    bo = world.asana.act(world.asana_people["bo"])
    created = bo.create_task("Born in Asana", project=world.project)
    post = (await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Born in Asana" in m.text]))[0]
    assert post.thread_ts is None
    bo.complete(created)
    await eventually(lambda: "✅ completed" in _texts(running, post.ts))
    assert len([m for m in world.slack.messages(world.channel) if "Born in Asana" in m.text]) == 1


async def test_deletion_is_told(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    world.asana.act(world.asana_people["bo"]).delete_task(task.gid)
    await eventually(lambda: "deleted in Asana" in _texts(running, thread))


async def test_a_lost_delivery_is_filled_by_the_events_api_and_a_recrawl(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    await running.bridge.poller.poll_project(ProjectGid(world.project))  # the poller holds a sync token for the project
    world.asana.drop_deliveries(10)  # Asana's webhooks are at-most-once: these changes never arrive by webhook
    world.asana.expire_sync_tokens()  # and the poller's token is gone too (a long outage)
    world.asana.act(world.asana_people["bo"]).complete(task.gid)
    await running.bridge.poller.poll_project(ProjectGid(world.project))
    await eventually(lambda: f"✅ completed by {_at(running, 'bo')}" in _texts(running, thread))


async def test_noise_control_kinds_and_quiet_mode(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    ana = running.user("ana")
    ack = await ana.slash_command("/asana", "relay comments", world.channel)
    assert "Told in task threads: comments." in ack.body
    bo = world.asana.act(world.asana_people["bo"])
    bo.set_due(task.gid, "2026-12-02")
    bo.comment(task.gid, "Only this is told")
    await eventually(lambda: "Only this is told" in _texts(running, thread))
    assert "📅" not in _texts(running, thread)

    ack = await ana.slash_command("/asana", "relay quiet", world.channel)
    assert "Quiet" in ack.body
    before = len(_replies(running, thread))
    bo.complete(task.gid)
    root = next(m for m in world.slack.messages(world.channel) if m.ts == thread)
    await eventually(lambda: "✅" in str(root.blocks))  # the root message still follows
    bo.create_task("Quietly made in Asana", project=world.project)
    bo.comment(task.gid, "Not told either")
    await world.asana.deliveries_idle(timeout=10)
    barrier = await ana.slash_command("/asana", "relay", world.channel)
    assert "Quiet" in barrier.body
    await eventually(lambda: _settled(running))
    assert len(_replies(running, thread)) == before
    assert not [m for m in world.slack.messages(world.channel) if "Quietly made" in m.text]

    ack = await ana.slash_command("/asana", "relay nonsense", world.channel)
    assert "completed, assigned" in ack.body


async def _settled(running: Running) -> bool:
    counts = await running.bridge.store.inbox_counts()
    return counts.get("pending", 0) == counts.get("landed", 0) == 0 and counts.get("done", 0) > 0


async def test_priority_changes_are_told(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    bo = world.asana.act(world.asana_people["bo"])
    bo.set_enum(task.gid, world.priority_field, world.asana.option_gid(world.priority_field, "P0"))
    await eventually(lambda: "🚩 priority P0" in _texts(running, thread))
    bo.set_enum(task.gid, world.priority_field, world.asana.option_gid(world.priority_field, "P2"))
    await eventually(lambda: "🚩 priority P2 (was P0)" in _texts(running, thread))


async def test_subtasks_are_told_in_their_parents_thread(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    bo = world.asana.act(world.asana_people["bo"])
    subtask = bo.add_subtask(task.gid, "Write the docs", assignee=world.asana_people["cy"])
    await eventually(lambda: f"➕ subtask “Write the docs” added for {_at(running, 'cy')}" in _texts(running, thread))
    bo.comment(subtask, "Half done")
    bo_at = _at(running, "bo")
    await eventually(lambda: f"↳ subtask “Write the docs”: 💬 {bo_at}: Half done" in _texts(running, thread))
    bo.complete(subtask)
    await eventually(lambda: f"↳ subtask “Write the docs”: ✅ completed by {bo_at}" in _texts(running, thread))
    root = next(m for m in world.slack.messages(world.channel) if m.ts == thread)
    assert "~" not in str(root.blocks)  # the parent is still open: its root message says so
    bo.delete_task(subtask)
    await eventually(lambda: "↳ subtask “Write the docs”: 🗑️" in _texts(running, thread))
    assert [m.text for m in world.slack.messages(world.channel) if "Write the docs" in m.text] == []  # no own post
    # Slack replies in the thread still become comments on the parent, not on the subtask.
    tracked = await running.bridge.store.tracked_task_by_thread(
        TeamId(world.slack.team.team_id), ChannelId(world.channel), MessageTs(thread)
    )
    assert tracked is not None and tracked.task_gid == task.gid


async def test_the_snapshot_reconcile_catches_what_every_other_source_missed(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    since = world.asana.store.tasks[task.gid].created_at
    # Only the bridge's own changes (its subtask, followers) moved the task since: nothing to catch up on.
    assert await running.bridge.poller.reconcile_project(ProjectGid(world.project), since) == 0
    world.asana.drop_deliveries(10)
    world.asana.act(world.asana_people["bo"]).complete(task.gid)
    assert await running.bridge.poller.reconcile_project(ProjectGid(world.project), since) == 1
    await eventually(lambda: f"✅ completed by {_at(running, 'bo')}" in _texts(running, thread))


async def test_a_change_costs_one_read_of_its_task_and_none_of_asanas_own_stories(running: Running) -> None:
    world = running.world
    task, thread = await _task(running)
    mark = len(world.asana.requests)
    bo = world.asana.act(world.asana_people["bo"])
    bo.complete(task.gid)  # Asana also writes a "marked complete" story: an event the relay need not read
    await eventually(lambda: "✅ completed" in _texts(running, thread))
    await world.asana.deliveries_idle(timeout=10)
    # (the poller's /events and the snapshot reconcile's /tasks listing run on their own cadence meanwhile)
    reads = [r.path for r in world.asana.requests[mark:] if r.method == "GET" and r.path not in ("/events", "/tasks")]
    # and Bo's Asana user, once, to find them in Slack so the line @mentions them.
    assert reads == [f"/tasks/{task.gid}", f"/users/{world.asana_people['bo']}"]
    bo.comment(task.gid, "Comments are read, though")
    await eventually(lambda: "Comments are read, though" in _texts(running, thread))


async def test_a_recrawl_starts_threads_for_tasks_people_made_not_for_the_bridges_own(running: Running) -> None:
    world = running.world
    await _task(running)
    await running.bridge.poller.poll_project(ProjectGid(world.project))  # the poller holds a sync token for the project
    world.asana.drop_deliveries(10)
    world.asana.expire_sync_tokens()  # the re-crawl's events name no user: who made a task must be found otherwise
    world.asana.act(world.bridge_user).create_task("Being captured right now", project=world.project)
    world.asana.act(world.asana_people["bo"]).create_task("Made by Bo during the outage", project=world.project)
    await running.bridge.poller.poll_project(ProjectGid(world.project))
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Made by Bo" in m.text])
    await eventually(lambda: _settled(running))
    assert not [m for m in world.slack.messages(world.channel) if "Being captured" in m.text]


async def test_changing_how_the_channel_works_is_announced_with_the_command_that_undoes_it(running: Running) -> None:
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)

    def announced(words: str) -> list[str]:
        return [m.text for m in world.slack.messages(world.channel) if m.bot_id and words in m.text]

    await ana.slash_command("/asana", "capture all", world.channel)
    [said] = await eventually(lambda: announced("To undo: `/asana capture off`"))
    assert said.startswith(f"⚙️ {_at(running, 'ana')} changed") and "Every new message" in said
    await ana.slash_command("/asana", "relay comments due", world.channel)
    [said] = await eventually(lambda: announced("To undo: `/asana relay all`"))
    assert "Told in task threads: comments, due." in said
    await ana.slash_command("/asana", "relay quiet", world.channel)
    await eventually(lambda: announced("To undo: `/asana relay comments due`"))
    await ana.slash_command("/asana", "relay quiet", world.channel)  # no change: nothing to tell anyone
    await ana.slash_command("/asana", "capture all", world.channel)
    await eventually(lambda: running.bridge.background.pending == 0)
    assert len([m for m in world.slack.messages(world.channel) if m.bot_id and "⚙️" in m.text]) == 3
