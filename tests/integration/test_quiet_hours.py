"""Every @mention the bridge makes on its own waits for that person's working hours (issue #18): their Slack
timezone (users.info `tz`), their pool `hours`, and never while they are out of office (Asana ooo_entries). The
nag is still decided on the team's calendar; only its sending waits ("not now, retry at T")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bridge.domain.model import TaskGid
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.integration.test_nags import _nags, _task
from tests.support import eventually

POLICY = """
[business_hours]
timezone = "America/New_York"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[triage]
section = "Needs triage"
grace = "0m"
repeat = "1d"
triager = "cy@example.com"

[reminders]
lead = "1d"
overdue_repeat = "1d"

[routing]
reassign_after = "1d"
pool = [{ email = "bo@example.com", skills = ["oauth"], hours = "09:00-17:00" }]
"""


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _tick(running: Running, now: str) -> None:
    await running.bridge.nag_scheduler.tick(utc(now))
    await eventually(lambda: running.bridge.background.pending == 0)


def _said(running: Running, thread: str, words: str) -> list[str]:
    return [m.text for m in _nags(running, thread) if words in m.text]


async def test_a_reminder_waits_for_the_assignees_morning_in_tokyo(running: Running) -> None:
    world = running.world
    world.move("bo", "Asia/Tokyo")
    bo = world.slack_people["bo"]
    _, thread = await _task(running, f"Rotate the keys <@{bo}> due:2027-01-06")
    # Tue 10:00 in New York (the reminder is due on the team's calendar) is midnight in Tokyo: not now.
    await _tick(running, "2027-01-05T15:00:00")
    assert _said(running, thread, "is due Wed 06 Jan") == []
    await _tick(running, "2027-01-05T23:30:00")  # 08:30 in Tokyo
    assert _said(running, thread, "is due Wed 06 Jan") == []
    # 09:00 in Tokyo: sent, though New York's day is over by then.
    await _tick(running, "2027-01-06T00:00:00")
    upcoming = _said(running, thread, "is due Wed 06 Jan")
    assert len(upcoming) == 1 and f"<@{bo}>" in upcoming[0]
    await _tick(running, "2027-01-06T00:30:00")
    assert len(_said(running, thread, "is due Wed 06 Jan")) == 1  # once


async def test_a_reminder_waiting_for_a_morning_still_goes_when_its_task_was_judged_meanwhile(
    running: Running,
) -> None:
    """A task judged again while its reminder waits for the assignee's hours (a change in Asana armed it; a triage
    repeat falling due did the same, depending on the hour the task was made): the reminder still goes then."""
    world = running.world
    world.move("bo", "Asia/Tokyo")
    bo = world.slack_people["bo"]
    task, thread = await _task(running, f"Rotate the keys <@{bo}> due:2027-01-06")
    await _tick(running, "2027-01-05T15:00:00")  # midnight in Tokyo: the reminder waits for 09:00 there
    assert _said(running, thread, "is due Wed 06 Jan") == []
    world.asana.act(world.asana_people["ana"]).rename(task, "Rotate the API keys")
    await eventually(lambda: _named(running, task, "Rotate the API keys"))
    await _tick(running, "2027-01-05T23:30:00")  # judged again (it changed), still 08:30 in Tokyo
    assert _said(running, thread, "is due Wed 06 Jan") == []
    await _tick(running, "2027-01-06T00:00:00")  # 09:00 in Tokyo
    assert len(_said(running, thread, "is due Wed 06 Jan")) == 1


async def _named(running: Running, task: str, name: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(TaskGid(task))
    return tracked is not None and tracked.snapshot.get("name") == name


async def test_an_out_of_office_triager_is_not_pinged_until_back(running: Running) -> None:
    world = running.world
    cy = world.slack_people["cy"]
    world.asana.add_ooo_entry(world.asana_people["cy"], date(2027, 1, 4), date(2027, 1, 5), world.workspace)
    _, thread = await _task(running, "Where is the staging database")
    await _tick(running, "2027-01-05T15:00:00")  # Tue 10:00 in New York: Cy is away until Wednesday
    assert _said(running, thread, "waiting for triage") == []
    await _tick(running, "2027-01-06T13:59:00")  # Wed 08:59: not yet at work
    assert _said(running, thread, "waiting for triage") == []
    await _tick(running, "2027-01-06T14:00:00")  # Wed 09:00
    triage = _said(running, thread, "waiting for triage")
    assert len(triage) == 1 and f"<@{cy}>" in triage[0]


async def test_the_routing_ping_waits_for_the_holders_hours_in_berlin(running: Running) -> None:
    world = running.world
    world.move("bo", "Europe/Berlin")
    task = await running.slash_task("OAuth login loops p2", by="ana", title="OAuth login loops")
    await _tick(running, "2027-01-06T14:00:00")  # Wed 09:00 in New York, 15:00 in Berlin: routed to Bo
    assert world.asana.store.tasks[task.task_gid].assignee == world.asana_people["bo"]

    def pings() -> list[str]:
        thread = world.slack.thread(world.channel, task.thread_ts)
        return [m.text for m in thread if m.bot_id and m.text.startswith("⏳")]

    # The ping is due at 3/4 of a working day of New York's calendar (15:00 there), when it is 21:00 in Berlin.
    await _tick(running, "2027-01-06T20:00:00")
    await _tick(running, "2027-01-07T07:59:00")  # Thu 08:59 in Berlin
    assert pings() == []
    await _tick(running, "2027-01-07T08:00:00")  # Thu 09:00 in Berlin (03:00 in New York)
    assert len(pings()) == 1 and f"<@{world.slack_people['bo']}>" in pings()[0]


async def test_a_task_routed_to_someone_off_work_names_them_without_a_ping(running: Running) -> None:
    world = running.world
    world.move("bo", "Europe/Berlin")
    task = await running.slash_task("OAuth tokens expire early p2", by="ana", title="OAuth tokens expire early")
    await _tick(running, "2027-01-06T18:00:00")  # Wed 13:00 in New York, 19:00 in Berlin: Bo gets it, unpinged
    assert world.asana.store.tasks[task.task_gid].assignee == world.asana_people["bo"]
    thread = world.slack.thread(world.channel, task.thread_ts)
    [routed] = [m.text for m in thread if m.bot_id and m.text.startswith("🧭 Assigned")]
    assert routed.startswith("🧭 Assigned to Bo Chen: matches “oauth”, fewest open tasks (0).")  # named, not pinged
    assert "<@" not in routed
