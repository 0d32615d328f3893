"""/asana link and /task end to end in one process: real HTTP, real slack_sdk and asana clients, both emulators."""

from __future__ import annotations

import time

from bridge.domain.model import ChannelId, ProjectGid, TaskGid, TeamId, WebhookStatus
from tests.fixtures_bridge import Running
from tests.support import eventually


async def _link(running: Running) -> None:
    world = running.world
    answer = await running.user("ana").slash_command(
        "/asana", f"link https://app.asana.com/0/{world.project}/list", world.channel
    )
    assert answer.status == 200
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked this channel" in m.text])


async def test_link_registers_the_webhook_through_the_handshake(running: Running) -> None:
    world = running.world
    await _link(running)
    hooks = world.asana.webhooks
    assert len(hooks) == 1 and hooks[0].target.startswith(running.url + "/asana/webhooks/")
    registrations = await running.bridge.store.webhooks_for_project(ProjectGid(world.project))
    assert [r.status for r in registrations] == [WebhookStatus.ACTIVE]
    assert registrations[0].webhook_gid == hooks[0].gid and registrations[0].secret
    link = await running.bridge.store.get_link(TeamId(world.slack.team.team_id), ChannelId(world.channel))
    assert link is not None and link.project_name == "Developer Questions"
    assert link.triage_section_gid == world.asana.section_gid(world.project, "Needs triage")
    assert link.priority_field_gid == world.priority_field


async def test_relinking_is_idempotent(running: Running) -> None:
    await _link(running)
    await _link(running)
    assert len(running.world.asana.webhooks) == 1


async def test_task_command_creates_the_task_and_posts_its_thread(running: Running) -> None:
    world = running.world
    await _link(running)
    bo = running.slack.mention("bo", escaped=True)
    started = time.monotonic()
    ack = await running.user("ana").slash_command(
        "/task", f"Webhook retries & backoff {bo} due:2027-12-03 p1", world.channel
    )
    assert ack.status == 200 and time.monotonic() - started < 3
    task = await eventually(lambda: next(iter(running.asana_tasks()), None))
    assert task.name == "Webhook retries & backoff"
    assert task.assignee == world.asana_people["bo"]
    assert world.asana_people["ana"] in task.followers
    assert str(task.due_on) == "2027-12-03"
    assert task.custom_values[world.priority_field] == world.asana.option_gid(world.priority_field, "P1")
    post = await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Webhook retries" in m.text])
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    assert tracked.thread_ts == post[0].ts


async def test_task_in_an_unlinked_channel_says_how_to_link(running: Running) -> None:
    world = running.world
    ack = await running.user("ana").slash_command("/task", "Something", world.channel)
    assert "isn't linked" in ack.body and "/asana link" in ack.body
    assert not running.asana_tasks()


async def test_task_typo_is_answered_in_the_ack_and_nothing_is_created(running: Running) -> None:
    world = running.world
    await _link(running)
    ack = await running.user("ana").slash_command("/task", "Fix it due:someday", world.channel)
    assert ack.status == 200 and "due date" in ack.body
    assert not running.asana_tasks()


async def test_link_to_an_invisible_project_explains_and_saves_nothing(running: Running) -> None:
    world = running.world
    hidden = world.asana.add_project(world.workspace, "Secret", ("Untitled",), public=False, members=[])
    await running.user("ana").slash_command("/asana", f"link {hidden}", world.channel)
    await eventually(lambda: [n for n in world.slack.ephemerals("ana") if "can't see the Asana project" in n.text])
    assert await running.bridge.store.get_link(TeamId(world.slack.team.team_id), ChannelId(world.channel)) is None


async def test_status_and_unlink(running: Running) -> None:
    world = running.world
    ana = running.user("ana")
    ack = await ana.slash_command("/asana", "status", world.channel)
    assert ack.status == 200
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "isn't linked" in e.text])
    await _link(running)
    await ana.slash_command("/asana", "status", world.channel)
    status = await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "is linked to" in e.text])
    assert "Developer Questions" in status[-1].text and "webhook registered" in status[-1].text
    await ana.slash_command("/asana", "unlink", world.channel)
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Unlinked" in m.text])
    assert await running.bridge.store.get_link(TeamId(world.slack.team.team_id), ChannelId(world.channel)) is None
    assert not world.asana.webhooks  # the project's webhook went with its last link
    ack = await ana.slash_command("/task", "After unlink", world.channel)
    assert "isn't linked" in ack.body
