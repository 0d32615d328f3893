"""A message capture cut off by a crash (claimed, no task recorded) is finished later: once, never twice."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from bridge.domain.model import Capture, ChannelId, MessageTs, TeamId
from bridge.entrypoints.workers import CaptureSweeper
from tests.fixtures_bridge import Running
from tests.support import eventually


async def _claim_as_if_cut_off(running: Running, ts: str) -> None:
    world = running.world
    long_ago = running.bridge.clock.now() - timedelta(hours=1)
    claimed = await running.bridge.store.claim_capture(
        Capture(TeamId(world.slack.team.team_id), ChannelId(world.channel), MessageTs(ts), None, long_ago)
    )
    assert claimed


async def test_cut_off_captures_are_finished_once(running: Running) -> None:
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    bo = running.user("bo")
    # 1) cut off before Asana was asked: the sweeper makes the task.
    lost = await bo.post_message(world.channel, "Question lost in a crash")
    assert lost.ts is not None
    await _claim_as_if_cut_off(running, lost.ts)
    # 2) cut off after Asana made the task but before the bridge recorded it: the sweeper finds it by its marker.
    made = await bo.post_message(world.channel, "Question whose task exists")
    assert made.ts is not None
    await _claim_as_if_cut_off(running, made.ts)
    marker = f"[slack:{world.slack.team.team_id}/{world.channel}/{made.ts}]"
    existing = world.asana.act(world.bridge_user).create_task(
        "Question whose task exists", project=world.project, notes=f"text\n\n{marker}"
    )

    # The claims above are an hour old: past the 20 minutes a capture's own retries may take.
    sweeper = CaptureSweeper(
        store=running.bridge.store,
        capture=running.bridge.capture,
        clock=running.bridge.clock,
        after=timedelta(minutes=20),
    )
    assert await sweeper.sweep() == 2
    assert await sweeper.sweep() == 0  # nothing left to finish

    lost_tasks = [t for t in running.asana_tasks() if t.name == "Question lost in a crash"]
    assert len(lost_tasks) == 1
    made_tasks = [t for t in running.asana_tasks() if t.name == "Question whose task exists"]
    assert [t.gid for t in made_tasks] == [existing]
    for ts in (lost.ts, made.ts):
        await eventually(partial(running.bot_replies, ts))
        record = await running.bridge.store.get_capture(
            TeamId(world.slack.team.team_id), ChannelId(world.channel), MessageTs(ts)
        )
        assert record is not None and record.task_gid is not None
