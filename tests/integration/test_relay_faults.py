"""With a fifth of Asana and Slack calls failing (429 with Retry-After, 5xx, dropped connections, answers lost
after Slack posted), every change is still told exactly once."""

from __future__ import annotations

from functools import partial

from bridge.domain.model import TaskGid
from bridge.sandbox.asana.model import Task
from tests.fixtures_bridge import Running
from tests.support import eventually

TASKS = 4


def _replies(running: Running, thread: str) -> list[str]:
    world = running.world
    return [m.text for m in world.slack.thread(world.channel, thread) if m.ts != thread and m.bot_id]


async def test_twenty_percent_failures_still_tell_each_change_once(running: Running) -> None:
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    threads: dict[str, str] = {}
    for index in range(TASKS):
        await ana.slash_command("/task", f"Fault test {index}", world.channel)

    def made() -> list[Task] | None:
        tasks = [t for t in running.asana_tasks() if t.name.startswith("Fault test")]
        return tasks if len(tasks) == TASKS else None

    tasks = await eventually(made, timeout=15)
    for task in tasks:
        tracked = await eventually(partial(running.bridge.store.get_tracked_task, TaskGid(task.gid)))
        threads[task.gid] = tracked.thread_ts
    await world.asana.deliveries_idle(timeout=10)

    # From here on a fifth of the bridge's reads and posts fail, in every way the APIs fail.
    world.asana.faults.add(
        method="GET", path_pattern=r"^/tasks/\d+$", status=429, retry_after=0, probability=0.1, times=None
    )
    world.asana.faults.add(
        method="GET", path_pattern=r"^/(tasks|stories)/\d+$", status=503, probability=0.05, times=None
    )
    world.asana.faults.add(
        method="GET", path_pattern=r"^/stories/\d+$", drop_connection=True, probability=0.05, times=None
    )
    world.slack.faults.add("chat.postMessage", status=500, probability=0.1, times=None)
    world.slack.faults.add("chat.postMessage", status=500, processed=True, probability=0.05, times=None)
    world.slack.faults.add("chat.postMessage", status=429, retry_after=1, probability=0.05, times=None)

    bo = world.asana.act(world.asana_people["bo"])
    for task in tasks:
        bo.complete(task.gid)
        bo.comment(task.gid, f"Closing {task.name}")
    await eventually(
        lambda: all(
            any("✅ completed" in r for r in _replies(running, t)) and any("Closing" in r for r in _replies(running, t))
            for t in threads.values()
        ),
        timeout=60,
    )
    await eventually(lambda: _drained(running), timeout=30)
    for gid, thread in threads.items():
        replies = _replies(running, thread)
        assert sum("✅ completed" in r for r in replies) == 1, (gid, replies)
        assert sum("Closing" in r for r in replies) == 1, (gid, replies)


async def _drained(running: Running) -> bool:
    counts = await running.bridge.store.inbox_counts()
    return counts.get("pending", 0) == counts.get("landed", 0) == 0


async def test_a_post_slack_made_but_whose_answer_was_lost_is_not_made_twice(running: Running) -> None:
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await ana.slash_command("/task", "Lost answer", world.channel)
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == "Lost answer"]))[0]
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    await world.asana.deliveries_idle(timeout=10)
    fault = world.slack.faults.add("chat.postMessage", status=500, processed=True, times=1)
    world.asana.act(world.asana_people["bo"]).complete(task.gid)
    await eventually(lambda: any("✅ completed" in r for r in _replies(running, tracked.thread_ts)))
    await eventually(lambda: _drained(running), timeout=30)
    assert fault.hits == 1
    assert sum("✅ completed" in r for r in _replies(running, tracked.thread_ts)) == 1
