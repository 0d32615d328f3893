"""The report built in a process of its own (adapters/report_process.py), on SQLite and PostgreSQL: the same report
as one built in the bridge's process, only the rows asked for sent back, saves seen by the next report, and no
process left once it is closed."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.adapters.report_process import CHUNK, ReportProcess, seen_by_other_processes
from bridge.adapters.store import SqlStore
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
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.report import ALL
from bridge.services.report_build import ReportMaker

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
OPEN = CHUNK + 700  # more open items than one chunk: the rest come back in pieces


def tracked(n: int) -> TrackedTask:
    created = NOW - timedelta(minutes=37 * n)
    completed = n % 4 == 0
    snapshot = {
        "created_at": created.isoformat(),
        "completed": completed,
        "completed_at": (created + timedelta(hours=n % 30)).isoformat() if completed else None,
        "assignee": {"gid": str(n % 3), "name": f"Person {n % 3}"},
        "custom_fields": [{"gid": "f-prio", "name": "Priority", "enum_value": {"name": "P1"} if n % 2 else None}],
    }
    return TrackedTask(
        task_gid=TaskGid(str(1_000 + n)),
        project_gid=LINK.project_gid,
        team_id=LINK.team_id,
        channel_id=LINK.channel_id,
        thread_ts=MessageTs(f"1.{n}"),
        permalink_url=f"https://app.asana.com/0/p1/{1_000 + n}",
        name=f"Task {n}",
        created_at=created,
        updated_at=NOW - timedelta(days=1),
        snapshot=snapshot,
        completed=completed,
        ack_subtask_gid=TaskGid(f"ack{n}") if n % 3 else None,
        first_response_at=created + timedelta(minutes=n % 50) if n % 6 == 1 else None,
    )


async def test_a_report_built_apart_is_the_report_built_here(store: SqlStore, database_url: str) -> None:
    tasks = [tracked(n) for n in range(OPEN * 4 // 3 + 1)]
    await store.add_tracked_tasks(tasks)
    here = ReportMaker(store, POLICY)
    apart = ReportProcess(database_url, POLICY)
    try:
        expected = await here.report(ALL, [LINK], NOW)
        assert expected.open > CHUNK
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
