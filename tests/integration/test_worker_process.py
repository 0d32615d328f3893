"""The report built in a process of its own (adapters/worker_process.py), on SQLite and PostgreSQL: the same report
as one built in the bridge's process, only the rows asked for sent back, saves seen by the next report, and no
process left once it is closed."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.adapters.store import SqlStore
from bridge.adapters.worker_process import WorkerProcess, seen_by_other_processes
from bridge.domain.model import (
    ChannelId,
    Link,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
    WorkspaceGid,
)
from bridge.domain.nag_moments import next_check
from bridge.domain.nag_rules import due_nags
from bridge.domain.nags import task_view
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.report import ALL
from bridge.services.report_build import ReportMaker
from tests.fixtures_report import varied_task

NOW = datetime.now(UTC).replace(microsecond=0)
POLICY = parse_policy({"sla": {"P1": {"first_response": "4h", "resolution": "2d"}, "warn_at": 0.75}})
LINK = Link(
    TeamId("T1"),
    ChannelId("C1"),
    ProjectGid("p1"),
    "Developer Questions",
    WorkspaceGid("w"),
    SlackUserId("U1"),
    NOW - timedelta(days=60),
    priority_field_gid="f-prio",
)
OPEN = 2_700  # open items: a report of some size crosses the process whole


async def test_a_report_built_apart_is_the_report_built_here(store: SqlStore, database_url: str) -> None:
    tasks = [varied_task(LINK, n, now=NOW, name=f"Task {n}") for n in range(OPEN * 4 // 3 + 1)]
    await store.add_tracked_tasks(tasks)
    here = ReportMaker(store, POLICY)
    apart = WorkerProcess(database_url, POLICY)
    try:
        expected = await here.report(ALL, [LINK], NOW)
        assert expected.open > 2_000
        assert await apart.report(ALL, [LINK], NOW) == expected
        page = await apart.report(ALL, [LINK], NOW, rows=100)
        assert page == replace(expected, open_items=expected.open_items[:100]) and page.open == expected.open

        # A save since the last report is read by the process's next one (only what changed is read again).
        done = tasks[1]
        await store.save_tracked_task(
            replace(done, completed=True, snapshot={**done.snapshot, "completed": True}, updated_at=NOW)
        )
        later = NOW + timedelta(minutes=1)
        assert await apart.report(ALL, [LINK], later, rows=0) == replace(
            await here.report(ALL, [LINK], later), open_items=()
        )
        assert (await apart.report(ALL, [LINK], later, rows=0)).open == expected.open - 1
    finally:
        await apart.close()
    assert multiprocessing.active_children() == []  # the worker ended with it


@pytest.mark.parametrize(
    ("url", "seen"),
    [
        ("sqlite+aiosqlite:///bridge.db", True),
        ("sqlite+aiosqlite:////tmp/x/bridge.db", True),
        ("postgresql+asyncpg://u:p@db:5432/bridge", True),
        ("sqlite+aiosqlite://", False),
        ("sqlite+aiosqlite:///:memory:", False),
        ("sqlite+aiosqlite:///file:shared?mode=memory&cache=shared&uri=true", False),
    ],
)
def test_only_a_database_other_processes_can_open_is_read_apart(url: str, seen: bool) -> None:
    assert seen_by_other_processes(url) is seen


NAG_NOW = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: every rule is judged
NAG_POLICY = parse_policy(
    {
        "business_hours": {"timezone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"]},
        "sla": {"P1": {"first_response": "4h", "resolution": "2d"}},
        "triage": {"section": "Needs triage", "grace": "4h", "repeat": "1d", "triager": "cy@example.com"},
        "reminders": {"lead": "1d", "overdue_repeat": "1d", "required_fields": ["Priority"]},
    }
)


def nag_task(n: int, *, channel: str = "C1", parent: str | None = None) -> TrackedTask:
    """The n-th task of a mix: due dates around now, some in triage, some without a priority, some assigned."""
    due = NAG_NOW.date() + timedelta(days=(n % 21) - 10) if n % 4 else None
    section = "Needs triage" if n % 3 == 0 else "P1"
    snapshot = {
        "gid": str(n),
        "name": f"Task {n}",
        "completed": False,
        "created_at": (NAG_NOW - timedelta(days=n % 30, hours=n % 7)).isoformat(),
        "due_on": due.isoformat() if due else None,
        "assignee": {"gid": f"u{n % 3}", "name": "Someone"} if n % 2 else None,
        "memberships": [{"project": {"gid": "p1"}, "section": {"gid": f"s-{section}", "name": section}}],
        "custom_fields": [
            {
                "gid": "f-prio",
                "name": "Priority",
                "resource_subtype": "enum",
                "enum_value": None if n % 5 == 0 else {"gid": "o1", "name": "P1"},
                "enum_options": [{"gid": "o1", "name": "P1", "enabled": True}],
            }
        ],
    }
    return TrackedTask(
        task_gid=TaskGid(str(n)),
        project_gid=LINK.project_gid,
        team_id=LINK.team_id,
        channel_id=ChannelId(channel),
        thread_ts=MessageTs(f"1.{n}"),
        permalink_url=f"https://app.asana.com/0/p1/{n}",
        name=f"Task {n}",
        created_at=NAG_NOW - timedelta(days=30),
        updated_at=NAG_NOW - timedelta(days=1),
        snapshot=snapshot,
        parent_gid=TaskGid(parent) if parent else None,
    )


async def test_the_worker_arms_the_quiet_tasks_and_leaves_the_rest_to_the_tick(
    store: SqlStore, database_url: str
) -> None:
    tasks = [nag_task(n) for n in range(1, 120)]
    await store.add_tracked_tasks([*tasks, nag_task(500, channel="C9"), nag_task(501, parent="1")])
    skip = frozenset({TaskGid("8")})
    views = {t.task_gid: task_view(t, priority_field="f-prio", required_fields=("Priority",)) for t in tasks}
    # The nags due on even tasks were sent already (as on a bridge that has been running): those are quiet now.
    sent = {
        nag.key for gid, view in views.items() if int(gid) % 2 == 0 for nag in due_nags(view, NAG_POLICY, NAG_NOW, ())
    }
    for key in sent:
        await store.record_nag(key, now=NAG_NOW - timedelta(hours=1))
    loud = {gid for gid, view in views.items() if due_nags(view, NAG_POLICY, NAG_NOW, sent)}
    assert loud and len(loud) < len(tasks) - 10 and TaskGid("8") not in loud  # a mix

    worker = WorkerProcess(database_url, NAG_POLICY)
    try:
        armed = await worker.arm_quiet([LINK], NAG_NOW, skip)
    finally:
        await worker.close()

    # What is left for the tick: the tasks with a nag due, and the one whose nags wait for their person.
    left = {d.task.task_gid for d in await store.tasks_to_judge(now=NAG_NOW, limit=1000)}
    assert left == loud | skip
    assert armed == len(tasks) - len(left) + 2  # the unlinked task and the subtask: armed for never
    moments = {d.task.task_gid: d.check_at for d in await store.tasks_to_judge(now=datetime.max.replace(tzinfo=UTC))}
    for gid, view in views.items():
        if gid not in left:
            assert moments.get(gid) == next_check(view, NAG_POLICY, NAG_NOW, sent), gid
    assert TaskGid("500") not in moments and TaskGid("501") not in moments


async def test_an_ordinary_tick_starts_no_process(store: SqlStore, database_url: str) -> None:
    await store.add_tracked_tasks([nag_task(n) for n in range(1, 20)])
    worker = WorkerProcess(database_url, NAG_POLICY, count_due=store.count_due)
    try:
        assert await worker.arm_quiet([LINK], NAG_NOW, frozenset()) == 0
        assert multiprocessing.active_children() == []
    finally:
        await worker.close()
    assert len(await store.tasks_to_judge(now=NAG_NOW)) == 19  # all still the tick's
