"""What the report reads from the store, on SQLite and PostgreSQL: snapshot facts picked out by the database, and
the report-link secret shared by every replica."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Any

from bridge.adapters.store import SqlStore
from bridge.domain.model import ChannelId, MessageTs, ProjectGid, TaskGid, TeamId, TrackedTask
from bridge.domain.report_tasks import StoredTask

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def tracked(gid: str, channel: str = "C1", *, parent: str | None = None, **snapshot: Any) -> TrackedTask:
    return TrackedTask(
        task_gid=TaskGid(gid),
        project_gid=ProjectGid("p1"),
        team_id=TeamId("T1"),
        channel_id=ChannelId(channel),
        thread_ts=MessageTs(f"1.{gid}"),
        permalink_url=f"https://app.asana.com/0/p1/{gid}",
        name=f"Task {gid}",
        created_at=NOW,
        updated_at=NOW,
        snapshot=snapshot,
        completed=bool(snapshot.get("completed")),
        ack_subtask_gid=TaskGid("ack" + gid) if gid == "1" else None,
        first_response_at=NOW if gid == "1" else None,
        parent_gid=TaskGid(parent) if parent else None,
    )


def priority(gid: str, name: str, value: str | None) -> dict[str, Any]:
    return {"gid": gid, "name": name, "enum_value": {"gid": "o", "name": value} if value else None}


async def test_report_tasks_pick_the_facts_and_the_priority_out_of_snapshots(store: SqlStore) -> None:
    await store.add_tracked_tasks(
        [
            tracked(
                "1",
                created_at="2026-11-30T10:00:00.000Z",
                completed=True,
                completed_at="2026-11-30T12:00:00.000Z",
                due_on="2026-12-04",
                assignee={"gid": "42", "name": "Ana Lopez"},
                _bridge_due_pushes=2,
                custom_fields=[priority("f-other", "Size", "L"), priority("f-prio", "Priority", "P1")],
            ),
            tracked("2", custom_fields=[priority("f-x", " priority ", "P2")]),  # matched by name, any case
            tracked("3", custom_fields=None),
            tracked("4"),
            tracked("5", parent="1", custom_fields=[priority("f-prio", "Priority", "P0")]),  # a subtask: not reported
            tracked("6", "C2", custom_fields=[priority("f-prio", "Priority", "P3")]),
        ]
    )
    rows: dict[str, StoredTask] = {row.gid: row for row in await store.report_tasks(priority_field="f-prio")}
    assert set(rows) == {"1", "2", "3", "4", "6"}
    first = rows["1"]
    assert (first.created_at, first.completed_at, first.due_on, first.due_at) == (
        "2026-11-30T10:00:00.000Z",
        "2026-11-30T12:00:00.000Z",
        "2026-12-04",
        None,
    )
    assert (first.assignee_gid, first.assignee_name, first.pushes, first.priority) == ("42", "Ana Lopez", 2, "P1")
    assert first.completed and first.tracks_response and first.first_response_at == NOW
    assert first.saved_created_at is None and first.team_id == "T1" and first.channel_id == "C1"
    assert rows["2"].saved_created_at == NOW  # Asana's created_at is missing from that snapshot
    assert [rows[g].priority for g in ("2", "3", "4", "6")] == [None, None, None, "P3"]
    assert not rows["2"].tracks_response and rows["2"].first_response_at is None

    by_name = {row.gid: row.priority for row in await store.report_tasks(priority_field="Priority")}
    assert by_name == {"1": "P1", "2": "P2", "3": None, "4": None, "6": "P3"}
    one_channel = await store.report_tasks(team_id=TeamId("T1"), channel_id=ChannelId("C2"), priority_field=None)
    assert [(row.gid, row.priority) for row in one_channel] == [("6", None)]


async def test_report_tasks_of_one_assignee_and_only_open_ones_are_filtered_in_the_database(store: SqlStore) -> None:
    """What the App Home reads: one person's open tasks, with the priority picked out as for the report."""
    ana, bo = {"gid": "42", "name": "Ana Lopez"}, {"gid": "43", "name": "Bo Chen"}
    await store.add_tracked_tasks(
        [
            tracked("1", assignee=ana, custom_fields=[priority("f-prio", "Priority", "P1")]),
            tracked("2", assignee=ana, completed=True),
            tracked("3", assignee=bo),
            tracked("4", assignee=None),
            tracked("5"),
            tracked("6", "C2", assignee=ana),
            tracked("7", parent="1", assignee=ana),  # a subtask: not listed
        ]
    )
    rows = await store.report_tasks(priority_field="f-prio", assignee_gid="42", open_only=True)
    assert sorted((row.gid, row.priority, row.assignee_name) for row in rows) == [
        ("1", "P1", "Ana Lopez"),
        ("6", None, "Ana Lopez"),
    ]
    every = await store.report_tasks(team_id=TeamId("T1"), channel_id=ChannelId("C1"), assignee_gid="42")
    assert sorted(row.gid for row in every) == ["1", "2"]
    assert [row.gid for row in await store.report_tasks(assignee_gid="43", open_only=True)] == ["3"]
    assert await store.report_tasks(assignee_gid="44") == []


async def test_a_full_reload_reads_and_makes_each_task_in_a_worker_thread(store: SqlStore) -> None:
    """How the report reloads 100,000 tasks: read on a connection of the worker's own, each row made there."""
    await store.add_tracked_tasks([tracked(str(n)) for n in range(10, 17)] + [tracked("18", "C2")])
    loop_thread = threading.get_ident()
    made_in: set[int] = set()

    def made(row: StoredTask) -> StoredTask:
        made_in.add(threading.get_ident())
        return row

    apart = await store.report_tasks_apart(made, team_id=TeamId("T1"), channel_id=ChannelId("C1"), priority_field=None)
    whole = await store.report_tasks(team_id=TeamId("T1"), channel_id=ChannelId("C1"))
    assert apart == {row.gid: row for row in whole} and sorted(apart) == [str(n) for n in range(10, 17)]
    assert made_in and loop_thread not in made_in


async def test_the_server_secret_is_made_once_whoever_asks_first_and_can_be_replaced(store: SqlStore) -> None:
    found = await asyncio.gather(*(store.server_secret("report", candidate=f"c{n}", now=NOW) for n in range(5)))
    assert len(set(found)) == 1 and found[0] in {f"c{n}" for n in range(5)}
    assert await store.server_secret("report", candidate="late", now=NOW) == found[0]
    await store.replace_server_secret("report", "rotated", now=NOW)
    assert await store.server_secret("report", candidate="late", now=NOW) == "rotated"
    assert await store.server_secret("none yet", candidate=None, now=NOW) is None  # a read never makes one
    await store.replace_server_secret("other", "fresh", now=NOW)
    assert await store.server_secret("other", candidate="late", now=NOW) == "fresh"
