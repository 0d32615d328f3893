"""The App Home: each person switches on (or off) a DM when a task is assigned to them in Asana."""

from __future__ import annotations

from typing import Any

from bridge.adapters import blocks
from bridge.domain.model import TaskGid
from tests.fixtures_bridge import Running
from tests.support import eventually


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
    await person.click_button(home, blocks.HOME_ASSIGNMENT_DMS)
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
    thread = (await running.bridge.store.get_tracked_task(TaskGid(first)))
    assert thread is not None
    await eventually(lambda: "assigned to Ana Lopez" in str(world.slack.thread(world.channel, thread.thread_ts)))
    assert _dms(running, "ana") == []

    cy = world.asana.act(world.asana_people["cy"])
    cy.assign(first, world.asana_people["cy"])  # taking it yourself needs no DM
    await eventually(lambda: "assigned to Cy Park" in str(world.slack.thread(world.channel, thread.thread_ts)))
    assert len(_dms(running, "cy")) == 1

    await _switch(running, "cy", "off")
    second = await _task(running, "Renew the certificate")
    bo.assign(second, world.asana_people["cy"])
    tracked = await running.bridge.store.get_tracked_task(TaskGid(second))
    assert tracked is not None
    await eventually(lambda: "assigned to Cy Park" in str(world.slack.thread(world.channel, tracked.thread_ts)))
    assert len(_dms(running, "cy")) == 1


async def test_someone_without_an_asana_account_is_told_why_it_cannot_be_switched_on(running: Running) -> None:
    world = running.world
    world.slack.add_user("dee", "dee@elsewhere.example")
    await running.user("dee").open_home()
    home = await eventually(lambda: world.slack.home("dee"))
    await running.user("dee").click_button(home, blocks.HOME_ASSIGNMENT_DMS)
    await eventually(lambda: "your Slack email matches nobody" in _home_text(running, "dee"))
    assert "assigned to me in Asana:* off" in _home_text(running, "dee")
