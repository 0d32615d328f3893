"""SLA targets by priority, their deadlines in business time, and the due date they set (or leave alone)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.config import load_policy
from bridge.domain.business_time import clock_for
from bridge.domain.policy import Sla
from bridge.domain.sla import (
    due_after_priority,
    first_response_due,
    first_response_warning,
    resolution_due,
    set_by_hand,
    sla_due_on,
    target_for,
)

REPO = Path(__file__).resolve().parents[2]
# America/New_York, Mon-Fri 09:00-17:00, 2026-12-25 off; P0 1h/4h, P1 4h/2d, P2 1d/5d, P3 2d/10d; warn at 75%.
POLICY = load_policy(REPO / "bridge.example.toml")
CLOCK = clock_for(POLICY.business_hours)


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("priority", "first_response"),
    [
        pytest.param("P1", "4:00:00", id="by-name"),
        pytest.param(" p1 ", "4:00:00", id="any-case-and-spacing"),
        pytest.param(None, None, id="no-priority"),
        pytest.param("", None, id="empty"),
        pytest.param("P9", None, id="not-in-the-policy"),
    ],
)
def test_target_for(priority: str | None, first_response: str | None) -> None:
    target = target_for(POLICY.sla, priority)
    assert (str(target.first_response.time) if target else None) == first_response


def test_no_targets_no_sla() -> None:
    assert target_for(Sla(), "P1") is None


@pytest.mark.parametrize(
    ("priority", "created", "warning", "first_response", "resolution"),
    [
        pytest.param("P0", "2026-03-10 10:00", "2026-03-10 10:45", "2026-03-10 11:00", "2026-03-10 14:00", id="p0-tue"),
        pytest.param("P0", "2026-03-13 16:30", "2026-03-16 09:15", "2026-03-16 09:30", "2026-03-16 12:30", id="p0-fri"),
        pytest.param("P0", "2026-03-14 12:00", "2026-03-16 09:45", "2026-03-16 10:00", "2026-03-16 13:00", id="p0-sat"),
        pytest.param("P1", "2026-03-13 15:00", "2026-03-16 10:00", "2026-03-16 11:00", "2026-03-17 15:00", id="p1-fri"),
        pytest.param(
            "P1",
            "2026-03-09 09:00",
            "2026-03-09 12:00",
            "2026-03-09 13:00",
            "2026-03-10 17:00",
            id="p1-ends-on-a-closing",
        ),
        # New Year's Day is a US-NY holiday (the example's holiday_calendar): the fifth working day is Mon 4 Jan.
        pytest.param(
            "P2", "2026-12-24 10:00", "2026-12-24 16:00", "2026-12-28 10:00", "2027-01-04 10:00", id="p2-over-christmas"
        ),
        pytest.param("P3", "2026-03-06 12:00", "2026-03-09 16:00", "2026-03-10 12:00", "2026-03-20 12:00", id="p3-dst"),
    ],
)
def test_deadlines_in_business_time(
    priority: str, created: str, warning: str, first_response: str, resolution: str
) -> None:
    target = target_for(POLICY.sla, priority)
    assert target is not None
    assert first_response_warning(CLOCK, ny(created), target, POLICY.sla.warn_at) == ny(warning)
    assert first_response_due(CLOCK, ny(created), target) == ny(first_response)
    assert resolution_due(CLOCK, ny(created), target) == ny(resolution)


@pytest.mark.parametrize(
    ("priority", "created", "due_on"),
    [
        pytest.param("P0", "2026-03-10 10:00", "2026-03-10", id="same-day"),
        pytest.param("P0", "2026-03-10 16:00", "2026-03-11", id="next-morning"),
        pytest.param("P1", "2026-03-09 09:00", "2026-03-10", id="deadline-on-a-closing-keeps-its-day"),
        pytest.param("P2", "2026-12-24 10:00", "2027-01-04", id="over-a-holiday"),
        pytest.param("P1", "2026-03-09 22:30", "2026-03-11", id="created-at-night-starts-next-morning"),
        pytest.param(None, "2026-03-09 09:00", None, id="no-priority-no-date"),
        pytest.param("P7", "2026-03-09 09:00", None, id="unknown-priority-no-date"),
    ],
)
def test_sla_due_on(priority: str | None, created: str, due_on: str | None) -> None:
    expected = date.fromisoformat(due_on) if due_on else None
    assert sla_due_on(POLICY, priority, ny(created)) == expected


D1, D2, D3 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 20)


@pytest.mark.parametrize(
    ("due_on", "due_at", "set_by_bridge", "by_hand"),
    [
        pytest.param(None, None, None, False, id="no-due-date"),
        pytest.param(D1, None, D1, False, id="the-date-the-bridge-set"),
        pytest.param(D1, None, None, True, id="set-without-the-bridge"),
        pytest.param(D2, None, D1, True, id="moved-after-the-bridge-set-it"),
        pytest.param(None, None, D1, True, id="cleared-after-the-bridge-set-it"),
        pytest.param(D1, ny("2026-03-10 15:00"), D1, True, id="a-time-of-day-is-a-persons"),
    ],
)
def test_set_by_hand(due_on: date | None, due_at: datetime | None, set_by_bridge: date | None, by_hand: bool) -> None:
    assert set_by_hand(due_on, due_at, set_by_bridge) is by_hand


CREATED = ny("2026-03-09 09:00")  # P0 → 2026-03-09, P1 → 2026-03-10, P2 → 2026-03-13, P3 → 2026-03-20


@pytest.mark.parametrize(
    ("priority", "due_on", "due_at", "bridge_set", "expected"),
    [
        pytest.param("P1", None, None, None, D1, id="first-priority-sets-the-due-date"),
        pytest.param("P3", D1, None, D1, D3, id="priority-change-moves-the-bridges-date"),
        pytest.param("p3", D1, None, D1, D3, id="priority-name-in-any-case"),
        pytest.param("P3", D2, None, D1, None, id="hand-moved-date-stays"),
        pytest.param("P3", D2, None, None, None, id="date-from-slash-task-stays"),
        pytest.param("P3", None, None, D1, None, id="hand-cleared-date-stays-cleared"),
        pytest.param("P3", D1, ny("2026-03-10 15:00"), D1, None, id="date-with-a-time-stays"),
        pytest.param("P1", D1, None, D1, None, id="same-date-nothing-to-do"),
        pytest.param(None, D1, None, D1, None, id="priority-cleared-date-stays"),
        pytest.param("P8", None, None, None, None, id="priority-without-a-target"),
    ],
)
def test_due_after_priority(
    priority: str | None, due_on: date | None, due_at: datetime | None, bridge_set: date | None, expected: date | None
) -> None:
    decided = due_after_priority(
        POLICY, priority=priority, created_at=CREATED, due_on=due_on, due_at=due_at, set_by_bridge=bridge_set
    )
    assert decided == expected


def test_the_due_date_is_a_day_on_the_teams_calendar() -> None:
    berlin = replace(POLICY, business_hours=replace(POLICY.business_hours, timezone="Europe/Berlin"))
    # 16:00 in New York is 21:00 in Berlin, after hours: four working hours there end at 13:00 the next day.
    assert sla_due_on(berlin, "P0", ny("2026-03-10 16:00")) == date(2026, 3, 11)
    assert sla_due_on(POLICY, "P0", ny("2026-03-10 16:00")) == date(2026, 3, 11)
    assert sla_due_on(berlin, "P0", ny("2026-03-10 03:00")) == date(2026, 3, 10)  # 08:00 in Berlin
