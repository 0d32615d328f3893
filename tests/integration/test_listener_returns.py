"""Bolt answers Slack as soon as a listener returns (process_before_response), so no listener may wait on Slack or
Asana after its ack: each hands that work to the background. Here Slack or Asana is held back, and the answer to
Slack must already be there while the work it started is still waiting."""

from __future__ import annotations

from typing import Any

from tests.fixtures_bridge import Running
from tests.support import eventually

HELD = 2.0  # seconds Slack or Asana keeps the call waiting: longer than any ack, shorter than the tests' patience


async def test_the_shortcut_is_answered_before_its_form_opens(running: Running) -> None:
    world = running.world
    await running.link()
    ana = running.user("ana")
    message = await running.user("bo").post_message(world.channel, "Please look at the import")
    assert message.ts is not None
    world.slack.faults.add("views.open", delay=HELD)

    delivery = await ana.message_shortcut("create_task", world.channel, message.ts)

    assert delivery.status == 200
    assert not world.slack.open_views("ana")  # the ack did not wait for views.open
    await eventually(lambda: world.slack.open_views("ana"))


async def test_a_task_command_is_answered_before_asana_makes_the_task(running: Running) -> None:
    world = running.world
    await running.link()
    world.asana.faults.add(method="POST", path_pattern=r"^/tasks$", delay=HELD)

    delivery = await running.user("ana").slash_command("/task", "Renew the certificate", world.channel)

    assert delivery.status == 200 and "Renew the certificate" in delivery.body
    assert not _named(running, "Renew the certificate")
    await eventually(lambda: _named(running, "Renew the certificate"))


async def test_a_message_event_is_answered_before_its_capture(running: Running) -> None:
    world = running.world
    await running.link("all")
    world.asana.faults.add(method="POST", path_pattern=r"^/tasks$", delay=HELD)

    await running.user("bo").post_message(world.channel, "The export button fails")

    # post_message returns once the bridge has answered the event; the task comes after.
    assert not _named(running, "The export button fails")
    await eventually(lambda: _named(running, "The export button fails"))


def _named(running: Running, name: str) -> list[Any]:
    return [task for task in running.asana_tasks() if task.name == name]
