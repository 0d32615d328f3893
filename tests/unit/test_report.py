"""The report's metric rules, against hand-computed expectations (business hours: UTC, Mon-Fri 09:00-17:00, with
Christmas 2026 off; P1 = 4h first response, 2d = 16 business hours resolution, warning at 75%)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bridge.domain.model import ChannelId, ProjectGid, TaskGid, TeamId
from bridge.domain.policy import Policy
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.report import (
    UNASSIGNED,
    Distribution,
    Report,
    Status,
    build_report,
    distribution,
)
from bridge.domain.report_tasks import ReportTask, StoredTask, report_task

POLICY = parse_policy(
    {
        "business_hours": {
            "timezone": "UTC",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "17:00",
            "holidays": ["2026-12-25"],
        },
        "sla": {"P1": {"first_response": "4h", "resolution": "2d"}, "warn_at": 0.75},
    }
)
H = timedelta(hours=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def task(n: int, created: str, **facts: Any) -> ReportTask:
    defaults: dict[str, Any] = {"priority": "P1", "tracks_response": True}
    return ReportTask(
        gid=TaskGid(str(n)),
        name=f"Task {n}",
        link="T1-C1",
        project_gid=ProjectGid("p1"),
        permalink_url=f"https://app.asana.com/0/p1/{n}",
        created_at=at(created),
        **{**defaults, **facts},
    )


def report(tasks: list[ReportTask], now: str, *, weeks: int = 2, policy: Policy = POLICY) -> Report:
    return build_report(tasks, policy_of=lambda _: policy, now=at(now), calendar=policy, weeks=weeks)


# (case, created, now, extra facts, first response left, resolution left, status)
OPEN_CASES = [
    ("an hour in", "2026-11-30 10:00", "2026-11-30 11:00", {}, 3 * H, 15 * H, Status.ON_TRACK),
    ("75% of the first response used", "2026-11-30 10:00", "2026-11-30 13:00", {}, 1 * H, 13 * H, Status.AT_RISK),
    (
        "over a weekend: Fri 16-17 and Mon 9-10",
        "2026-12-04 16:00",
        "2026-12-07 10:00",
        {},
        2 * H,
        14 * H,
        Status.ON_TRACK,
    ),
    (
        "asked after hours, seen before opening",
        "2026-11-30 18:00",
        "2026-12-01 08:59",
        {},
        4 * H,
        16 * H,
        Status.ON_TRACK,
    ),
    (
        "over Christmas: Thu 15-17, holiday, Mon 9-11",
        "2026-12-24 15:00",
        "2026-12-28 11:00",
        {},
        0 * H,
        12 * H,
        Status.AT_RISK,
    ),
    ("an hour past the first response", "2026-11-30 09:00", "2026-11-30 14:00", {}, -1 * H, 11 * H, Status.BREACHED),
    (
        "answered: only resolution is pending",
        "2026-11-30 09:00",
        "2026-12-01 09:00",
        {"first_response_at": at("2026-11-30 09:30")},
        None,
        8 * H,
        Status.ON_TRACK,
    ),
    (
        "answered, 12 of 16 resolution hours used",
        "2026-11-30 09:00",
        "2026-12-01 13:00",
        {"first_response_at": at("2026-11-30 09:30")},
        None,
        4 * H,
        Status.AT_RISK,
    ),
    (
        "no acknowledgement tracked: no first response target",
        "2026-11-30 09:00",
        "2026-11-30 14:00",
        {"tracks_response": False},
        None,
        11 * H,
        Status.ON_TRACK,
    ),
    (
        "past resolution: 3 workdays",
        "2026-11-30 09:00",
        "2026-12-03 09:00",
        {"first_response_at": at("2026-11-30 09:30")},
        None,
        -8 * H,
        Status.BREACHED,
    ),
    ("no priority", "2026-11-30 09:00", "2026-12-03 09:00", {"priority": None}, None, None, Status.NO_SLA),
    (
        "a priority without a target",
        "2026-11-30 09:00",
        "2026-12-03 09:00",
        {"priority": "P3"},
        None,
        None,
        Status.NO_SLA,
    ),
    (
        "priority as typed (' p1 ')",
        "2026-11-30 10:00",
        "2026-11-30 11:00",
        {"priority": " p1 "},
        3 * H,
        15 * H,
        Status.ON_TRACK,
    ),
]


@pytest.mark.parametrize(
    ("created", "now", "facts", "respond_left", "resolve_left", "status"),
    [case[1:] for case in OPEN_CASES],
    ids=[case[0] for case in OPEN_CASES],
)
def test_open_items_time_left_and_status(
    created: str,
    now: str,
    facts: dict[str, object],
    respond_left: timedelta | None,
    resolve_left: timedelta | None,
    status: Status,
) -> None:
    built = report([task(1, created, **facts)], now)
    [item] = built.open_items
    assert (item.first_response_left, item.resolution_left, item.status) == (respond_left, resolve_left, status)
    assert item.age == at(now) - at(created)  # ages are wall-clock time
    assert built.counts[status] == 1


def test_open_items_are_sorted_by_least_time_left_and_those_without_sla_last_oldest_first() -> None:
    now = "2026-11-30 14:00"
    tasks = [
        task(1, "2026-11-30 11:00"),  # 1h left to first response
        task(2, "2026-11-30 09:00"),  # -1h: breached
        task(3, "2026-11-27 09:00", priority=None),
        task(4, "2026-11-30 12:00", first_response_at=at("2026-11-30 12:10")),  # 14h to resolution
        task(5, "2026-11-26 09:00", priority=None),
        task(6, "2026-11-30 13:00", completed=True, completed_at=at("2026-11-30 13:30")),  # done: not open
    ]
    built = report(tasks, now)
    assert [item.gid for item in built.open_items] == ["2", "1", "4", "5", "3"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], Distribution(0, None, None)),
        ([1 * H], Distribution(1, 1 * H, 1 * H)),
        ([3 * H, 1 * H, 2 * H], Distribution(3, 2 * H, 3 * H)),
        ([1 * H, 2 * H, 3 * H, 10 * H], Distribution(4, 2.5 * H, 10 * H)),  # p90: the ⌈3.6⌉ = 4th
        ([n * H for n in range(1, 11)], Distribution(10, 5.5 * H, 9 * H)),  # p90: the 9th of ten
    ],
)
def test_median_and_nearest_rank_p90(values: list[timedelta], expected: Distribution) -> None:
    assert distribution(values) == expected


def test_weekly_times_count_in_the_week_they_happened_in_business_hours() -> None:
    tasks = [
        # Week 49 (Mon 30 Nov): responses of 1h, 2h, 3h and 10h (from Mon 09:00 to Tue 11:00).
        task(1, "2026-11-30 09:00", first_response_at=at("2026-11-30 10:00")),
        task(2, "2026-11-30 09:00", first_response_at=at("2026-11-30 11:00")),
        task(3, "2026-11-30 09:00", first_response_at=at("2026-11-30 12:00")),
        task(4, "2026-11-30 09:00", first_response_at=at("2026-12-01 11:00")),
        # Asked Friday 16:30, answered Monday 09:30: one business hour, counted in week 50.
        task(5, "2026-12-04 16:30", first_response_at=at("2026-12-07 09:30")),
        # Resolved in week 50 after 16 business hours (Thu 09:00 to Mon 09:00, over the weekend).
        task(6, "2026-12-03 09:00", completed=True, completed_at=at("2026-12-07 09:00")),
        # Too long ago for a two-week report: counts in no week.
        task(7, "2026-11-16 09:00", first_response_at=at("2026-11-16 10:00")),
    ]
    built = report(tasks, "2026-12-07 12:00")
    w49, w50 = built.weeks
    assert (w49.label, w49.start, w50.label, w50.start) == (
        "2026-W49",
        date(2026, 11, 30),
        "2026-W50",
        date(2026, 12, 7),
    )
    assert w49.first_response == Distribution(4, 2.5 * H, 10 * H)
    assert w49.resolution == Distribution(0, None, None)
    assert w50.first_response == Distribution(1, 1 * H, 1 * H)
    assert w50.resolution == Distribution(1, 16 * H, 16 * H)
    assert built.this_week is w50


def test_hit_rate_per_priority_counts_decided_targets_only() -> None:
    now = "2026-12-01 12:00"
    tasks = [
        # Answered in 3h, resolved in 10 business hours: two hits.
        task(
            1,
            "2026-11-30 09:00",
            first_response_at=at("2026-11-30 12:00"),
            completed=True,
            completed_at=at("2026-12-01 11:00"),
        ),
        # Due by 17:00, answered at 18:00: no business time passed after the deadline, so a hit.
        task(2, "2026-11-30 13:00", first_response_at=at("2026-11-30 18:00")),
        # Answered after 5h: a miss; resolution still undecided (11 of 16 hours used).
        task(3, "2026-11-30 09:00", first_response_at=at("2026-11-30 14:00")),
        # Never answered, 11 hours in: a miss.
        task(4, "2026-11-30 09:00"),
        # Resolved after 20 business hours: resolution missed (its response is not tracked).
        task(5, "2026-11-27 09:00", tracks_response=False, completed=True, completed_at=at("2026-12-01 13:00")),
        # Without a target: not counted.
        task(6, "2026-11-30 09:00", priority=None),
    ]
    [p1] = report(tasks, now).hit_rates
    assert (p1.priority, p1.first_response_hits, p1.first_response_misses) == ("P1", 2, 2)
    assert (p1.resolution_hits, p1.resolution_misses) == (1, 1)
    assert (p1.first_response, p1.resolution) == (0.5, 0.5)


def test_open_tasks_per_person_and_due_date_pushes() -> None:
    tasks = [
        task(1, "2026-11-30 09:00", assignee="Ana", pushes=2),
        task(2, "2026-11-30 09:00", assignee="Ana"),
        task(3, "2026-11-30 09:00", assignee="Bo", pushes=1),
        task(4, "2026-11-30 09:00", pushes=3),
        task(5, "2026-11-30 09:00", assignee="Bo", completed=True, completed_at=at("2026-11-30 10:00")),
    ]
    built = report(tasks, "2026-11-30 12:00")
    assert built.open_per_person == (("Ana", 2), ("Bo", 1), (UNASSIGNED, 1))
    pushes = built.pushes
    assert (pushes.total, pushes.tasks, pushes.pushed_tasks, pushes.average) == (6, 5, 3, 1.2)
    assert [(p.gid, p.pushes) for p in pushes.most] == [("4", 3), ("1", 2), ("3", 1)]


def test_an_empty_report() -> None:
    built = report([], "2026-11-30 12:00", weeks=8)
    assert built.open == 0 and set(built.counts.values()) == {0}
    assert len(built.weeks) == 8 and built.pushes.average == 0.0


def test_report_task_reads_what_the_store_keeps() -> None:
    stored = StoredTask(
        gid=TaskGid("9"),
        name="Q",
        team_id=TeamId("T1"),
        channel_id=ChannelId("C1"),
        project_gid=ProjectGid("p1"),
        permalink_url="https://app.asana.com/0/p1/9",
        saved_created_at=at("2026-11-30 10:05"),
        completed=False,
        first_response_at=None,
        tracks_response=True,
        created_at="2026-11-30T10:00:00.000Z",
        completed_at="2026-11-30T11:00:00.000Z",  # a reopened task keeps Asana's old completed_at
        due_on="2026-12-04",
        due_at="2026-12-03T15:00:00.000Z",
        assignee_gid="42",
        assignee_name=None,
        pushes=None,
        priority="P1",
    )
    found = report_task(stored)
    assert found.created_at == at("2026-11-30 10:00") and found.link == "T1-C1"
    assert found.completed_at is None and found.due_on == date(2026, 12, 3)
    assert (found.assignee, found.pushes, found.priority) == ("42", 0, "P1")
    assert report_task(stored._replace(created_at=None)).created_at == at("2026-11-30 10:05")


def test_many_open_items_come_in_the_same_order_as_one_sort_gives() -> None:
    # More than one run of the sort in runs (see report._sorted_in_runs), with equal times left and equal ages.
    now = "2026-11-30 14:00"
    tasks = [
        task(n, f"2026-11-{10 + n % 17:02d} {9 + n % 7:02d}:00", priority=None if n % 5 == 0 else "P1")
        for n in range(10_000)
    ]
    built = report(tasks, now)
    expected = sorted(built.open_items, key=lambda i: (i.left is None, i.left or timedelta(0), i.created_at, i.gid))
    assert len(built.open_items) == 10_000
    assert [i.gid for i in built.open_items] == [i.gid for i in expected]
