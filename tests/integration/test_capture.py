"""Capture end to end (DESIGN §2.1): auto-capture, reactions, the message shortcut, acknowledgement, thread →
comments, combined projects, outages. Real HTTP, the real clients, both emulators; Asana traffic spec-checked."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from bridge.domain.model import ChannelId, TaskGid, TeamId
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import eventually

POLICY = """
[sla]
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }

[triage]
triager = "cy@example.com"
"""


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


async def _link(running: Running, mode: str | None = None) -> None:
    await running.link(mode)


def _tasks(running: Running, name: str | None = None) -> list[Any]:
    return [t for t in running.asana_tasks() if t.parent is None and (name is None or t.name == name)]


def _subtasks(running: Running, parent: str) -> list[Any]:
    return [t for t in running.asana_tasks() if t.parent == parent]


def _comments(running: Running, task_gid: str) -> list[Any]:
    store = running.world.asana.store
    return [s for s in store.stories.values() if s.task == task_gid and s.kind == "comment"]


async def test_auto_capture_makes_exactly_one_task_per_question(running: Running) -> None:
    world = running.world
    await _link(running, "all")
    bo = running.user("bo")
    question = await bo.post_message(
        world.channel, "How do I verify webhook signatures?\nI hash the JSON & it fails <3"
    )
    assert question.ts is not None
    task = (await eventually(lambda: _tasks(running)))[0]
    assert task.name == "How do I verify webhook signatures?"
    assert "I hash the JSON & it fails <3" in task.notes and "From Slack: https://" in task.notes
    assert task.section_in(world.project) == world.asana.section_gid(world.project, "Needs triage")
    assert {world.asana_people["bo"], world.asana_people["cy"]} <= set(task.followers)  # requester and triager
    assert [s.name for s in await eventually(lambda: _subtasks(running, task.gid))] == ["Acknowledge"]
    reply = await eventually(partial(running.bot_replies, question.ts))
    assert task.gid in str(reply[0].blocks) or "tracked in Asana" in reply[0].text.lower() + str(reply[0].blocks)

    await running.slack.retry(question)  # Slack re-sends the event: no second task
    await bo.post_message(world.channel, "A second question")
    await eventually(lambda: len(_tasks(running)) == 2)
    assert len(_tasks(running, "How do I verify webhook signatures?")) == 1


async def test_what_is_not_a_question_is_not_captured(running: Running) -> None:
    world = running.world
    await _link(running, "all")
    bo = running.user("bo")
    first = await bo.post_message(world.channel, "Real question")
    assert first.ts is not None
    task = (await eventually(lambda: _tasks(running)))[0]
    await bo.post_message(world.channel, "a reply in the thread", thread_ts=first.ts)
    await bo.edit_message(world.channel, first.ts, "Real question (edited)")
    await eventually(lambda: _comments(running, task.gid))
    await bo.post_message(world.channel, "Barrier question")
    await eventually(lambda: _tasks(running, "Barrier question"))
    assert sorted(t.name for t in _tasks(running)) == ["Barrier question", "Real question"]


async def test_thread_replies_become_comments_and_the_first_answer_acknowledges(running: Running) -> None:
    world = running.world
    await _link(running, "all")
    bo, ana = running.user("bo"), running.user("ana")
    question = await bo.post_message(world.channel, "Is the Events API rate limited?")
    assert question.ts is not None
    task = (await eventually(lambda: _tasks(running)))[0]
    ack_task = (await eventually(lambda: _subtasks(running, task.gid)))[0]

    await bo.post_message(world.channel, "Any news?", thread_ts=question.ts)  # the requester: no acknowledgement
    await eventually(lambda: _comments(running, task.gid))
    assert not world.asana.store.tasks[ack_task.gid].completed

    mention = running.slack.mention("bo")
    answer = await ana.post_message(
        world.channel, f"Yes {mention}, see <https://developers.asana.com|the docs>", thread_ts=question.ts
    )
    assert answer.ts is not None
    await eventually(lambda: len(_comments(running, task.gid)) == 2)
    comments = _comments(running, task.gid)
    assert comments[1].text == "ana (in Slack): Yes @bo, see the docs (https://developers.asana.com)"
    await eventually(lambda: world.asana.store.tasks[ack_task.gid].completed)
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task.gid))
    assert tracked is not None and tracked.first_response_at is not None and tracked.first_responder == ana.id

    await ana.edit_message(world.channel, answer.ts, "Yes, 1,500 a minute on paid plans")
    await eventually(lambda: _comments(running, task.gid)[1].text.endswith("1,500 a minute on paid plans"))
    await ana.delete_message(world.channel, answer.ts)
    await eventually(lambda: len(_comments(running, task.gid)) == 1)


async def test_reaction_capture_happens_once_however_many_react(running: Running) -> None:
    world = running.world
    await _link(running, "reaction")
    bo, ana, cy = running.user("bo"), running.user("ana"), running.user("cy")
    message = await bo.post_message(world.channel, "Please add OAuth scopes to the docs")
    assert message.ts is not None
    plain = await bo.post_message(world.channel, "Not a task")
    await ana.add_reaction(world.channel, message.ts, "ticket")
    await cy.add_reaction(world.channel, message.ts, "ticket")
    assert plain.ts is not None
    await ana.add_reaction(world.channel, plain.ts, "thumbsup")
    task = (await eventually(lambda: _tasks(running)))[0]
    assert task.name == "Please add OAuth scopes to the docs"
    assert world.asana_people["bo"] in task.followers  # the author asked, whoever reacted
    await bo.post_message(world.channel, "Barrier")
    second = await bo.post_message(world.channel, "Second")
    assert second.ts is not None
    await ana.add_reaction(world.channel, second.ts, "ticket")
    await eventually(lambda: _tasks(running, "Second"))
    assert len(_tasks(running)) == 2


async def test_message_shortcut_opens_a_prefilled_modal_and_creates_the_task(running: Running) -> None:
    world = running.world
    await _link(running)
    bo, ana = running.user("bo"), running.user("ana")
    message = await bo.post_message(world.channel, "Webhooks stopped arriving\nSince 9:00, project 123")
    assert message.ts is not None
    ack = await ana.message_shortcut("create_task", world.channel, message.ts)
    assert ack.status == 200
    view = (await eventually(lambda: world.slack.open_views("ana")))[-1]
    rendered = str(view.to_json() if hasattr(view, "to_json") else view)
    assert "Webhooks stopped arriving" in rendered and "Since 9:00, project 123" in rendered

    errors = await ana.submit_view(view, {"title": "   "})
    assert errors.status == 200 and "errors" in errors.body and "title" in errors.body
    assert not _tasks(running)

    done = await ana.submit_view(
        view, {"title": "Webhooks stopped", "due": "2026-12-31", "priority": "P1", "assignee": bo.id}
    )
    assert done.status == 200
    task = (await eventually(lambda: _tasks(running)))[0]
    assert task.name == "Webhooks stopped" and str(task.due_on) == "2026-12-31"
    assert task.assignee == world.asana_people["bo"]
    assert "From Slack: https://" in task.notes
    assert task.custom_values[world.priority_field] == world.asana.option_gid(world.priority_field, "P1")
    await eventually(partial(running.bot_replies, message.ts))


async def test_capture_waits_out_an_asana_outage_and_says_so(running: Running) -> None:
    world = running.world
    await _link(running)
    world.asana.faults.add(method="POST", path_pattern=r"^/tasks$", status=503, times=2)
    await running.user("ana").slash_command("/task", "Survive the outage", world.channel)
    await eventually(lambda: _tasks(running, "Survive the outage"))
    # The "keep trying" answer becomes the confirmation once the task lands.
    landed = await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "Created in Asana" in e.text])
    assert "Survive the outage" in landed[0].text and "task_undo" in str(landed[0].blocks)
    assert not [e for e in world.slack.ephemerals("ana") if "keep trying" in e.text]
    assert len(_tasks(running, "Survive the outage")) == 1


async def test_linking_another_project_asks_first(running: Running) -> None:
    world = running.world
    await _link(running)
    other = world.asana.add_project(world.workspace, "Other", ("Needs triage",), members=[world.bridge_user])
    ana = running.user("ana")
    ack = await ana.slash_command("/asana", f"link {other}", world.channel)
    assert "Replace" in ack.body
    prompt = (await eventually(lambda: [e for e in world.slack.ephemerals("ana") if e.blocks]))[-1]
    await ana.click_button(prompt, "link_replace_confirm")
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "*Other*" in m.text])
    link = await running.bridge.store.get_link(TeamId(world.slack.team.team_id), ChannelId(world.channel))
    assert link is not None and link.project_gid == other
