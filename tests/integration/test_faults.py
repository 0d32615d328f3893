"""Every flow under faults (issue #8): with a fifth of Asana and Slack calls failing in every way they fail (429 with
and without Retry-After, 5xx, dropped connections, timeouts whose request Asana still carries out, Slack posts made
but answered 500), captures, relays, routing and nags each happen once: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bridge.domain.model import TaskGid, TrackedTask
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import ALWAYS_OPEN, eventually

POLICY = (
    ALWAYS_OPEN
    + """
[capture]
acknowledge = false

[routing]
pool = [
  { email = "ana@example.com", skills = ["webhooks"] },
  { email = "bo@example.com", skills = ["oauth"] },
]
"""
)
COMMANDS = 4
MESSAGES = 2


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


@pytest.fixture
def bridge_env(world: World) -> dict[str, str]:
    return {"ASANA_TIMEOUT_SECONDS": "1"}  # an Asana slower than this has timed out, but may still do the work


@pytest.fixture
def retry_delays(world: World) -> tuple[float, ...]:
    # As in production (5 s, 20 s…), a capture waits longer before trying again than Asana takes to finish a
    # request whose answer was lost: the retry then finds the task the first attempt made.
    return (2.5, 3.0, 5.0, 8.0)


def _faults(world: World) -> None:
    asana, slack = world.asana.faults, world.slack.faults
    asana.add(status=429, retry_after=0, probability=0.05, times=None)
    asana.add(status=429, probability=0.03, times=None)  # no Retry-After: the bridge backs off on its own
    asana.add(status=503, probability=0.04, times=None)
    asana.add(drop_connection=True, probability=0.04, times=None)
    asana.add(delay=1.5, probability=0.04, times=None)  # the client gives up; Asana carries the request out
    asana.add(method="POST", path_pattern=r"^/tasks$", delay=1.5, times=1)  # so with the first /task's task
    slack.add("chat.postMessage", status=500, probability=0.08, times=None)
    slack.add("chat.postMessage", status=500, processed=True, probability=0.06, times=None)
    slack.add("chat.postMessage", status=429, retry_after=1, probability=0.06, times=None)


def _bot_lines(running: Running, thread: str) -> list[str]:
    world = running.world
    return [line for m in world.slack.thread(world.channel, thread)[1:] if m.bot_id for line in m.text.splitlines()]


async def _tracked(running: Running, name: str) -> TrackedTask:
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == name], timeout=60))[0]
    return await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)), timeout=60)


async def test_every_flow_happens_once_with_a_fifth_of_calls_failing(running: Running) -> None:
    world = running.world
    ana, bo = running.user("ana"), running.user("bo")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await ana.slash_command("/asana", "capture all", world.channel)
    _faults(world)

    names = [f"Fault OAuth question {n} due:today p2" for n in range(COMMANDS)]
    for text in names:
        await ana.slash_command("/task", text, world.channel)
    for n in range(MESSAGES):
        await bo.post_message(world.channel, f"Fault webhooks message {n}")
    titles = [t.split(" due:")[0] for t in names] + [f"Fault webhooks message {n}" for n in range(MESSAGES)]
    tracked = [await _tracked(running, title) for title in titles]

    # Relay: a change and a comment per task, told once each.
    people = world.asana.act(world.asana_people["cy"])
    for task in tracked:
        people.comment(task.task_gid, f"Looking at {task.name}")
    await eventually(
        lambda: all(any(f"Looking at {t.name}" in line for line in _bot_lines(running, t.thread_ts)) for t in tracked),
        timeout=90,
    )

    # Routing and nags: ticks until every task is routed and every command's due-today reminder is out.
    def routed(t: TrackedTask) -> bool:
        return any(line.startswith("🧭 Assigned") for line in _bot_lines(running, t.thread_ts))

    def reminded(t: TrackedTask) -> bool:
        return any("It is due today" in line for line in _bot_lines(running, t.thread_ts))

    async def ticked() -> bool:
        await running.bridge.nag_scheduler.tick()
        await asyncio.sleep(0.2)  # the scheduler's own pace, shortened; not a wait for a condition
        commands = tracked[:COMMANDS]  # the messages wait in triage for a priority: neither routed nor due
        return all(routed(t) for t in commands) and all(reminded(t) for t in commands)

    await eventually(ticked, timeout=120)
    await running.bridge.nag_scheduler.tick()  # one more: nothing is told twice
    await eventually(lambda: running.bridge.background.pending == 0, timeout=30)

    world.asana.faults.clear()
    world.slack.faults.clear()
    names_in_asana = Counter(t.name for t in running.asana_tasks() if t.name.startswith("Fault") and not t.parent)
    assert names_in_asana == Counter(titles), "each capture made one task"
    roots = [m for m in world.slack.messages(world.channel) if m.bot_id and "Fault OAuth question" in m.text]
    assert len(roots) == COMMANDS, [m.text for m in roots]
    for task in tracked:
        lines = _bot_lines(running, task.thread_ts)
        said = f"{task.name}: {lines}"
        assert sum(f"Looking at {task.name}" in line for line in lines) == 1, said
        command = task in tracked[:COMMANDS]
        assert sum(line.startswith("🧭 Assigned") for line in lines) == int(command), said
        assert sum("It is due today" in line for line in lines) == int(command), said
        assert (world.asana.store.tasks[task.task_gid].assignee is not None) == command, said
