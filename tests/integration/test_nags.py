"""Nags end to end (DESIGN §2.3): reminders by stage, triage, missing fields and the SLA warning, each once."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge import wording
from bridge.domain.model import TaskGid
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.sla import sla_due_on
from bridge.sandbox.world import World
from bridge.services.nag_assembly import nagger_for
from tests.fixtures_bridge import Running
from tests.support import eventually

POLICY = """
[business_hours]
timezone = "UTC"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[sla]
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }
warn_at = 0.75

[triage]
section = "Needs triage"
grace = "4h"
repeat = "1d"
triager = "cy@example.com"

[reminders]
lead = "8h"
overdue_repeat = "1d"
required_fields = ["Priority"]
"""


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _task(running: Running, text: str) -> tuple[str, str]:
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await ana.slash_command("/task", text, world.channel)
    title = text.split(" <@")[0].split(" due:")[0].removesuffix(" p1")
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == title]))[0]
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    await world.asana.deliveries_idle(timeout=10)
    return task.gid, tracked.thread_ts


async def _in_section(running: Running, task: str, name: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    memberships = (tracked.snapshot.get("memberships") or []) if tracked else []
    return any((m.get("section") or {}).get("name") == name for m in memberships)


def _nags(running: Running, thread: str) -> list[Any]:
    world = running.world
    return [
        m
        for m in world.slack.thread(world.channel, thread)
        if m.bot_id
        and any(b.get("block_id", "").startswith(wording.NAG_ACTIONS_BLOCK) for b in m.blocks or [])
        and not any(b.get("block_id", "").startswith(wording.CARD_BLOCK) for b in m.blocks or [])  # the task's card
    ]


async def _tick(running: Running, now: str) -> int:
    return await running.bridge.nag_scheduler.nagger.tick(at(now))


async def test_reminders_go_once_per_stage_and_overdue_repeats(running: Running) -> None:
    world = running.world
    bo = world.slack_people["bo"]
    task, thread = await _task(running, f"Rotate the keys <@{bo}> due:2027-01-06")
    # Tue 10:00: seven business hours before Wednesday begins, within the 8h lead.
    assert await _tick(running, "2027-01-05T10:00:00") >= 1
    upcoming = [m for m in _nags(running, thread) if "is due Wed 06 Jan" in m.text]
    assert len(upcoming) == 1 and f"<@{bo}>" in str(upcoming[0].blocks)
    # Nothing new within the same stage. (Triage and missing-field nags repeat every working day at the time of
    # day the task was made, which may fall within this hour: only the reminders are counted.)
    await _tick(running, "2027-01-05T11:00:00")
    assert len([m for m in _nags(running, thread) if "⏰" in m.text]) == 1
    await _tick(running, "2027-01-06T10:00:00")
    assert len([m for m in _nags(running, thread) if "is due today" in m.text]) == 1
    await _tick(running, "2027-01-07T10:00:00")
    await _tick(running, "2027-01-08T10:00:00")
    overdue = [m for m in _nags(running, thread) if "overdue" in m.text]
    assert len(overdue) == 2 and "reminder 2" in overdue[1].text
    assert await _tick(running, "2027-01-09T12:00:00") == 0  # Saturday: quiet
    world.asana.act(world.asana_people["bo"]).complete(task)
    await eventually(lambda: _completed(running, task))
    assert await _tick(running, "2027-01-11T10:00:00") == 0  # done: no more nags


async def _completed(running: Running, task: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    return tracked is not None and tracked.completed


async def test_triage_missing_fields_and_the_sla_warning(running: Running) -> None:
    world = running.world
    task, thread = await _task(running, "Webhook signatures fail")
    mark = len(world.asana.requests)
    await _tick(running, "2027-01-05T10:00:00")
    texts = [m.text for m in _nags(running, thread)]
    cy = world.slack_people["cy"]
    triage = [m for m in _nags(running, thread) if "waiting for triage" in m.text]
    assert len(triage) == 1 and f"<@{cy}>" in str(triage[0].blocks)
    priority = next(
        e
        for b in triage[0].blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == wording.NAG_PRIORITY
    )
    assert [o["text"]["text"] for o in priority["options"]] == ["P0", "P1", "P2", "P3"]
    assert any("is missing Priority" in t for t in texts)
    assert not any("first response" in t for t in texts)  # no priority yet, so no target to warn about
    assert world.asana.store.tasks[task].followers.count(world.asana_people["cy"]) == 1
    # Posting the nags read no task from Asana, only the triager's user and out-of-office entries (both cached; the
    # poller reads events and lists meanwhile).
    reads = [r.path for r in world.asana.requests[mark:] if r.method == "GET" and r.path not in ("/events", "/tasks")]
    assert reads == ["/users/cy@example.com", "/ooo_entries"]

    world.asana.act(world.asana_people["bo"]).set_enum(
        task, world.priority_field, world.asana.option_gid(world.priority_field, "P1")
    )
    await eventually(lambda: _has_priority(running, task))
    await _tick(running, "2027-01-05T11:00:00")
    warning = [m for m in _nags(running, thread) if "first response" in m.text]
    assert len(warning) == 1
    comments = [s.text for s in world.asana.store.stories.values() if s.task == task and s.kind == "comment"]
    assert any("SLA warning" in (c or "") for c in comments)
    triage_nags = len([m for m in _nags(running, thread) if "waiting for triage" in m.text])
    await _tick(running, "2027-01-06T11:00:00")
    # One more a working day later. (It repeats at the time of day the task was made, 4 working hours on, which
    # may have fallen within the hour before.)
    assert len([m for m in _nags(running, thread) if "waiting for triage" in m.text]) == triage_nags + 1
    assert len([m for m in _nags(running, thread) if "first response" in m.text]) == 1
    assert len([m for m in _nags(running, thread) if "is missing" in m.text]) == 1  # Priority is set now


async def _has_priority(running: Running, task: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    fields = (tracked.snapshot.get("custom_fields") if tracked else None) or []
    return any((f.get("enum_value") or {}).get("name") == "P1" for f in fields)


async def test_a_priority_sets_the_due_date_from_the_sla_unless_a_person_chose_it(running: Running) -> None:
    world = running.world
    sla = parse_policy(tomllib.loads(POLICY))
    task, thread = await _task(running, "Certificates expire")
    created = world.asana.store.tasks[task].created_at
    bo = world.asana.act(world.asana_people["bo"])

    bo.set_enum(task, world.priority_field, world.asana.option_gid(world.priority_field, "P1"))
    p1_due = sla_due_on(sla, "P1", created)
    assert p1_due is not None
    await eventually(lambda: world.asana.store.tasks[task].due_on == p1_due)
    await eventually(lambda: f"due set to {p1_due:%a %d %b} by the P1 SLA" in _thread_text(running, thread))

    bo.set_enum(task, world.priority_field, world.asana.option_gid(world.priority_field, "P2"))
    p2_due = sla_due_on(sla, "P2", created)
    await eventually(lambda: world.asana.store.tasks[task].due_on == p2_due)

    bo.set_due(task, "2027-03-01")  # a person chooses the date: the SLA no longer moves it
    await eventually(lambda: "due moved to Mon 01 Mar" in _thread_text(running, thread))
    bo.set_enum(task, world.priority_field, world.asana.option_gid(world.priority_field, "P1"))
    await eventually(lambda: "priority P1 (was P2)" in _thread_text(running, thread))
    assert str(world.asana.store.tasks[task].due_on) == "2027-03-01"

    second, _ = await _task(running, "Renew the domain p1")
    created = world.asana.store.tasks[second].created_at
    assert world.asana.store.tasks[second].due_on == sla_due_on(sla, "P1", created)  # /task … p1 sets it too


def _thread_text(running: Running, thread: str) -> str:
    world = running.world
    return "\n".join(m.text for m in world.slack.thread(world.channel, thread))


DM_POLICY = POLICY.replace('overdue_repeat = "1d"', 'overdue_repeat = "1d"\ndm_assignee = true')


@pytest.mark.parametrize("policy", [DM_POLICY])
async def test_a_reminder_can_also_go_to_the_assignee_by_dm(running: Running) -> None:
    world = running.world
    bo = world.slack_people["bo"]
    _, thread = await _task(running, f"Renew the certificate <@{bo}> due:2027-01-06")
    await _tick(running, "2027-01-06T10:00:00")
    assert [m for m in _nags(running, thread) if "is due today" in m.text]
    dms = [m for m in world.slack.messages(bo) if m.bot_id and "is due today" in m.text]
    assert len(dms) == 1
    await _tick(running, "2027-01-06T11:00:00")
    assert len([m for m in world.slack.messages(bo) if m.bot_id and "is due today" in m.text]) == 1


async def test_a_priority_given_at_creation_is_a_triage_done_no_triage_nag_follows(running: Running) -> None:
    world = running.world
    triaged, triaged_thread = await _task(running, "Certificates expire p1")
    _, waiting_thread = await _task(running, "Certificates expire soon")
    assert world.asana.store.tasks[triaged].section_in(world.project) == world.asana.section_gid(world.project, "P1")
    await _tick(running, "2027-01-05T10:00:00")  # well past the triage grace of both
    assert [m for m in _nags(running, waiting_thread) if "waiting for triage" in m.text]
    assert not [m for m in _nags(running, triaged_thread) if "waiting for triage" in m.text]


async def test_one_message_per_task_names_every_reason_with_figures(running: Running) -> None:
    world = running.world
    bo, cy = world.slack_people["bo"], world.slack_people["cy"]
    task, thread = await _task(running, f"Webhooks keep failing <@{bo}> due:2027-01-04 p1")
    # Given a priority, it starts in P1; someone puts it back in triage in Asana (the relay records the move).
    triage = world.asana.section_gid(world.project, "Needs triage")
    world.asana.act(world.asana_people["ana"]).move_to_section(task, triage)
    await world.asana.deliveries_idle(timeout=10)
    await eventually(lambda: _in_section(running, task, "Needs triage"))
    # Wed 6 Jan 10:00: two working days past its due date, in triage for days, and its P1 first-response target
    # (4h) long passed: one tick, one message with the three reasons and both people to act.
    assert await _tick(running, "2027-01-06T10:00:00") == 1
    [nag] = _nags(running, thread)
    said = str(nag.blocks)
    assert f"<@{bo}>" in said and f"<@{cy}>" in said
    assert "it was due Mon 04 Jan, 2 working days ago" in nag.text
    assert re.search(r"waiting for triage for \d+ working days, since ", nag.text)  # since it was made, today
    assert "the target (P1, 4 working hours) passed" in nag.text and "working days ago" in nag.text
    assert "reminder" not in nag.text  # the first overdue reminder anyone sees is not "reminder 3"
    assert len([b for b in nag.blocks or [] if b["type"] == "actions"]) == 1
    # The next working day: overdue and triage again (each once more), the SLA warning is not repeated.
    assert await _tick(running, "2027-01-07T10:00:00") == 1
    latest = _nags(running, thread)[-1]
    assert "reminder 2" in latest.text and "waiting for triage" in latest.text and "first response" not in latest.text


async def test_a_change_to_a_task_or_to_its_rules_has_it_judged_again_at_once(running: Running) -> None:
    """A tick reads only the tasks whose moment has come: a save (a due date moved in Asana) and a change of the
    link's rules (bridge.toml) must each bring a task's moment forward, or its reminder would wait for the old one."""
    world, bridge = running.world, running.bridge
    task, thread = await _task(running, "Renew the certificate due:2027-01-20")
    await _tick(running, "2027-01-05T10:00:00")  # the triage and missing-field nags of a new task
    # Whatever else is due by 11:00 goes now (they repeat at the time of day the task was made), so that the next
    # tick at the same moment has only the save to answer for.
    await _tick(running, "2027-01-05T11:00:00")
    world.asana.act(world.asana_people["bo"]).set_due(task, "2027-01-06")
    await eventually(lambda: _due_on(running, task, "2027-01-06"))
    assert await _tick(running, "2027-01-05T11:00:00") == 1  # the same moment: armed by the save, not by time
    assert [m for m in _nags(running, thread) if "is due Wed 06 Jan" in m.text]

    world.asana.act(world.asana_people["bo"]).set_due(task, "2027-01-08")
    await eventually(lambda: _due_on(running, task, "2027-01-08"))
    await _tick(running, "2027-01-05T11:00:00")  # an 8h lead: Friday's reminder is Thursday's business
    assert not [m for m in _nags(running, thread) if "is due Fri 08 Jan" in m.text]
    longer = parse_policy(tomllib.loads(POLICY.replace('lead = "8h"', 'lead = "4d"')))
    restarted = nagger_for(bridge.store, asana=bridge.asana, slack=bridge.slack, clock=bridge.clock, policy=longer)
    assert await restarted.tick(at("2027-01-05T11:00:00")) == 1
    assert [m for m in _nags(running, thread) if "is due Fri 08 Jan" in m.text]


async def _due_on(running: Running, task: str, day: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    return tracked is not None and tracked.snapshot.get("due_on") == day
