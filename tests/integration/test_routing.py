"""Routing end to end (DESIGN §2.4, issue #6): a scheduler tick assigns unassigned tasks in Asana by skill and load,
skips people out of office (Asana ooo_entries) or at capacity, says why in the thread and in an Asana comment, pings
the holder before moving a task on, reassigns after the window, and leaves tasks a person assigned alone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

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
P0 = { first_response = "1h", resolution = "4h" }
P2 = { first_response = "1d", resolution = "5d" }

[triage]
triager = "cy@example.com"

[capture]
acknowledge = false

[routing]
reassign_after = "2h"
pool = [
  { email = "ana@example.com", skills = ["webhooks", "python"], capacity = 2 },
  { email = "bo@example.com", skills = ["oauth", "node"], capacity = 2 },
]
followers = { security = ["cy@example.com"] }
"""
)


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


# ---- helpers -------------------------------------------------------------------------------------------------------


async def _task(running: Running, command: str, *, by: str = "dee") -> TrackedTask:
    title = command.split(" <@")[0].removesuffix(" p2").removesuffix(" p0")
    tracked = await running.slash_task(command, by=by, title=title)
    # The task's link back to Slack (a PUT written after its thread, in the background) is in before a test counts
    # the calls a tick makes: under load it came in the middle of them.
    await eventually(lambda: running.bridge.background.pending == 0)
    return tracked


@pytest.fixture(autouse=True)
def dee(world: World) -> None:
    """Dee asks the questions: a Slack and Asana user outside the routing pool."""
    world.asana_people["dee"] = world.asana.add_user("Dee Moss", "dee@example.com", [world.workspace])
    world.slack_people["dee"] = world.slack.add_user("dee", "dee@example.com")
    world.slack.workspace().channel(world.channel).members.append(world.slack_people["dee"])


async def _tick(running: Running, later: timedelta = timedelta()) -> datetime:
    now = running.bridge.clock.now() + later
    await running.bridge.nag_scheduler.tick(now)
    await eventually(lambda: running.bridge.background.pending == 0)
    return now


def _assignee(running: Running, task: TrackedTask) -> str | None:
    return running.world.asana.store.tasks[task.task_gid].assignee


def _lines(running: Running, task: TrackedTask, start: str) -> list[str]:
    world = running.world
    return [m.text for m in world.slack.thread(world.channel, task.thread_ts) if m.bot_id and m.text.startswith(start)]


MOVES_ON = re.compile(r" If nobody acts by \w{3} \d\d \w{3} \d\d:\d\d it moves on\.$")


def _reasons(lines: list[str]) -> list[str]:
    """Routing reasons without their deadline (which each must end with): "If nobody acts by … it moves on."."""
    assert all(MOVES_ON.search(line) for line in lines), lines
    return [MOVES_ON.sub("", line) for line in lines]


def _comments(running: Running, task: TrackedTask) -> list[str]:
    store = running.world.asana.store
    return [s.text for s in store.stories.values() if s.task == task.task_gid and s.kind == "comment"]


def _calls(running: Running, mark: int) -> list[tuple[str, str]]:
    """Asana calls since `mark`, leaving out the background listing, polling and webhook checks."""
    quiet = ("/events", "/webhooks")
    return [
        (r.method, r.path)
        for r in running.world.asana.requests[mark:]
        if r.path != "/tasks" and not r.path.startswith(quiet)
    ]


def _who(running: Running, name: str) -> str:
    return f"<@{running.world.slack_people[name]}>"


def _ping(running: Running, task: TrackedTask) -> Message:
    """The one routing ping of the task's thread that still has its buttons."""
    world = running.world
    pings = [
        m
        for m in world.slack.thread(world.channel, task.thread_ts)
        if any(b.get("block_id", "").startswith(wording.ROUTING_ACTIONS_BLOCK) for b in m.blocks or [])
    ]
    assert len(pings) == 1
    return pings[0]


def _out(running: Running, name: str, first: date, last: date) -> None:
    running.world.asana.add_ooo_entry(running.world.asana_people[name], first, last, running.world.workspace)


# ---- choosing ------------------------------------------------------------------------------------------------------


async def test_a_task_goes_to_the_skill_match_with_the_reason_in_thread_and_asana(running: Running) -> None:
    world = running.world
    task = await _task(running, "Fix the OAuth redirect p2")
    assert _assignee(running, task) is None

    mark = len(world.asana.requests)
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["bo"]
    said = f"🧭 Assigned to {_who(running, 'bo')}: matches “oauth”, fewest open tasks (0)."
    assert _reasons(_lines(running, task, "🧭 Assigned")) == [said]
    assert _reasons(_comments(running, task)) == ["🧭 Assigned to Bo Chen: matches “oauth”, fewest open tasks (0)."]
    cold = _calls(running, mark)
    # Cold: each pool member's Asana user and out-of-office entries once; then one update and one comment.
    # The new assignee's Asana user is read once more, to find them in Slack for the card (then they are known).
    assert sorted(cold) == sorted(
        [
            ("GET", "/users/ana@example.com"),
            ("GET", "/ooo_entries"),
            ("GET", "/users/bo@example.com"),
            ("GET", "/ooo_entries"),
            ("PUT", f"/tasks/{task.task_gid}"),
            ("GET", f"/users/{world.asana_people['bo']}"),  # to find Bo in Slack, for the task's card
            ("POST", f"/tasks/{task.task_gid}/stories"),
        ]
    )

    second = await _task(running, "Webhooks stopped arriving p2")
    mark = len(world.asana.requests)
    await _tick(running)
    assert _assignee(running, second) == world.asana_people["ana"]
    gid = second.task_gid
    assert _calls(running, mark) == [
        ("PUT", f"/tasks/{gid}"),
        ("GET", f"/users/{world.asana_people['ana']}"),
        ("POST", f"/tasks/{gid}/stories"),
    ]

    # One more tick routes nothing again and says nothing again.
    await _tick(running)
    assert len(_lines(running, task, "🧭 Assigned")) == 1 and len(_comments(running, second)) == 1


async def test_without_a_skill_match_the_least_loaded_person_gets_it(running: Running) -> None:
    world = running.world
    await _task(running, f"Review the numbers <@{world.slack_people['ana']}> p2")
    task = await _task(running, "Something nobody has a word for p2")
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["bo"]
    said = f"🧭 Assigned to {_who(running, 'bo')}: no skill matched, fewest open tasks (0)."
    assert _reasons(_lines(running, task, "🧭 Assigned")) == [said]


async def test_a_task_waiting_for_triage_is_routed_once_it_has_a_priority(running: Running) -> None:
    world = running.world
    task = await _task(running, "Python client crashes")
    await _tick(running)
    assert _assignee(running, task) is None and _lines(running, task, "🧭 Assigned") == []

    world.asana.act(world.asana_people["cy"]).set_enum(
        task.task_gid, world.priority_field, world.asana.option_gid(world.priority_field, "P2")
    )

    async def prioritised() -> bool:
        tracked = await running.bridge.store.get_tracked_task(task.task_gid)
        fields = (tracked.snapshot.get("custom_fields") or []) if tracked else []
        return any((f.get("enum_value") or {}).get("name") == "P2" for f in fields)

    await eventually(prioritised)
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["ana"]


async def test_a_task_made_in_asana_is_routed_too(running: Running) -> None:
    world = running.world
    await _task(running, "Anything at all p2")  # links the channel
    p2 = world.asana.option_gid(world.priority_field, "P2")
    gid = world.asana.act(world.asana_people["dee"]).create_task(
        "Python 3.13 wheels are missing", project=world.project, custom_fields={world.priority_field: p2}
    )

    async def followed() -> TrackedTask | None:
        return await running.bridge.store.get_tracked_task(TaskGid(gid))

    task = await eventually(followed)
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["ana"]
    # The linking task went to Ana (nobody matched, round robin); the skill still beats her load.
    said = f"🧭 Assigned to {_who(running, 'ana')}: matches “python”, 1 open task."
    assert _reasons(_lines(running, task, "🧭 Assigned")) == [said]


async def test_people_out_of_office_or_at_capacity_are_skipped_and_named(running: Running) -> None:
    world = running.world
    today = running.bridge.clock.now().date()
    _out(running, "bo", today - timedelta(days=1), today + timedelta(days=2))
    task = await _task(running, "OAuth scopes are wrong p2")
    await _tick(running)
    back = (today + timedelta(days=3)).strftime("%a %d %b")
    assert _assignee(running, task) == world.asana_people["ana"]
    assert _reasons(_comments(running, task)) == [
        "🧭 Assigned to Ana Lopez: no skill matched, fewest open tasks (0). "
        f"Skipped: Bo Chen (out of office until {back})."
    ]

    # Ana now holds one routed task; give her one more by hand: at capacity (2), she is skipped too.
    await _task(running, f"Prepare the demo <@{world.slack_people['ana']}> p2")
    third = await _task(running, "Webhooks retry too often p2")
    await _tick(running)
    assert _assignee(running, third) is None
    assert _lines(running, third, "🧭") == [
        f"🧭 {_who(running, 'cy')}: nobody could take “Webhooks retry too often”. Skipped: Ana Lopez "
        f"(at capacity); Bo Chen (out of office until {back}). It stays unassigned; I'll try again as "
        "people come back."  # the triager is asked; the people skipped are named, not pinged
    ]
    await _tick(running)
    assert len(_lines(running, third, "🧭")) == 1  # told once


async def test_a_keyword_rule_adds_followers(running: Running) -> None:
    world = running.world
    task = await _task(running, "Security hole in the node SDK p2")
    await _tick(running)
    asana_task = world.asana.store.tasks[task.task_gid]
    assert asana_task.assignee == world.asana_people["bo"]
    assert world.asana_people["cy"] in asana_task.followers


# ---- moving on -----------------------------------------------------------------------------------------------------


async def test_the_holder_is_pinged_then_the_task_moves_on_never_straight_back(running: Running) -> None:
    world = running.world
    task = await _task(running, "OAuth token refresh fails p2")
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["bo"]

    await _tick(running, timedelta(minutes=80))  # under 3/4 of the 2h window: nothing yet
    assert _lines(running, task, "⏳") == []
    await _tick(running, timedelta(minutes=95))
    ping = _ping(running, task)
    assert ping.text.startswith(f"⏳ {_who(running, 'bo')}, “OAuth token refresh fails” has waited for you since")
    assert _comments(running, task)[-1].startswith("Bo Chen: this task has waited for you")
    await _tick(running, timedelta(minutes=100))
    assert len(_lines(running, task, "⏳")) == 1  # pinged once

    await _tick(running, timedelta(minutes=130))
    assert _assignee(running, task) == world.asana_people["ana"]
    assert _reasons(_comments(running, task)[-1:]) == [
        "🧭 Reassigned to Ana Lopez: Bo Chen did not complete it within 2 working hours, no skill matched, fewest open "
        "tasks (0). Skipped: Bo Chen (had it already)."
    ]
    row = await running.bridge.store.get_routing(task.task_gid)
    assert row is not None and row.holders == ("bo@example.com", "ana@example.com")


async def test_keep_it_restarts_the_window_and_hand_it_back_moves_it_on(running: Running) -> None:
    world = running.world
    task = await _task(running, "Node SDK timeouts p2")
    await _tick(running)
    await _tick(running, timedelta(minutes=95))
    ping = _ping(running, task)

    # Only the holder (or the triager) may answer.
    await running.user("ana").click_button(ping, wording.ROUTING_KEEP)
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "only the person" in e.text])
    routing = await running.bridge.store.get_routing(task.task_gid)
    assert routing is not None and routing.pinged_at is not None

    await running.user("bo").click_button(ping, wording.ROUTING_KEEP)
    await eventually(lambda: "keeps it" in running.posted_text(ping.ts))
    await eventually(lambda: running.bridge.background.pending == 0)
    assert _reasons(_comments(running, task)[-1:]) == ["👍 Bo Chen keeps it."]
    # Without the click this tick would move the task on (the ping was 35 minutes ago); the window restarted at the
    # click instead, so the holder is only asked again.
    await _tick(running, timedelta(minutes=130))
    assert _assignee(running, task) == world.asana_people["bo"]
    assert _ping(running, task).ts != ping.ts  # the answered ping lost its buttons; this is a new one
    ping = _ping(running, task)
    await running.user("bo").click_button(ping, wording.ROUTING_RELEASE)
    await eventually(lambda: _assignee(running, task) == world.asana_people["ana"])
    await eventually(lambda: running.bridge.background.pending == 0)
    assert _comments(running, task)[-1].startswith("🧭 Reassigned to Ana Lopez: Bo Chen handed it back,")


async def test_a_persons_assignment_turns_routing_off_for_that_task(running: Running) -> None:
    world = running.world
    task = await _task(running, "OAuth consent screen typo p2")
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["bo"]

    world.asana.act(world.asana_people["cy"]).assign(task.task_gid, world.asana_people["cy"])

    async def reassigned() -> bool:
        tracked = await running.bridge.store.get_tracked_task(task.task_gid)
        return tracked is not None and (tracked.snapshot.get("assignee") or {}).get("gid") == world.asana_people["cy"]

    await eventually(reassigned)
    await _tick(running, timedelta(minutes=95))
    await _tick(running, timedelta(minutes=200))
    assert _assignee(running, task) == world.asana_people["cy"]
    assert _lines(running, task, "⏳") == []
    row = await running.bridge.store.get_routing(task.task_gid)
    assert row is not None and row.manual and row.closed


async def test_a_task_assigned_in_slack_is_never_routed(running: Running) -> None:
    world = running.world
    task = await _task(running, f"OAuth for the CLI <@{world.slack_people['cy']}> p2")
    await _tick(running)
    assert _assignee(running, task) == world.asana_people["cy"]
    assert await running.bridge.store.get_routing(task.task_gid) is None


# ---- /asana routing ------------------------------------------------------------------------------------------------


async def test_asana_routing_shows_the_pool_loads_and_who_is_out(running: Running) -> None:
    world = running.world
    today = running.bridge.clock.now().date()
    _out(running, "bo", today, today + timedelta(days=1))
    await _task(running, f"Prepare the demo <@{world.slack_people['ana']}> p2")
    await running.user("ana").slash_command("/asana", "routing", world.channel)
    said = await eventually(lambda: [e.text for e in world.slack.ephemerals("ana") if "Routing pool" in e.text])
    back = (today + timedelta(days=2)).strftime("%a %d %b")
    assert said == [
        "*Routing pool* (tasks move on after 2 working hours without being done):\n"
        "• Ana Lopez: 1/2 open\n"
        f"• Bo Chen: 0/2 open — out of office until {back}"
    ]
