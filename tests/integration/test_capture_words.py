"""Capture keeps people's words (issue 16), through the running bridge: titles as typed, Slack markup readable on
every path, rich descriptions with the way back to Slack, /task's private confirmation and Undo, a priority that
triages, and captures that go on when Slack cannot look someone up or an answer cannot be delivered."""

from __future__ import annotations

import copy
import json
import re
from functools import partial
from typing import Any

import pytest

from bridge.domain.model import TaskGid
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.fixtures_slack import sample
from tests.support import eventually


@pytest.fixture
def policy(world: World) -> str:
    return '[sla]\nP1 = { first_response = "4h", resolution = "2d" }\n[triage]\ntriager = "cy@example.com"\n'


def _task(running: Running, name: str) -> Any:
    return next((t for t in running.asana_tasks() if t.parent is None and t.name == name), None)


async def test_task_is_named_as_typed_confirmed_privately_and_triaged_by_its_priority(running: Running) -> None:
    world = running.world
    await running.link()
    ana = running.user("ana")
    bo = running.slack.mention("bo", escaped=True)
    typed = "Upgrade the p2 runners: don't break \"Bob's\" build in C:\\ci &amp; `make` p1 " + bo
    ack = await ana.slash_command("/task", typed, world.channel)
    # What was understood comes first, in the ack.
    assert ack.status == 200 and "Creating in Asana" in ack.body and "Priority: P1" in ack.body

    title = "Upgrade the p2 runners: don't break \"Bob's\" build in C:\\ci & `make`"
    task = await eventually(lambda: _task(running, title))
    assert task.assignee == world.asana_people["bo"]
    # A priority given at creation is a triage done: the task starts in that priority's section, not in triage.
    assert task.section_in(world.project) == world.asana.section_gid(world.project, "P1")
    # The description says who asked, by name, and links back to the task's post; no Slack user id in it.
    await eventually(lambda: "From Slack: https://" in task.notes)
    assert "Created in Slack by ana with /task." in task.notes and ana.id not in task.notes
    assert '<a href="https://' in task.html_notes and "<strong>ana</strong>" in task.html_notes

    confirmation = await eventually(
        lambda: [e for e in world.slack.ephemerals("ana") if e.text.startswith("Created in Asana")]
    )
    shown = json.dumps(confirmation[-1].blocks)
    assert f"/{task.gid}" in shown and "Open in Asana" in shown and "task_undo" in shown
    assert "Priority: P1" in confirmation[-1].text and "Assignee: <@" in confirmation[-1].text
    post = [m for m in world.slack.messages(world.channel) if "Upgrade the p2 runners" in m.text]
    assert "&amp;" in post[0].text and "Bob's" in post[0].text  # shown escaped, read as typed


async def test_undo_deletes_the_task_and_its_post(running: Running) -> None:
    world = running.world
    await running.link()
    ana = running.user("ana")
    await ana.slash_command("/task", "Made by mistake", world.channel)
    task = await eventually(lambda: _task(running, "Made by mistake"))
    confirmation = (
        await eventually(lambda: [e for e in world.slack.ephemerals("ana") if e.text.startswith("Created in Asana")])
    )[-1]
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    stale = copy.deepcopy(confirmation)  # as a second click, sent before Slack showed the first one's answer

    clicked = await ana.click_button(confirmation, "task_undo")
    assert clicked.status == 200
    await eventually(lambda: _task(running, "Made by mistake") is None)
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if e.text.startswith("Undone")])
    assert not [m for m in world.slack.messages(world.channel) if m.ts == tracked.thread_ts]
    assert await running.bridge.store.get_tracked_task(TaskGid(task.gid)) is None

    assert "task_undo" not in json.dumps(confirmation.blocks)  # the confirmation became the answer
    await ana.click_button(stale, "task_undo")  # twice: nothing left to undo, and it says so
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "Nothing to undo" in e.text])


@pytest.mark.parametrize(
    ("text", "first_words"),
    [
        ("p1", "Give the task a title"),
        ("Ship it due:2020-01-01", "Pick today or a later day"),
        ("Ship it due:someday", "Write the due date as"),
    ],
)
async def test_a_mistake_says_what_to_do_and_repeats_the_command(running: Running, text: str, first_words: str) -> None:
    world = running.world
    await running.link()
    ack = await running.user("ana").slash_command("/task", text, world.channel)
    answer = json.loads(ack.body)["text"] if ack.body.startswith("{") else ack.body
    assert answer.startswith(first_words) and f"/task {text}" in answer
    assert not running.asana_tasks()


async def test_a_captured_message_reads_as_people_saw_it(running: Running) -> None:
    world = running.world
    await running.link("all")
    ana, bo = running.user("ana"), running.user("bo")
    text = (
        f"Hey {running.slack.mention('ana')}, the *export* button fails on "
        f"<https://example.com/billing|the billing page> &amp; <!here> see <#{world.channel}|questions>\n"
        "Second line with <https://example.com/docs>"
    )
    question = await bo.post_message(world.channel, text)
    assert question.ts is not None
    name = "Hey @ana, the export button fails on the billing page (https://example.com/billing) & @here see #questions"
    task = await eventually(lambda: _task(running, name))
    assert "<strong>bo</strong> wrote in Slack:" in task.html_notes
    assert '<a href="https://example.com/billing">the billing page</a>' in task.html_notes
    assert "<strong>export</strong>" in task.html_notes and "From Slack: https://" in task.notes
    assert ana.id not in task.notes and bo.id not in task.notes
    reply = await eventually(partial(running.bot_replies, question.ts))
    # The card under the question: the title as people read it; the only live mention is the bridge's own, of
    # who asked (the person's markup in the title never pings anyone again).
    assert "Hey @ana" in reply[0].text and re.findall(r"<@(\w+)>", reply[0].text) == [bo.id]


async def test_a_reacted_message_is_named_with_the_people_and_channels_it_mentions(running: Running) -> None:
    world = running.world
    await running.link("reaction")
    ana, bo = running.user("ana"), running.user("bo")
    text = f"Ask {running.slack.mention('cy')} about _the_ ~old~ invoice in <#{world.channel}>"
    message = await bo.post_message(world.channel, text)
    assert message.ts is not None
    await ana.add_reaction(world.channel, message.ts, "ticket")
    await eventually(lambda: _task(running, "Ask @cy about the old invoice in #questions"))  # both names looked up


async def test_the_shortcut_form_is_prefilled_with_readable_words(running: Running) -> None:
    world = running.world
    await running.link()
    ana, bo = running.user("ana"), running.user("bo")
    text = f"*Webhooks* stopped for {running.slack.mention('ana')}\nSee <https://status.example.com|status>"
    message = await bo.post_message(world.channel, text)
    assert message.ts is not None
    await ana.message_shortcut("create_task", world.channel, message.ts)
    view = (await eventually(lambda: world.slack.open_views("ana")))[-1]
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view.to_json()["blocks"]}
    assert fields["title"] == "Webhooks stopped for @ana"
    assert fields["notes"] == "*Webhooks* stopped for @ana\nSee status (https://status.example.com)"
    await ana.submit_view(view, {})
    task = await eventually(lambda: _task(running, "Webhooks stopped for @ana"))
    assert "by <strong>bo</strong>" in task.html_notes and "From Slack: https://" in task.notes


async def test_an_author_slack_cannot_look_up_is_still_captured(running: Running) -> None:
    world = running.world
    await running.link("all")
    bo = running.user("bo")
    # A Slack Connect guest, a deactivated account: users.info does not know them, and answers to them fail.
    world.slack.faults.add("users.info", error="user_not_found", times=None, match=lambda p: p.get("user") == bo.id)
    world.slack.faults.add("chat.postEphemeral", error="user_not_in_channel", times=None)
    await bo.post_message(world.channel, "Our export is broken")
    task = await eventually(lambda: _task(running, "Our export is broken"))
    assert f"a Slack user ({bo.id}) wrote in Slack:" in task.notes
    assert world.asana_people["bo"] not in task.followers  # nobody to follow it: still a task
    await eventually(lambda: [m for m in world.slack.messages(world.channel, replies=True) if m.bot_id])


async def test_a_replayed_shortcut_whose_form_cannot_open_tells_the_person(running: Running) -> None:
    """bolt-python's message-shortcut fixture (shared/specs/slack-payloads), sent to the bridge as Slack would: its
    trigger was never issued by this Slack, so views.open fails after the ack, as it does for an expired trigger."""
    world = running.world
    await running.link()
    ana, bo = running.user("ana"), running.user("bo")
    message = await bo.post_message(world.channel, "Please look at the import")
    payload = sample("message_action.message_shortcut.json")
    team = world.slack.workspace()
    payload["team"] = {"id": team.team_id, "domain": team.domain}  # the workspace the bridge is installed in
    payload["user"] = {"id": ana.id, "name": "ana"}
    payload["channel"] = {"id": world.channel, "name": "questions"}
    payload["callback_id"] = "create_task"
    payload["message_ts"] = message.ts
    payload["message"] = {**payload["message"], "user": bo.id, "ts": message.ts, "team": team.team_id}
    payload["response_url"] = world.slack.hooks.mint(team, world.channel, ana.id)

    delivery = await running.slack.send_interactive(payload)
    assert delivery.status == 200 and delivery.elapsed < 2.0  # acked at once: nothing escaped into Bolt
    told = await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "shortcut again" in e.text])
    assert "invalid_arguments" in told[0].text
    assert not running.asana_tasks()

    # A trigger this Slack did issue, expired by the time the form opens: the same answer.
    world.slack.faults.add("views.open", error="expired_trigger_id")
    assert message.ts is not None
    await ana.message_shortcut("create_task", world.channel, message.ts)
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "expired_trigger_id" in e.text])


async def test_an_assignee_without_asana_is_refused_with_the_command_to_fix(running: Running) -> None:
    world = running.world
    await running.link()
    world.slack_people["dee"] = world.slack.add_user("dee", "dee@elsewhere.example")  # no Asana account
    dee = running.slack.mention("dee", escaped=True)
    await running.user("ana").slash_command("/task", f"Ship it {dee}", world.channel)
    told = await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "Asana account" in e.text])
    assert told[-1].text.startswith("Assign someone with an Asana account, or nobody")
    assert "```/task Ship it @dee```" in told[-1].text and not running.asana_tasks()
