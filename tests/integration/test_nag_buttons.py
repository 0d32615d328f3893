"""Nag buttons end to end (DESIGN §2.3, issue #5): each button and select acts on the task in Asana for an allowed
clicker, says so in an Asana comment, and edits the nag in place; refusals, double clicks and outdated nags change
nothing. Asana calls are counted from the emulator's request log."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pytest

from bridge import wording
from bridge.domain.model import MessageTs, NagKey, TaskGid, TrackedTask
from bridge.domain.nag_clicks import Action, Decision, Verdict, Why
from bridge.domain.nags import SNOOZED_UNTIL
from bridge.domain.relay import DUE_PUSHES, SECTION_SINCE
from bridge.domain.sla import DUE_SET_BY_BRIDGE, sla_due_on
from bridge.sandbox.slack.models import Message
from bridge.sandbox.world import PRIORITIES, World
from tests.fixtures_bridge import Running
from tests.support import eventually

POLICY = """
[sla]
P0 = { first_response = "1h", resolution = "4h" }
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }
P3 = { first_response = "2d", resolution = "10d" }

[triage]
triager = "tia@example.com"

[capture]
acknowledge = false
"""


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


@pytest.fixture(autouse=True)
def outsiders(world: World) -> None:
    """Tia, the triager, Eve and Fay are Asana users of the workspace but not members of the (public) project, and
    Eve is a guest of the workspace; Dee has no Asana account at all. All four are in the channel."""
    channel = world.slack.workspace().channel(world.channel)
    for key, name, email in (
        ("tia", "Tia Ray", "tia@example.com"),
        ("eve", "Eve Stone", "eve@example.com"),
        ("fay", "Fay Wu", "fay@example.com"),
    ):
        guest_of = [world.workspace] if key == "eve" else []
        world.asana_people[key] = world.asana.add_user(name, email, [world.workspace], guest_of=guest_of)
        world.slack_people[key] = world.slack.add_user(key, email)
        channel.members.append(world.slack_people[key])
    world.slack_people["dee"] = world.slack.add_user("dee", "dee@elsewhere.example")
    channel.members.append(world.slack_people["dee"])


# ---- helpers -------------------------------------------------------------------------------------------------------


async def _task(running: Running, command: str, *, by: str = "ana") -> TrackedTask:
    return await running.slash_task(command, by=by, title=command.split(" due:")[0])


async def _nag(
    running: Running,
    tracked: TrackedTask,
    *,
    kind: str = "reminder",
    period: str = "",
    fields: Sequence[tuple[str, str, list[tuple[str, str]]]] = (),
) -> Message:
    """Post a nag into the task's thread as the scheduler does, and record it in the nag log with its ts. The nag
    is returned as people first see it: clicking it later is clicking a view that may be out of date."""
    world = running.world
    options = [(world.asana.option_gid(world.priority_field, p), p) for p in PRIORITIES]
    headline = f"⏰ *<{tracked.permalink_url}|{tracked.name}>* needs you."
    text, post = wording.nag_post(headline, task_gid=tracked.task_gid, priority_options=options, field_selects=fields)
    ts = await running.bridge.slack.post_message(world.channel, text, blocks=post, thread_ts=tracked.thread_ts)
    key = NagKey(tracked.task_gid, kind, "waiting" if kind == "triage" else "upcoming", period or f"p{ts}")
    assert await running.bridge.store.record_nag(key, now=running.bridge.clock.now(), message_ts=MessageTs(ts))
    message = running.slack.workspace.channel(world.channel).find(ts)
    assert message is not None and message.thread_ts == tracked.thread_ts
    return copy.deepcopy(message)


def _outcome(running: Running, nag: Message) -> str | None:
    """The latest line the bridge put on an edited nag (in place of what it asked); None while nobody acted on it."""
    current = running.slack.workspace.channel(running.world.channel).find(nag.ts)
    assert current is not None and current.blocks is not None
    done = [b for b in current.blocks if b.get("block_id") == wording.NAG_DONE_BLOCK]
    if not done:
        return None
    assert nag.blocks is not None and current.blocks[0]["text"]["text"] == nag.blocks[0]["text"]["text"]
    return str(done[0]["elements"][-1]["text"])


def _buttons(running: Running, nag: Message) -> bool:
    """Whether the nag still has its buttons."""
    current = running.slack.workspace.channel(running.world.channel).find(nag.ts)
    assert current is not None
    return any(b["type"] == "actions" for b in current.blocks or [])


def _said_to(running: Running, name: str, words: str) -> list[str]:
    return [e.text for e in running.world.slack.ephemerals(name) if words in e.text]


def _priority(running: Running, name: str) -> str:
    return running.world.asana.option_gid(running.world.priority_field, name)


def _who(running: Running, name: str) -> str:
    return f"<@{running.world.slack_people[name]}>"


async def _tracked(running: Running, task: str) -> TrackedTask:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    assert tracked is not None
    return tracked


# ---- each button ---------------------------------------------------------------------------------------------------


async def test_done_completes_the_task_comments_and_edits_the_nag_and_the_tasks_post(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Ship the release")
    nag = await _nag(running, tracked)

    mark = running.asana_mark()
    assert (await running.user("bo").click_button(nag, wording.NAG_DONE)).status == 200
    assert await eventually(lambda: _outcome(running, nag)) == f"✅ Marked done by {_who(running, 'bo')}."
    task = tracked.task_gid
    assert world.asana.store.tasks[task].completed
    assert running.asana_comments(task) == ["Completed by bo from Slack"]
    # Bo is neither assignee nor requester: his Asana user is looked up, then the project's members are read once.
    assert await running.asana_calls_since(mark) == [
        ("GET", "/users/bo@example.com"),
        ("GET", f"/tasks/{task}"),
        ("GET", f"/projects/{world.project}"),
        ("PUT", f"/tasks/{task}"),
        ("POST", f"/tasks/{task}/stories"),
    ]
    # The relay tells no change the bridge made, so the click redraws the task's card itself (just after the nag).
    await eventually(lambda: running.posted_text(tracked.thread_ts).startswith("✅ ~"))
    assert not _buttons(running, nag)  # done: nothing left to click
    assert (await _tracked(running, task)).completed
    assert world.slack.ephemerals("bo") == []  # the edited nag says it all

    # Warm caches: a click costs one read, one update and one comment.
    other = await _task(running, "Write the release notes")
    nag = await _nag(running, other)
    mark = running.asana_mark()
    await running.user("bo").click_button(nag, wording.NAG_DONE)
    await eventually(lambda: _outcome(running, nag))
    assert await running.asana_calls_since(mark) == [
        ("GET", f"/tasks/{other.task_gid}"),
        ("PUT", f"/tasks/{other.task_gid}"),
        ("POST", f"/tasks/{other.task_gid}/stories"),
    ]


async def test_snooze_keeps_nags_away_for_a_day_and_changes_nothing_else(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Rotate the keys")
    nag = await _nag(running, tracked)
    before = running.bridge.clock.now()

    mark = running.asana_mark()
    await running.user("ana").click_button(nag, wording.NAG_SNOOZE)
    outcome = await eventually(lambda: _outcome(running, nag))
    # Until when: a <!date^…> each reader sees in their own timezone, the team's wording as the fallback.
    assert str(outcome).startswith(f"💤 Snoozed for a day by {_who(running, 'ana')}, until <!date^")
    snoozed = datetime.fromisoformat((await _tracked(running, tracked.task_gid)).snapshot[SNOOZED_UNTIL])
    assert before + timedelta(days=1) <= snoozed <= running.bridge.clock.now() + timedelta(days=1)
    assert running.asana_comments(tracked.task_gid) == ["Nags snoozed for a day by ana from Slack"]
    assert not world.asana.store.tasks[tracked.task_gid].completed
    # Ana asked for the task: no members read; nothing to change in Asana but the comment.
    assert await running.asana_calls_since(mark) == [
        ("GET", f"/tasks/{tracked.task_gid}"),
        ("POST", f"/tasks/{tracked.task_gid}/stories"),
    ]


async def test_push_moves_the_due_date_a_week_and_an_older_reminder_then_changes_nothing(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Renew the certificate due:2027-03-01")
    task = tracked.task_gid
    nag = await _nag(running, tracked, period="2027-03-01")

    await running.user("ana").click_button(nag, wording.NAG_PUSH)
    line = await eventually(lambda: _outcome(running, nag))
    assert line == f"📅 Due date pushed a week, to Mon 08 Mar, by {_who(running, 'ana')}."
    assert world.asana.store.tasks[task].due_on == date(2027, 3, 8)
    assert running.asana_comments(task) == ["Due date pushed a week to Mon 08 Mar by ana from Slack"]
    snapshot = (await _tracked(running, task)).snapshot
    assert snapshot["due_on"] == "2027-03-08" and snapshot[DUE_PUSHES] == 1

    # Another reminder about the old due date: pushing again would push twice, so it is outdated.
    stale = await _nag(running, tracked, period="2027-03-01#2")
    mark = running.asana_mark()
    await running.user("ana").click_button(stale, wording.NAG_PUSH)
    line = await eventually(lambda: _outcome(running, stale))
    assert "nothing changed: its due date moved to Mon 08 Mar since this reminder" in line
    [note] = await eventually(lambda: _said_to(running, "ana", "This nag was out of date"))
    assert "Nothing was changed" in note
    assert world.asana.store.tasks[task].due_on == date(2027, 3, 8)
    assert await running.asana_calls_since(mark) == [("GET", f"/tasks/{task}")]
    assert len(running.asana_comments(task)) == 1


async def test_reassign_assigns_the_chosen_person_and_refuses_someone_without_asana(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Answer the SSO question")
    task = tracked.task_gid
    nag = await _nag(running, tracked)

    mark = running.asana_mark()
    await running.user("ana").select_user(nag, wording.NAG_REASSIGN, world.slack_people["cy"])
    line = await eventually(lambda: _outcome(running, nag))
    assert line == f"👤 Reassigned to {_who(running, 'cy')} by {_who(running, 'ana')}."
    assert world.asana.store.tasks[task].assignee == world.asana_people["cy"]
    assert running.asana_comments(task) == ["Reassigned to Cy Park by ana from Slack"]
    assert await running.asana_calls_since(mark) == [
        ("GET", f"/tasks/{task}"),
        ("GET", "/users/cy@example.com"),  # the new assignee, by email
        ("PUT", f"/tasks/{task}"),
        ("POST", f"/tasks/{task}/stories"),
    ]
    assert (await _tracked(running, task)).snapshot["assignee"]["gid"] == world.asana_people["cy"]

    again = await _nag(running, tracked)
    await running.user("cy").select_user(again, wording.NAG_REASSIGN, world.slack_people["cy"])
    await eventually(lambda: _said_to(running, "cy", "already assigned to Cy Park; nothing changed"))
    await running.user("cy").select_user(again, wording.NAG_REASSIGN, world.slack_people["dee"])
    [refused] = await eventually(lambda: _said_to(running, "cy", "was not reassigned"))
    assert f"<@{world.slack_people['dee']}>" in refused
    assert _outcome(running, again) is None  # neither changed anything: the nag keeps its buttons
    assert world.asana.store.tasks[task].assignee == world.asana_people["cy"]
    assert len(running.asana_comments(task)) == 1

    # The reassigned nag kept its buttons, so the new assignee finishes the task from it.
    assert _buttons(running, nag)
    current = running.slack.workspace.channel(world.channel).find(nag.ts)
    assert current is not None
    await running.user("cy").click_button(copy.deepcopy(current), wording.NAG_DONE)
    await eventually(lambda: _outcome(running, nag) == f"✅ Marked done by {_who(running, 'cy')}.")
    assert world.asana.store.tasks[task].completed and not _buttons(running, nag)


async def test_priority_sets_the_field_moves_the_task_to_its_section_and_sets_the_sla_due_date(
    running: Running,
) -> None:
    world = running.world
    tracked = await _task(running, "Webhooks stopped arriving")
    task = tracked.task_gid
    triage = world.asana.section_gid(world.project, "Needs triage")
    assert world.asana.store.tasks[task].section_in(world.project) == triage
    nag = await _nag(running, tracked, kind="triage")
    p2 = _priority(running, "P2")

    mark = running.asana_mark()
    await running.user("ana").select_option(nag, wording.NAG_PRIORITY, p2)
    line = await eventually(lambda: _outcome(running, nag))
    asana_task = world.asana.store.tasks[task]
    due = sla_due_on(running.bridge.settings.policy, "P2", asana_task.created_at)
    assert due is not None and asana_task.due_on == due
    day = due.strftime("%a %d %b")
    assert line == f"🚩 Priority set to P2 by {_who(running, 'ana')}; moved to P2; due {day} (from the SLA)."
    assert asana_task.custom_values[world.priority_field] == p2
    assert asana_task.section_in(world.project) == world.asana.section_gid(world.project, "P2")
    said = f"Priority set to P2 by ana from Slack; moved to section P2; due date set to {day} from the SLA"
    assert running.asana_comments(task) == [said]
    snapshot = (await _tracked(running, task)).snapshot
    assert snapshot[DUE_SET_BY_BRIDGE] == due.isoformat() and snapshot["due_on"] == due.isoformat()
    assert SECTION_SINCE in snapshot
    assert await running.asana_calls_since(mark) == [
        ("GET", f"/tasks/{task}"),
        ("GET", f"/projects/{world.project}/sections"),
        ("POST", f"/tasks/{task}/addProject"),
        ("PUT", f"/tasks/{task}"),
        ("POST", f"/tasks/{task}/stories"),
    ]

    # The next triage nag about it is outdated: the task has a priority now.
    later = await _nag(running, tracked, kind="triage")
    await running.user("bo").select_option(later, wording.NAG_PRIORITY, _priority(running, "P0"))
    line = await eventually(lambda: _outcome(running, later))
    assert line == f"🤷 {_who(running, 'bo')} clicked Priority, but nothing changed: " + (
        "Priority was set to P2 in Asana already."
    )
    assert world.asana.store.tasks[task].custom_values[world.priority_field] == p2
    assert len(running.asana_comments(task)) == 1


async def test_a_missing_field_select_sets_that_enum_field(running: Running) -> None:
    world = running.world
    team = world.asana.add_enum_custom_field(world.workspace, "Team", ("Backend", "Frontend"), projects=[world.project])
    tracked = await _task(running, "Triage the flaky test")
    options = [(world.asana.option_gid(team, name), name) for name in ("Backend", "Frontend")]
    nag = await _nag(running, tracked, kind="missing_fields", fields=[(team, "Team", options)])
    backend = world.asana.option_gid(team, "Backend")

    mark = running.asana_mark()
    await running.user("ana").select_option(nag, wording.NAG_FIELD + team, backend)
    assert await eventually(lambda: _outcome(running, nag)) == f"🏷️ Team set to Backend by {_who(running, 'ana')}."
    asana_task = world.asana.store.tasks[tracked.task_gid]
    assert asana_task.custom_values[team] == backend
    assert asana_task.due_on is None and asana_task.custom_values.get(world.priority_field) is None
    assert running.asana_comments(tracked.task_gid) == ["Team set to Backend by ana from Slack"]
    assert await running.asana_calls_since(mark) == [
        ("GET", f"/tasks/{tracked.task_gid}"),
        ("PUT", f"/tasks/{tracked.task_gid}"),
        ("POST", f"/tasks/{tracked.task_gid}/stories"),
    ]
    fields = {f["gid"]: f for f in (await _tracked(running, tracked.task_gid)).snapshot["custom_fields"]}
    assert fields[team]["enum_value"]["gid"] == backend


# ---- who may click -------------------------------------------------------------------------------------------------


async def test_people_without_asana_or_not_allowed_on_the_link_are_refused_and_nothing_changes(
    running: Running,
) -> None:
    world = running.world
    tracked = await _task(running, "Close the incident")
    task = tracked.task_gid
    nag = await _nag(running, tracked)

    mark = running.asana_mark()
    await running.user("dee").click_button(nag, wording.NAG_DONE)
    [no_asana] = await eventually(lambda: _said_to(running, "dee", "nothing was changed"))
    assert "matches no user of the bridge's Asana workspace" in no_asana
    await running.user("eve").click_button(nag, wording.NAG_DONE)
    await running.user("eve").select_option(nag, wording.NAG_PRIORITY, _priority(running, "P0"))

    def refused() -> list[str] | None:
        said = _said_to(running, "eve", "nothing was changed")
        return said if len(said) == 2 else None

    refusals = await eventually(refused)
    assert all("you are a guest of the Asana workspace, and *Developer Questions* is not shared" in r for r in refusals)
    assert not world.asana.store.tasks[task].completed and not running.asana_comments(task)
    assert {method for method, _ in await running.asana_calls_since(mark)} == {"GET"}  # lookups only, no writes
    assert _outcome(running, nag) is None

    # The triager may, although not a member of the project.
    await running.user("tia").click_button(nag, wording.NAG_SNOOZE)
    snoozed = await eventually(lambda: _outcome(running, nag))
    assert str(snoozed).startswith(f"💤 Snoozed for a day by {_who(running, 'tia')}, until <!date^")

    # So may the person who asked: Eve's own request.
    own = await _task(running, "Eve needs a staging database", by="eve")
    mine = await _nag(running, own)
    await running.user("eve").click_button(mine, wording.NAG_DONE)
    assert await eventually(lambda: _outcome(running, mine)) == f"✅ Marked done by {_who(running, 'eve')}."
    assert world.asana.store.tasks[own.task_gid].completed


@pytest.mark.parametrize(
    ("privacy", "fay_may", "refused_because"),
    [
        ("public_to_workspace", True, None),
        ("private_to_team", True, None),
        ("private", False, "the Asana project *Developer Questions* is private, and you are not one of its members"),
    ],
)
async def test_who_may_click_mirrors_the_projects_privacy_in_asana(
    running: Running, privacy: str, fay_may: bool, refused_because: str | None
) -> None:
    """Fay is a workspace member in the team "Support", Dee… has no Asana; Gus is a workspace member outside the
    team. Neither Fay nor Gus is a listed member of the project."""
    world = running.world
    gus = world.asana.add_user("Gus Hale", "gus@example.com", [world.workspace])
    world.slack_people["gus"] = world.slack.add_user("gus", "gus@example.com")
    world.slack.workspace().channel(world.channel).members.append(world.slack_people["gus"])
    team = world.asana.add_team(world.workspace, "Support", [world.asana_people["fay"], world.bridge_user])
    world.asana.set_project_privacy(world.project, privacy, team=team)
    tracked = await _task(running, f"Check the {privacy} rules")
    nag = await _nag(running, tracked)

    await running.user("fay").click_button(nag, wording.NAG_SNOOZE)
    if fay_may:
        outcome = await eventually(lambda: _outcome(running, nag))
        assert outcome.startswith(f"💤 Snoozed for a day by {_who(running, 'fay')}, until <!date^")
    else:
        [said] = await eventually(lambda: _said_to(running, "fay", "nothing was changed"))
        assert refused_because is not None and refused_because in said
        assert _outcome(running, nag) is None
    await running.user("gus").click_button(nag, wording.NAG_SNOOZE)
    if privacy == "public_to_workspace":  # any workspace member but a guest
        await eventually(
            lambda: (_outcome(running, nag) or "").startswith(f"💤 Snoozed for a day by {_who(running, 'gus')}, until")
        )
        assert gus not in world.asana.store.projects[world.project].members
    else:
        [said] = await eventually(lambda: _said_to(running, "gus", "nothing was changed"))
        wanted = (
            "is private to *Support*, and you are not a member of it" if privacy == "private_to_team" else "private"
        )
        assert wanted in said


# ---- double clicks and outdated nags -------------------------------------------------------------------------------


async def test_a_double_click_applies_once_and_the_second_click_is_told_it_was_handled(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Rotate the webhook secret")
    task = tracked.task_gid
    nag = await _nag(running, tracked)
    warm = await _nag(running, tracked)
    await running.user("ana").click_button(warm, wording.NAG_SNOOZE)  # warm every cache
    await eventually(lambda: _outcome(running, warm))
    await eventually(lambda: running.bridge.background.pending == 0)

    # Slow reads keep both clicks in flight together, as a real double click on a slow day would.
    world.asana.faults.add(method="GET", path_pattern=rf"^/tasks/{task}$", delay=0.3, times=2)
    ana = running.user("ana")
    await asyncio.gather(ana.click_button(nag, wording.NAG_DONE), ana.click_button(nag, wording.NAG_DONE))
    line = await eventually(lambda: _outcome(running, nag))
    assert line == f"✅ Marked done by {_who(running, 'ana')}."
    [handled] = await eventually(lambda: _said_to(running, "ana", "Already handled"))
    assert handled == f"Already handled, so nothing more was changed: {line}"
    assert world.asana.store.tasks[task].completed
    assert running.asana_comments(task) == ["Nags snoozed for a day by ana from Slack", "Completed by ana from Slack"]
    assert len(running.asana_updates(task)) == 1
    # two nags and the task's post, each edited once (the post's edit may come a moment after the nag's)
    await eventually(lambda: len(world.slack.calls_to("chat.update")) >= 3)
    nag_edits = [c for c in world.slack.calls_to("chat.update") if c.params.get("ts") == nag.ts]
    assert len(nag_edits) == 1


async def test_a_click_on_a_nag_about_a_task_completed_in_asana_changes_nothing_and_says_so(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Upgrade the database")
    task = tracked.task_gid
    nag = await _nag(running, tracked)
    world.asana.act(world.asana_people["bo"]).complete(task)
    await world.asana.deliveries_idle(timeout=10)

    mark = running.asana_mark()
    await running.user("ana").select_user(nag, wording.NAG_REASSIGN, world.slack_people["cy"])
    line = await eventually(lambda: _outcome(running, nag))
    assert line == (
        f"🤷 {_who(running, 'ana')} clicked Reassign, but nothing changed: the task was completed in Asana already."
    )
    [note] = await eventually(lambda: _said_to(running, "ana", "out of date"))
    assert note == wording.nag_outdated_note(Decision(Verdict.OUTDATED, Action.REASSIGN, Why.COMPLETED))
    assert note.startswith("This nag was out of date: the task was completed in Asana already. Nothing was changed")
    assert world.asana.store.tasks[task].assignee is None and running.asana_comments(task) == []
    calls = await running.asana_calls_since(mark)
    assert ("GET", f"/tasks/{task}") in calls and all(method == "GET" for method, _ in calls)

    await running.user("bo").click_button(nag, wording.NAG_DONE)  # a click that was already on its way
    await eventually(lambda: _said_to(running, "bo", "Already handled"))


async def test_a_change_asana_refuses_leaves_the_nag_to_be_clicked_again(running: Running) -> None:
    world = running.world
    tracked = await _task(running, "Archive the old project")
    task = tracked.task_gid
    nag = await _nag(running, tracked)

    world.asana.faults.add(method="PUT", path_pattern=rf"^/tasks/{task}$", status=403, times=1)
    await running.user("ana").click_button(nag, wording.NAG_DONE)
    await eventually(lambda: _said_to(running, "ana", "Asana didn't let the bridge change that task"))
    await eventually(lambda: running.bridge.background.pending == 0)
    assert not world.asana.store.tasks[task].completed and running.asana_comments(task) == []
    assert _outcome(running, nag) is None  # the claim was given back: the buttons are still there and work

    await running.user("ana").click_button(nag, wording.NAG_DONE)
    assert await eventually(lambda: _outcome(running, nag)) == f"✅ Marked done by {_who(running, 'ana')}."
    assert world.asana.store.tasks[task].completed and running.asana_comments(task) == ["Completed by ana from Slack"]
