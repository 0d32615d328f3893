"""The one formatter for time: durations, business durations, moments in the team's zone, near times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.domain.durations import parse_duration
from bridge.wording import when

H = timedelta(hours=1)
M = timedelta(minutes=1)
WORKDAY = 8 * H


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (45 * M, "45m"),
        (3 * H + 20 * M, "3h 20m"),
        (2 * H, "2h"),
        (timedelta(days=2, hours=4), "2d 4h"),
        (-(H + 5 * M), "-1h 5m"),
        (timedelta(seconds=18), "under 1m"),
        (timedelta(0), "under 1m"),
        (timedelta(seconds=-30), "under 1m"),
        (M, "1m"),
    ],
)
def test_durations(value: timedelta, text: str) -> None:
    assert when.duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=2, hours=4), "52h"),
        (-(26 * H + 30 * M), "-26h 30m"),
        (timedelta(seconds=5), "under 1m"),
    ],
)
def test_business_time_is_told_in_hours(value: timedelta, text: str) -> None:
    assert when.working(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7 * H, "7h"),
        (WORKDAY, "1 working day"),
        (3 * WORKDAY, "3 working days"),
        (2 * WORKDAY + 3 * H, "2 working days 3h"),
        (-(WORKDAY + 30 * M), "-1 working day 30m"),
    ],
)
def test_working_days_once_a_day_is_reached(value: timedelta, text: str) -> None:
    assert when.working(value, workday=WORKDAY) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3 * WORKDAY, "3 working days overdue"),
        (2 * H + 10 * M, "2h 10m overdue"),
        (timedelta(seconds=20), "under 1m overdue"),
    ],
)
def test_overdue(value: timedelta, text: str) -> None:
    assert when.overdue(value, workday=WORKDAY) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "answered outside working hours"),
        (timedelta(seconds=20), "under 1m"),
        (90 * M, "1h 30m"),
    ],
)
def test_first_response(value: timedelta, text: str) -> None:
    assert when.first_response(value) == text


@pytest.mark.parametrize(
    ("written", "text"),
    [
        ("1d", "1 working day"),
        ("3d", "3 working days"),
        ("0.5d", "0.5 working days"),
        ("1w", "1 working week"),
        ("4h", "4 working hours"),
        ("1h", "1 working hour"),
        ("90m", "1h 30m"),
        ("20s", "under 1m"),
        ("1d4h", "1 working day 4h"),
    ],
)
def test_spans_as_written(written: str, text: str) -> None:
    assert when.span(parse_duration(written)) == text


NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NOW + 2 * H, "in 2h"),
        (NOW - 5 * M, "5m ago"),
        (NOW + timedelta(seconds=10), "in under 1m"),
        (NOW + timedelta(days=6, hours=23), "in 6d 23h"),
    ],
)
def test_relative(moment: datetime, text: str) -> None:
    assert when.relative(moment, NOW) == text


@pytest.mark.parametrize(
    ("zone", "moment", "text"),
    [
        ("America/New_York", NOW, "Mon 07 Dec 2026 10:00 EST"),
        ("America/New_York", datetime(2026, 7, 1, 12, tzinfo=UTC), "Wed 01 Jul 2026 08:00 EDT"),
        ("Europe/Berlin", NOW, "Mon 07 Dec 2026 16:00 CET"),
        ("UTC", NOW, "Mon 07 Dec 2026 15:00 UTC"),
    ],
)
def test_moments_on_the_team_clock(zone: str, moment: datetime, text: str) -> None:
    assert when.moment(moment, zone) == text


def test_slack_shows_each_reader_their_own_time() -> None:
    stamp = int(NOW.timestamp())
    said = when.slack_moment(NOW, "America/New_York")
    assert said == f"<!date^{stamp}^{{date_short_pretty}} {{time}}|Mon 07 Dec 2026 10:00 EST>"
