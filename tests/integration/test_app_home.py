"""The App Home: the person's open tasks across the links of their workspace (SLAs at risk, due soon, the rest)
with the nag buttons, which act as they do on a nag and publish the Home again; and the switch for a DM when a task
is assigned to them in Asana. Everything through real HTTP against both emulators."""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bridge import wording
from bridge.domain.model import (
    ChannelId,
    Link,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
    WorkspaceGid,
)
from bridge.domain.nags import SNOOZED_UNTIL
from bridge.domain.sla import sla_due_on
from bridge.sandbox.slack.surfaces import View
from bridge.sandbox.world import PRIORITIES, SECTIONS, World
from tests.fixtures_bridge import Running
from tests.support import ALWAYS_OPEN, eventually

# Business hours around the clock, so that an SLA's time left is the same whatever day the test runs.
POLICY = (
    ALWAYS_OPEN
    + """
[sla]
P0 = { first_response = "1h", resolution = "4h" }
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }
P3 = { first_response = "2d", resolution = "10d" }

[capture]
acknowledge = false
"""
)


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


@pytest.fixture(autouse=True)
def outsiders(world: World) -> None:
    """Eve is an Asana user of the workspace (a guest) but not a member of the project; Dee has no Asana account."""
    channel = world.slack.workspace().channel(world.channel)
    # Eve is a guest of the Asana workspace: the (public) project is not shared with her.
    world.asana_people["eve"] = world.asana.add_user(
        "Eve Stone", "eve@example.com", [world.workspace], guest_of=[world.workspace]
    )
    world.slack_people["eve"] = world.slack.add_user("eve", "eve@example.com")
    world.slack_people["dee"] = world.slack.add_user("dee", "dee@elsewhere.example")
    channel.members += [world.slack_people["eve"], world.slack_people["dee"]]


def _home_text(running: Running, user: str) -> str:
    home = running.world.slack.home(user)
    return "" if home is None else str(home.blocks)


def _dms(running: Running, user: str) -> list[Any]:
    world = running.world
    return [m for m in world.slack.messages(world.slack_people[user]) if m.bot_id]


async def _switch(running: Running, user: str, to: str) -> None:
    person = running.user(user)
    await person.open_home()
    home = await eventually(lambda: running.world.slack.home(user))
    await person.click_button(home, wording.HOME_ASSIGNMENT_DMS)
    await eventually(lambda: f"assigned to me in Asana:* {to}" in _home_text(running, user))


async def _task(running: Running, title: str) -> str:
    world = running.world
    ana = running.user("ana")
    if not world.asana.webhooks:
        await ana.slash_command("/asana", f"link {world.project}", world.channel)
        await eventually(lambda: world.asana.webhooks)
    await ana.slash_command("/task", title, world.channel)
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == title]))[0]
    await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    await world.asana.deliveries_idle(timeout=10)
    return str(task.gid)


async def test_opening_the_home_tab_shows_the_switch_off(running: Running) -> None:
    await running.user("cy").open_home()
    await eventually(lambda: "assigned to me in Asana:* off" in _home_text(running, "cy"))
    assert "Turn on" in _home_text(running, "cy")
    assert wording.HOME_NOT_LINKED in _home_text(running, "cy")  # no channel is linked yet: nothing to list


async def test_a_person_who_asked_gets_a_dm_when_assigned_and_nobody_else_does(running: Running) -> None:
    world = running.world
    await _switch(running, "cy", "on")
    bo = world.asana.act(world.asana_people["bo"])

    first = await _task(running, "Rotate the signing key")
    bo.assign(first, world.asana_people["cy"])
    dm = (await eventually(lambda: _dms(running, "cy")))[0]
    assert "You were assigned" in dm.text and "Rotate the signing key" in str(dm.blocks)
    assert f"<#{world.channel}>" in str(dm.blocks)

    bo.assign(first, world.asana_people["ana"])  # Ana did not ask for DMs
    thread = await running.bridge.store.get_tracked_task(TaskGid(first))
    assert thread is not None
    await eventually(lambda: _says(running, thread.thread_ts, f"assigned to <@{world.slack_people['ana']}>"))
    assert _dms(running, "ana") == []

    cy = world.asana.act(world.asana_people["cy"])
    cy.assign(first, world.asana_people["cy"])  # taking it yourself needs no DM
    await eventually(lambda: _says(running, thread.thread_ts, f"assigned to <@{world.slack_people['cy']}>"))
    assert len(_dms(running, "cy")) == 1

    await _switch(running, "cy", "off")
    second = await _task(running, "Renew the certificate")
    bo.assign(second, world.asana_people["cy"])
    tracked = await running.bridge.store.get_tracked_task(TaskGid(second))
    assert tracked is not None
    await eventually(lambda: _says(running, tracked.thread_ts, f"assigned to <@{world.slack_people['cy']}>"))
    assert len(_dms(running, "cy")) == 1


async def test_someone_without_an_asana_account_is_told_why_it_cannot_be_switched_on(running: Running) -> None:
    world = running.world
    world.slack.add_user("dee", "dee@elsewhere.example")
    await running.user("dee").open_home()
    home = await eventually(lambda: world.slack.home("dee"))
    await running.user("dee").click_button(home, wording.HOME_ASSIGNMENT_DMS)
    await eventually(lambda: "your Slack email matches nobody" in _home_text(running, "dee"))
    assert "assigned to me in Asana:* off" in _home_text(running, "dee")


# ---- the task list ---------------------------------------------------------------------------------------------------


def _mention(running: Running, name: str) -> str:
    return f"<@{running.world.slack_people[name]}>"


async def _assigned(running: Running, title: str, to: str, options: str = "") -> TrackedTask:
    """`/task <title> @to <options>` by Ana in the linked channel: a real task in Asana, tracked by the bridge."""
    command = f"{title} {_mention(running, to)} {options}".strip()
    return await running.slash_task(command, by="ana", title=title)


async def _backdate(running: Running, tracked: TrackedTask, age: timedelta) -> None:
    """Make the stored snapshot say the task was asked `age` ago (as it would be, had it waited that long)."""
    store = running.bridge.store
    current = await store.get_tracked_task(tracked.task_gid)
    assert current is not None
    created = (datetime.now(UTC) - age).isoformat()
    await store.save_tracked_task(replace(current, snapshot={**current.snapshot, "created_at": created}))


async def _open(running: Running, user: str, *, words: str) -> View:
    """Open the Home tab as `user` and wait until it says `words`."""
    before = running.world.slack.home(user)
    published = before.hash if before is not None else None
    await running.user(user).open_home()
    return await _home_saying(running, user, words, newer_than=published)


async def _home_saying(running: Running, user: str, words: str, *, newer_than: str | None = None) -> View:
    """The Home as published when it says `words`, as the person sees it then (a copy: clicking it later is
    clicking a view that may have been published again since)."""

    def found() -> View | None:
        home = running.world.slack.home(user)
        if home is None or home.hash == newer_than or words not in json.dumps(home.blocks, ensure_ascii=False):
            return None
        return copy.deepcopy(home)

    return await eventually(found)


def _task_lines(home: View) -> list[str]:
    """The text of each task listed, in order (the section just before each task's buttons)."""
    lines = []
    for before, block in zip(home.blocks, home.blocks[1:], strict=False):
        if block.get("type") == "actions" and str(block.get("block_id")).startswith(wording.NAG_ACTIONS_BLOCK):
            lines.append(str(before["text"]["text"]))
    return lines


def _line(home: View, name: str) -> str:
    [line] = [line for line in _task_lines(home) if f"|{name}>*" in line]
    return line


def _headers(home: View) -> list[str]:
    return [str(b["text"]["text"]) for b in home.blocks if b.get("type") == "header"]


def _note(home: View) -> str | None:
    """The note at the top of the Home (what a click just did), if there is one."""
    second = home.blocks[1]
    return str(second["elements"][0]["text"]) if second.get("type") == "context" else None


async def _other_workspace_task(running: Running, name: str, assignee: str) -> None:
    """Another Slack workspace's link, with a task assigned to the same Asana user (as after a second install)."""
    world = running.world
    store = running.bridge.store
    now = datetime.now(UTC)
    project = world.asana.add_project(world.workspace, "Globex Questions", SECTIONS, members=[])
    team, channel = TeamId("T0GLOBEX"), ChannelId("C0GLOBEX")
    await store.save_link(
        Link(
            team_id=team,
            channel_id=channel,
            project_gid=ProjectGid(project),
            project_name="Globex Questions",
            workspace_gid=WorkspaceGid(world.workspace),
            created_by=SlackUserId("U0GLOBEX"),
            created_at=now,
        )
    )
    gid = "7799001"
    await store.add_tracked_tasks(
        [
            TrackedTask(
                task_gid=TaskGid(gid),
                project_gid=ProjectGid(project),
                team_id=team,
                channel_id=channel,
                thread_ts=MessageTs("1790000000.000001"),
                permalink_url=f"https://app.asana.com/0/{project}/{gid}",
                name=name,
                created_at=now,
                updated_at=now,
                snapshot={
                    "gid": gid,
                    "name": name,
                    "completed": False,
                    "created_at": now.isoformat(),
                    "assignee": {"gid": assignee, "name": "Cy Park"},
                },
            )
        ]
    )


async def test_the_home_lists_the_persons_open_tasks_by_urgency_with_their_facts_and_the_nag_buttons(
    running: Running,
) -> None:
    world = running.world
    breached = await _assigned(running, "Webhooks stopped arriving", "cy", "p1")
    at_risk = await _assigned(running, "Login loop on Safari", "cy", "p0")
    soon = await _assigned(running, "Renew the certificate", "cy", "p2 due:tomorrow")
    later = await _assigned(running, "Write the runbook", "cy")
    await _assigned(running, "Bo's own question", "bo", "p1")
    done = await _assigned(running, "Already answered", "cy", "p3")
    world.asana.act(world.asana_people["bo"]).complete(done.task_gid)
    await world.asana.deliveries_idle(timeout=10)
    await eventually(lambda: _tracked_completed(running, done.task_gid))
    await _backdate(running, breached, timedelta(days=30))  # P1 resolution is 2d: breached
    await _backdate(running, at_risk, timedelta(hours=3, minutes=30))  # P0 resolution is 4h: 30m left, at risk
    await _other_workspace_task(running, "Globex secret", world.asana_people["cy"])

    mark = running.asana_mark()
    home = await _open(running, "cy", words="Write the runbook")
    names = [line.split("|")[1].split(">*")[0] for line in _task_lines(home)]
    assert names == ["Webhooks stopped arriving", "Login loop on Safari", "Renew the certificate", "Write the runbook"]
    assert _headers(home) == ["Asana bridge", "🚨 SLAs at risk", "📅 Due soon", "🗂️ Your other open tasks"]
    text = json.dumps(home.blocks, ensure_ascii=False)
    assert "Bo's own question" not in text and "Already answered" not in text and "Globex secret" not in text
    assert "You have *4* open tasks in Asana: *2* with an SLA at risk or breached, *1* more due soon." in text

    channel = f"<#{world.channel}>"
    line = _line(home, "Webhooks stopped arriving")
    assert line.startswith(f"*<{breached.permalink_url}|Webhooks stopped arriving>*\n{channel} · ")
    assert " · P1 · :red_circle: SLA breached, " in line and line.endswith(" over")
    line = _line(home, "Login loop on Safari")
    assert " · P0 · :large_yellow_circle: SLA at risk, " in line and line.endswith("m left")
    line = _line(home, "Renew the certificate")
    assert f"{channel} · Due tomorrow · P2 · :large_green_circle: SLA on track, " in line
    assert _line(home, "Write the runbook").endswith(f"{channel} · No due date · No priority · :white_circle: No SLA")

    # Each task has the nag's buttons, its block naming the task; the Priority select has the project's options.
    actions = [b for b in home.blocks if b["type"] == "actions"]
    assert [a["block_id"] for a in actions] == [
        wording.NAG_ACTIONS_BLOCK + t.task_gid for t in (breached, at_risk, soon, later)
    ]
    kinds = [e.get("action_id") for e in actions[0]["elements"]]
    assert kinds == [wording.NAG_DONE, wording.NAG_SNOOZE, wording.NAG_PUSH, wording.NAG_REASSIGN, wording.NAG_PRIORITY]
    options = [o["text"]["text"] for o in actions[0]["elements"][4]["options"]]
    assert options == list(PRIORITIES)
    assert "assigned to me in Asana:* off" in text and len(home.blocks) <= 100  # the switch is still there
    # Opening the Home reads nothing of Asana (Cy's Asana user was found when the first task was assigned to her).
    assert await running.asana_calls_since(mark) == []


async def _tracked_completed(running: Running, task: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    return tracked is not None and tracked.completed


async def test_done_in_the_home_completes_the_task_comments_and_the_home_no_longer_lists_it(running: Running) -> None:
    world = running.world
    first = await _assigned(running, "Rotate the webhook secret", "cy", "p1")
    second = await _assigned(running, "Upgrade the database", "cy", "p2")
    home = await _open(running, "cy", words="Upgrade the database")

    mark = running.asana_mark()
    block = wording.NAG_ACTIONS_BLOCK + first.task_gid
    assert (await running.user("cy").click_button(home, wording.NAG_DONE, block_id=block)).status == 200
    after = await _home_saying(running, "cy", "Marked done", newer_than=home.hash)
    assert _note(after) == f"✅ Marked done by {_mention(running, 'cy')}."
    assert [line.split("|")[1].split(">*")[0] for line in _task_lines(after)] == ["Upgrade the database"]
    assert world.asana.store.tasks[first.task_gid].completed
    assert not world.asana.store.tasks[second.task_gid].completed
    assert running.asana_comments(first.task_gid) == ["Completed by cy from Slack"]
    # Cy is the assignee: no members read; one read, one update, one comment, as a click on a nag.
    assert await running.asana_calls_since(mark) == [
        ("GET", f"/tasks/{first.task_gid}"),
        ("PUT", f"/tasks/{first.task_gid}"),
        ("POST", f"/tasks/{first.task_gid}/stories"),
    ]
    assert await _tracked_completed(running, first.task_gid)
    # The task's post in the channel is marked done too, and nobody was told anything in a channel.
    await eventually(lambda: running.posted_text(first.thread_ts).startswith("✅ ~"))
    assert world.slack.ephemerals("cy") == []

    # The same Done again, from the Home as it was before the click: the task is completed, nothing changes.
    await running.user("cy").click_button(home, wording.NAG_DONE, block_id=block)
    await _home_saying(running, "cy", "Already handled", newer_than=after.hash)
    assert running.asana_comments(first.task_gid) == ["Completed by cy from Slack"]
    assert len(running.asana_updates(first.task_gid)) == 1


async def test_a_double_click_on_push_in_the_home_pushes_once(running: Running) -> None:
    world = running.world
    tracked = await _assigned(running, "Renew the certificate", "cy", "p2 due:tomorrow")
    task = tracked.task_gid
    home = await _open(running, "cy", words="Renew the certificate")
    tomorrow = world.asana.store.tasks[task].due_on
    assert isinstance(tomorrow, date)

    # Slow reads keep both clicks in flight together, as a real double click on a slow day would.
    world.asana.faults.add(method="GET", path_pattern=rf"^/tasks/{task}$", delay=0.3, times=2)
    cy = running.user("cy")
    block = wording.NAG_ACTIONS_BLOCK + task
    await asyncio.gather(
        cy.click_button(home, wording.NAG_PUSH, block_id=block), cy.click_button(home, wording.NAG_PUSH, block_id=block)
    )
    await eventually(lambda: running.bridge.background.pending == 0)
    pushed = tomorrow + timedelta(weeks=1)
    assert world.asana.store.tasks[task].due_on == pushed
    day = pushed.strftime("%a %d %b")
    assert running.asana_comments(task) == [f"Due date pushed a week to {day} by cy from Slack"]
    assert len(running.asana_updates(task)) == 1
    notes = [
        str(c.params.get("view"))
        for c in world.slack.calls_to("views.publish")
        if "Already handled" in str(c.params.get("view")) or "Due date pushed" in str(c.params.get("view"))
    ]
    assert any("Already handled, so nothing more was changed: 📅 Due date pushed a week" in n for n in notes)
    # Now due in eight days, the task left "Due soon".
    final = await _open(running, "cy", words="Renew the certificate")
    assert _headers(final) == ["Asana bridge", "🗂️ Your other open tasks"]
    assert f"Due {day}" in _line(final, "Renew the certificate")


async def test_snooze_priority_and_reassign_in_the_home_act_as_on_a_nag(running: Running) -> None:
    world = running.world
    tracked = await _assigned(running, "Triage the flaky test", "cy")
    task = tracked.task_gid
    block = wording.NAG_ACTIONS_BLOCK + task
    cy = running.user("cy")
    home = await _open(running, "cy", words="Triage the flaky test")

    await cy.click_button(home, wording.NAG_SNOOZE, block_id=block)
    home = await _home_saying(running, "cy", "Snoozed for a day", newer_than=home.hash)
    assert str(_note(home)).startswith(f"💤 Snoozed for a day by {_mention(running, 'cy')}, until <!date^")
    stored = await running.bridge.store.get_tracked_task(TaskGid(task))
    assert stored is not None and SNOOZED_UNTIL in stored.snapshot
    assert running.asana_comments(task) == ["Nags snoozed for a day by cy from Slack"]

    p3 = world.asana.option_gid(world.priority_field, "P3")
    await cy.select_option(home, wording.NAG_PRIORITY, p3, block_id=block)
    home = await _home_saying(running, "cy", "Priority set to P3", newer_than=home.hash)
    asana_task = world.asana.store.tasks[task]
    due = sla_due_on(running.bridge.settings.policy, "P3", asana_task.created_at)
    assert due is not None and asana_task.due_on == due
    assert asana_task.custom_values[world.priority_field] == p3
    assert asana_task.section_in(world.project) == world.asana.section_gid(world.project, "P3")
    day = due.strftime("%a %d %b")
    assert _note(home) == f"🚩 Priority set to P3 by {_mention(running, 'cy')}; moved to P3; due {day} (from the SLA)."
    assert " · P3 · :large_green_circle: SLA on track, " in _line(home, "Triage the flaky test")

    await cy.select_user(home, wording.NAG_REASSIGN, world.slack_people["bo"], block_id=block)
    home = await _home_saying(running, "cy", "Reassigned to", newer_than=home.hash)
    assert _note(home) == f"👤 Reassigned to {_mention(running, 'bo')} by {_mention(running, 'cy')}."
    assert world.asana.store.tasks[task].assignee == world.asana_people["bo"]
    assert _task_lines(home) == [] and wording.HOME_EMPTY in json.dumps(home.blocks, ensure_ascii=False)
    assert running.asana_comments(task)[-1] == "Reassigned to Bo Chen by cy from Slack"
    bo_home = await _open(running, "bo", words="Triage the flaky test")
    assert len(_task_lines(bo_home)) == 1


async def test_a_click_refused_or_outdated_changes_nothing_and_the_home_says_why(running: Running) -> None:
    world = running.world
    tracked = await _assigned(running, "Close the incident", "eve")
    task = tracked.task_gid
    block = wording.NAG_ACTIONS_BLOCK + task
    home = await _open(running, "eve", words="Close the incident")

    # Bo takes it in Asana; Eve, who is not a member of the project, clicks Done in her Home from before.
    world.asana.act(world.asana_people["bo"]).assign(task, world.asana_people["bo"])
    await eventually(lambda: _stored_assignee(running, task, world.asana_people["bo"]))
    mark = running.asana_mark()
    await running.user("eve").click_button(home, wording.NAG_DONE, block_id=block)
    refused = await _home_saying(running, "eve", "nothing was changed", newer_than=home.hash)
    note = _note(refused)
    assert note is not None and note.startswith(
        f"{_mention(running, 'eve')}, you are a guest of the Asana workspace, and *Developer Questions* is not shared "
        "with you, so nothing was changed."
    )
    assert _task_lines(refused) == []  # the Home now shows what is assigned to her: nothing
    assert not world.asana.store.tasks[task].completed and running.asana_comments(task) == []
    assert {method for method, _ in await running.asana_calls_since(mark)} == {"GET"}

    # Completed in Asana while Bo's Home still offered it: Push changes nothing and says so.
    bo_home = await _open(running, "bo", words="Close the incident")
    world.asana.act(world.asana_people["ana"]).complete(task)
    await world.asana.deliveries_idle(timeout=10)
    await running.user("bo").click_button(bo_home, wording.NAG_PUSH, block_id=block)
    outdated = await _home_saying(running, "bo", "completed in Asana already", newer_than=bo_home.hash)
    assert _note(outdated) == (
        "🤷 Nothing was changed: the task was completed in Asana already. Here is how things stand now."
    )
    assert world.asana.store.tasks[task].due_on is None and running.asana_comments(task) == []


async def _stored_assignee(running: Running, task: str, gid: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    return tracked is not None and (tracked.snapshot.get("assignee") or {}).get("gid") == gid


async def test_someone_with_nothing_open_sees_a_friendly_empty_home(running: Running) -> None:
    await _assigned(running, "Bo's own question", "bo", "p1")
    home = await _open(running, "cy", words=wording.HOME_EMPTY)
    assert _task_lines(home) == [] and _note(home) is None
    assert "assigned to me in Asana:* off" in json.dumps(home.blocks)


async def test_someone_whose_email_matches_no_asana_user_sees_the_note_not_an_error(running: Running) -> None:
    await _assigned(running, "Bo's own question", "bo", "p1")
    home = await _open(running, "dee", words="your Slack email matches nobody")
    assert _note(home) == wording.HOME_NO_ASANA_USER
    assert _task_lines(home) == [] and wording.HOME_EMPTY not in json.dumps(home.blocks)
    assert "assigned to me in Asana:* off" in json.dumps(home.blocks)


def _says(running: Running, thread_ts: str, words: str) -> bool:
    return words in str(running.world.slack.thread(running.world.channel, thread_ts))
