"""The App Home's listing: tasks judged as the report judges them, grouped (SLAs at risk, due soon, other), ordered
and capped. Business hours as in test_report: UTC, Mon-Fri 09:00-17:00; P1 = 4h first response, 2d (16 business
hours) resolution; warning at 75%."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bridge import wording
from bridge.domain.home import Group, home_list
from bridge.domain.report import OpenItem, Status, build_report, open_items
from bridge.domain.report_tasks import ReportTask
from bridge.services.home import LISTED
from tests.unit.test_report import POLICY, at, task

H = timedelta(hours=1)
NOW = "2026-12-02 12:00"  # a Wednesday
TODAY = date(2026, 12, 2)
TOMORROW = date(2026, 12, 3)


def judged(*tasks: ReportTask) -> list[OpenItem]:
    return open_items(tasks, policy_of=lambda _: POLICY, now=at(NOW))


def test_open_items_judge_as_the_report_does_and_leave_completed_tasks_out() -> None:
    tasks = [
        task(1, "2026-12-02 11:00"),  # an hour in: on track
        task(2, "2026-12-02 09:00"),  # 3h of 4h: at risk
        task(3, "2026-11-25 09:00"),  # a week: breached
        task(4, "2026-12-01 09:00", priority=None),  # no SLA
        task(5, "2026-12-01 09:00", completed=True, completed_at=at("2026-12-01 10:00")),
    ]
    items = judged(*tasks)
    assert [item.gid for item in items] == ["1", "2", "3", "4"]  # in the order given, completed left out
    report = build_report(tasks, policy_of=lambda _: POLICY, now=at(NOW), calendar=POLICY)
    assert sorted(items) == sorted(report.open_items)
    assert [item.status for item in items] == [Status.ON_TRACK, Status.AT_RISK, Status.BREACHED, Status.NO_SLA]


# (case, facts of the task, group)
GROUP_CASES = [
    ("breached", {"created": "2026-11-25 09:00"}, Group.AT_RISK),
    ("at risk, due next month", {"created": "2026-12-02 09:00", "due_on": date(2027, 1, 4)}, Group.AT_RISK),
    ("on track, overdue", {"created": "2026-12-02 11:00", "due_on": date(2026, 11, 30)}, Group.DUE_SOON),
    ("on track, due today", {"created": "2026-12-02 11:00", "due_on": TODAY}, Group.DUE_SOON),
    ("on track, due tomorrow", {"created": "2026-12-02 11:00", "due_on": TOMORROW}, Group.DUE_SOON),
    ("on track, due in two days", {"created": "2026-12-02 11:00", "due_on": date(2026, 12, 4)}, Group.OTHER),
    ("no SLA, due tomorrow", {"created": "2026-11-01 09:00", "priority": None, "due_on": TOMORROW}, Group.DUE_SOON),
    ("no SLA, no due date", {"created": "2026-11-01 09:00", "priority": None}, Group.OTHER),
]


@pytest.mark.parametrize(("case", "facts", "group"), GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_each_task_lands_in_one_group(case: str, facts: dict[str, object], group: Group) -> None:
    facts = dict(facts)
    created = str(facts.pop("created"))
    listing = home_list(judged(task(1, created, **facts)), today=TODAY, limit=10)
    assert [(g, [item.gid for item in items]) for g, items in listing.groups] == [(group, ["1"])]
    assert listing.counts[group] == 1 and listing.total == 1 and listing.more == 0


def test_groups_come_in_order_and_each_is_ordered_by_status_then_due_date_then_time_left() -> None:
    items = judged(
        task(1, "2026-12-02 09:00"),  # at risk, 1h left, no due date
        task(2, "2026-11-25 09:00"),  # breached
        task(3, "2026-12-02 09:00", due_on=TOMORROW),  # at risk, 1h left like 1, but due tomorrow
        task(4, "2026-12-02 11:00", due_on=TOMORROW),  # due soon, on track
        task(5, "2026-11-01 09:00", priority=None, due_on=TODAY),  # due soon, no SLA
        task(6, "2026-12-02 11:30", due_on=TODAY),  # due soon, on track, due earlier than 4
        task(7, "2026-12-02 11:00"),  # other, on track
        task(8, "2026-11-01 09:00", priority=None),  # other, no SLA
        task(9, "2026-12-02 11:30"),  # other, on track, more time left than 7
    )
    listing = home_list(items, today=TODAY, limit=10)
    assert [(g, [item.gid for item in group]) for g, group in listing.groups] == [
        (Group.AT_RISK, ["2", "3", "1"]),
        (Group.DUE_SOON, ["6", "4", "5"]),
        (Group.OTHER, ["7", "9", "8"]),
    ]


# (limit, listed per group, left out)
CAP_CASES = [
    (9, [3, 3, 3], 0),
    (5, [3, 2], 4),
    (3, [3], 6),
    (0, [], 9),
]


@pytest.mark.parametrize(("limit", "listed", "more"), CAP_CASES)
def test_the_most_urgent_are_kept_and_the_rest_counted(limit: int, listed: list[int], more: int) -> None:
    items = judged(
        *(task(n, "2026-11-25 09:00") for n in range(1, 4)),
        *(task(n, "2026-12-02 11:00", due_on=TODAY) for n in range(4, 7)),
        *(task(n, "2026-12-02 11:00") for n in range(7, 10)),
    )
    listing = home_list(items, today=TODAY, limit=limit)
    assert [len(group) for _, group in listing.groups] == listed
    assert listing.more == more and listing.total == 9
    assert listing.counts == {Group.AT_RISK: 3, Group.DUE_SOON: 3, Group.OTHER: 3}


def test_nothing_open_lists_nothing() -> None:
    listing = home_list([], today=TODAY, limit=30)
    assert listing.groups == () and listing.total == 0 and listing.more == 0


def test_a_full_home_stays_within_slacks_100_blocks_and_says_how_many_more() -> None:
    items = judged(*(task(n, "2026-11-25 09:00", due_on=TODAY) for n in range(1, 3 * LISTED)))
    listing = home_list(items, today=TODAY, limit=LISTED)
    options = [("o0", "P0"), ("o1", "P1")]
    view = wording.home_view(assignment_dms=True, note="✅ Done.", listing=listing, priorities={"T1-C1": options})
    assert len(view["blocks"]) <= 100 and len(json.dumps(view)) < 250_000
    text = json.dumps(view, ensure_ascii=False)
    assert f"…and {2 * LISTED - 1} more open tasks, less urgent" in text
    assert text.count('"action_id": "nag_done"') == LISTED
    assert "<#C1> · Due today · P1 · :red_circle: SLA breached, " in text
