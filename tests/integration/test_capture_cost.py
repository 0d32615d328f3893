"""What a capture costs in Asana calls once caches are warm, and combined projects (multi-homing)."""

from __future__ import annotations

import pytest

from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import eventually


@pytest.fixture
def combined(world: World) -> str:
    return world.asana.add_project(world.workspace, "All Developer Questions", ("Inbox",), members=[world.bridge_user])


@pytest.fixture
def policy(world: World, combined: str) -> str:
    return f"""
[sla]
P1 = {{ first_response = "4h", resolution = "2d" }}

[capture]
combined_projects = ["{combined}"]
"""


# The Events API poller and its re-crawl of a project run on their own schedule, whatever is captured.
BACKGROUND = ("GET /events", "GET /tasks")


def _writes_and_reads(running: Running, since: int) -> list[str]:
    calls = [f"{r.method} {r.path}" for r in running.world.asana.requests[since:]]
    return [call for call in calls if call not in BACKGROUND]


async def test_warm_captures_cost_create_subtask_and_add_project_only(running: Running, combined: str) -> None:
    world = running.world
    ana, bo = running.user("ana"), running.user("bo")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked" in m.text])
    await ana.slash_command("/asana", "capture all", world.channel)
    await bo.post_message(world.channel, "Warm-up question")  # fills the Slack→Asana people cache
    await eventually(lambda: [t for t in running.asana_tasks() if t.name == "Warm-up question"])
    await eventually(lambda: any(r.path.endswith("/addProject") for r in world.asana.requests))

    before = len(world.asana.requests)
    await bo.post_message(world.channel, "Measured question")
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == "Measured question"]))[0]
    await eventually(lambda: combined in task.projects())
    calls = _writes_and_reads(running, before)
    assert calls == ["POST /tasks", f"POST /tasks/{task.gid}/subtasks", f"POST /tasks/{task.gid}/addProject"]
    assert world.project in task.projects() and combined in task.projects()


async def test_task_command_with_priority_costs_one_create_and_its_link_back_when_warm(running: Running) -> None:
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked" in m.text])
    await ana.slash_command("/task", "Warm p1", world.channel)
    warm = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == "Warm"]))[0]
    await eventually(lambda: "From Slack: https://" in warm.notes)
    await eventually(lambda: any(r.path.endswith("/addProject") for r in world.asana.requests))
    before = len(world.asana.requests)
    ack = await ana.slash_command("/task", "Measured p1", world.channel)
    assert ack.status == 200 and ack.elapsed < 3.0
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == "Measured"]))[0]
    await eventually(lambda: len(task.projects()) == 2 and "From Slack: https://" in task.notes)
    calls = _writes_and_reads(running, before)
    # The task, its "Acknowledge" subtask, the combined project, then its description's link to its post in Slack
    # (the post needs the task, so the link comes after).
    assert calls == [
        "POST /tasks",
        f"POST /tasks/{task.gid}/subtasks",
        f"POST /tasks/{task.gid}/addProject",
        f"PUT /tasks/{task.gid}",
    ]
