"""Combined projects respect Asana's 20-projects-per-task limit, and say so in the log."""

from __future__ import annotations

import logging

import pytest

from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import eventually


@pytest.fixture
def combined(world: World) -> list[str]:
    return [
        world.asana.add_project(world.workspace, f"Combined {index}", ("Inbox",), members=[world.bridge_user])
        for index in range(21)
    ]


@pytest.fixture
def policy(world: World, combined: list[str]) -> str:
    return "[capture]\ncombined_projects = [" + ", ".join(f'"{gid}"' for gid in combined) + "]\n"


async def test_a_task_is_added_to_at_most_twenty_projects(
    running: Running, combined: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    world = running.world
    ana = running.user("ana")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked" in m.text])
    with caplog.at_level(logging.WARNING, logger="bridge.services.capture"):
        await ana.slash_command("/task", "Everywhere at once", world.channel)
        await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Everywhere" in m.text])
    task = next(t for t in running.asana_tasks() if t.name == "Everywhere at once")
    assert len(task.projects()) == 20
    assert set(task.projects()) == {world.project, *combined[:19]}
    assert any("Asana allows 20 projects per task" in r.getMessage() for r in caplog.records)
    statuses = [r.status for r in world.asana.calls("POST", r"/addProject$")]
    assert statuses == [200] * 19  # it never asked for a 21st
