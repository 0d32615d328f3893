"""The nag scheduler's index in the store (SQLite and PostgreSQL): a save arms a task at once, a tick arms it only as
of the revision it read, pages come earliest first, and a link's tasks are armed again when its rules change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.adapters.store import SqlStore
from bridge.domain.model import (
    Arm,
    ChannelId,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
)

pytest_plugins = ["tests.fixtures_db"]

NOW = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
P = ProjectGid("P1")


def task(gid: str, channel: str = "C1", **changes: Any) -> TrackedTask:
    values: dict[str, Any] = {
        "task_gid": TaskGid(gid),
        "project_gid": P,
        "team_id": TeamId("T1"),
        "channel_id": ChannelId(channel),
        "thread_ts": MessageTs(f"1700000000.{gid}"),
        "permalink_url": f"https://app.asana.com/0/P1/{gid}",
        "name": f"Task {gid}",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return TrackedTask(**(values | changes))


async def due(store: SqlStore, now: datetime) -> list[str]:
    return [d.task.task_gid for d in await store.tasks_to_judge(now=now, limit=100)]


async def test_a_save_arms_a_task_at_once_and_wins_over_a_tick_that_read_it_before(store: SqlStore) -> None:
    await store.save_tracked_task(task("1"))
    [read] = await store.tasks_to_judge(now=NOW)
    assert read.task == task("1")
    # The relay saves the task while a tick judges it: the tick's moment is not kept, the task stays due.
    await store.save_tracked_task(task("1", name="Renamed"))
    await store.arm_tasks([Arm(TaskGid("1"), read.revision, NOW + HOUR)])
    [again] = await store.tasks_to_judge(now=NOW)
    assert again.task.name == "Renamed" and again.revision > read.revision
    await store.arm_tasks([Arm(TaskGid("1"), again.revision, NOW + HOUR)])
    assert await due(store, NOW) == []
    assert await due(store, NOW + HOUR) == ["1"]
    await store.arm_tasks([Arm(TaskGid("1"), again.revision, None)])  # never, unless it changes
    assert await due(store, NOW + timedelta(days=3650)) == []
    # A first response changes what is due (the SLA warning): it arms the task too.
    assert await store.record_first_response(TaskGid("1"), at=NOW, responder=SlackUserId("U2"))
    assert await due(store, NOW) == ["1"]


async def test_tasks_come_earliest_first_page_after_page_and_never_completed_ones(store: SqlStore) -> None:
    await store.add_tracked_tasks([task(str(n), completed=n == 3) for n in range(6)])
    read = await store.tasks_to_judge(now=NOW, limit=100)
    assert [d.task.task_gid for d in read] == ["0", "1", "2", "4", "5"]
    # Moments in the reverse order of the gids; "5" never.
    moments = {"0": NOW, "1": NOW - HOUR, "2": NOW - 2 * HOUR, "4": NOW - 2 * HOUR, "5": None}
    await store.arm_tasks([Arm(d.task.task_gid, d.revision, moments[d.task.task_gid]) for d in read])
    first = await store.tasks_to_judge(now=NOW, limit=2)
    assert [(d.task.task_gid, d.check_at) for d in first] == [("2", NOW - 2 * HOUR), ("4", NOW - 2 * HOUR)]
    rest = await store.tasks_to_judge(now=NOW, after=(first[-1].check_at, first[-1].task.task_gid), limit=2)
    assert [d.task.task_gid for d in rest] == ["1", "0"]
    assert await store.tasks_to_judge(now=NOW, after=(rest[-1].check_at, rest[-1].task.task_gid)) == []


async def test_a_change_of_a_links_rules_arms_all_its_open_tasks(store: SqlStore) -> None:
    await store.add_tracked_tasks([task("1"), task("2", completed=True), task("3", channel="C2")])
    read = await store.tasks_to_judge(now=NOW)
    await store.arm_tasks([Arm(d.task.task_gid, d.revision, None) for d in read])
    assert await store.nag_fingerprints() == {}
    await store.rearm_link(P, "C1", "digest-1")
    assert await due(store, NOW) == ["1"]
    assert await store.nag_fingerprints() == {(P, "C1"): "digest-1"}
    await store.rearm_link(P, "C1", "digest-2")
    assert await store.nag_fingerprints() == {(P, "C1"): "digest-2"}
    await store.rearm_link(P, "C1", None)  # unlinked: forgotten, so that linking again arms its tasks
    assert await store.nag_fingerprints() == {}
    [one] = await store.tasks_to_judge(now=NOW)
    await store.save_tracked_task(replace(one.task, completed=True))
    assert await due(store, NOW) == []
