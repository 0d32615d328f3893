"""The business-time clock: tables for the edges (DST, weekends, holidays, overnight), properties for the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.domain.business_time import BusinessClock, clock_for
from bridge.domain.durations import parse_duration
from bridge.domain.policy import BusinessHours
from tests.support import examples

NEW_YORK = BusinessHours(timezone="America/New_York", holidays=frozenset({date(2026, 12, 25)}))
FOUR_DAYS = BusinessHours(timezone="Europe/Berlin", days=(0, 1, 2, 3), start=time(8), end=time(18))
MICRO = timedelta(microseconds=1)


def _hms(text: str) -> timedelta:
    hours, minutes, *seconds = (int(part) for part in text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0)


def h(text: str) -> timedelta:
    hours, _, minutes = text.partition(":")
    return timedelta(hours=int(hours), minutes=int(minutes or 0))


def at(zone: str, text: str, *, fold: int = 0) -> datetime:
    """A wall-clock time in `zone`, e.g. at("America/New_York", "2026-03-06 16:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)


def ny(text: str) -> datetime:
    return at("America/New_York", text)


def every_day(zone: str, start: str, end: str) -> BusinessClock:
    return BusinessClock(
        BusinessHours(timezone=zone, days=tuple(range(7)), start=time.fromisoformat(start), end=time.fromisoformat(end))
    )


# --- adding working time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        pytest.param("2026-03-10 10:00", "2", "2026-03-10 12:00", id="within-a-day"),
        pytest.param("2026-03-10 13:00", "4", "2026-03-10 17:00", id="exactly-to-close-stays-on-close"),
        pytest.param("2026-03-10 16:00", "2", "2026-03-11 10:00", id="overnight-gap"),
        pytest.param("2026-03-10 07:00", "1", "2026-03-10 10:00", id="from-before-opening"),
        pytest.param("2026-03-10 18:00", "1", "2026-03-11 10:00", id="from-after-closing"),
        pytest.param("2026-03-13 16:00", "2", "2026-03-16 10:00", id="over-a-weekend"),
        pytest.param("2026-03-14 12:00", "1", "2026-03-16 10:00", id="from-a-saturday"),
        pytest.param("2026-12-24 15:00", "4", "2026-12-28 11:00", id="over-a-holiday"),
        pytest.param("2026-03-06 16:00", "2", "2026-03-09 10:00", id="over-spring-forward"),
        pytest.param("2026-10-30 16:00", "2", "2026-11-02 10:00", id="over-fall-back"),
        pytest.param("2026-03-10 10:00", "16", "2026-03-12 10:00", id="two-workdays"),
        pytest.param("2026-03-16 10:00", "-2", "2026-03-13 16:00", id="backwards-over-a-weekend"),
        pytest.param("2026-03-10 09:00", "-8", "2026-03-06 17:00", id="backwards-lands-on-the-earlier-closing"),
        pytest.param("2026-03-14 12:00", "0", "2026-03-14 12:00", id="zero-is-the-same-instant"),
    ],
)
def test_add(start: str, duration: str, expected: str) -> None:
    result = clock_for(NEW_YORK).add(ny(start), h(duration))
    assert result == ny(expected)
    assert result.tzinfo is UTC


# The units of issue #18 (before it: "1w" was 56 h, "0.5d" 12 h and "36h" 20 h on a 9-17 Mon-Fri calendar).
@pytest.mark.parametrize(
    ("hours", "duration", "expected"),
    [
        pytest.param(NEW_YORK, "4h", "4:00", id="hours-are-working-hours"),
        pytest.param(NEW_YORK, "90m", "1:30", id="minutes"),
        pytest.param(NEW_YORK, "30s", "0:00:30", id="seconds"),
        pytest.param(NEW_YORK, "1d", "8:00", id="a-day-is-a-workday"),
        pytest.param(NEW_YORK, "0.5d", "4:00", id="half-a-workday"),
        pytest.param(NEW_YORK, "24h", "24:00", id="24h-is-24-working-hours"),
        pytest.param(NEW_YORK, "36h", "36:00", id="36h-is-36-working-hours"),
        pytest.param(NEW_YORK, "2d", "16:00", id="two-workdays"),
        pytest.param(NEW_YORK, "1w", "40:00", id="a-week-is-five-workdays"),
        pytest.param(NEW_YORK, "1w1d", "48:00", id="a-week-and-a-day"),
        pytest.param(NEW_YORK, "1d4h", "12:00", id="a-workday-and-hours"),
        pytest.param(FOUR_DAYS, "1d", "10:00", id="a-ten-hour-workday"),
        pytest.param(FOUR_DAYS, "1w", "40:00", id="a-four-day-week"),
        pytest.param(FOUR_DAYS, "0.5w", "20:00", id="half-a-four-day-week"),
    ],
)
def test_span_reads_policy_durations_as_working_time(hours: BusinessHours, duration: str, expected: str) -> None:
    assert clock_for(hours).span(parse_duration(duration)) == _hms(expected)


# "1d" from a moment lands at the same wall time the next working day, and "1w" a week later, whatever the
# DST change between (New York: 8 March and 1 November 2026; a 9-17 day stays 8 h on both sides).
@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        pytest.param("2026-03-06 10:00", "1d", "2026-03-09 10:00", id="day-over-spring-forward"),
        pytest.param("2026-10-30 10:00", "1d", "2026-11-02 10:00", id="day-over-fall-back"),
        pytest.param("2026-03-04 10:00", "1w", "2026-03-11 10:00", id="week-over-spring-forward"),
        pytest.param("2026-10-28 10:00", "1w", "2026-11-04 10:00", id="week-over-fall-back"),
        pytest.param("2026-03-06 13:00", "0.5d", "2026-03-06 17:00", id="half-day-to-the-close"),
        pytest.param("2026-12-24 10:00", "1d", "2026-12-28 10:00", id="day-over-a-holiday-and-a-weekend"),
        pytest.param("2026-12-21 10:00", "1w", "2026-12-29 10:00", id="week-over-a-holiday"),
    ],
)
def test_adding_days_and_weeks(start: str, duration: str, expected: str) -> None:
    clock = clock_for(NEW_YORK)
    assert clock.add(ny(start), clock.span(parse_duration(duration))) == ny(expected)


# --- measuring working time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2026-03-10 10:00", "2026-03-10 12:30", "2:30", id="within-a-day"),
        pytest.param("2026-03-10 16:00", "2026-03-11 10:00", "2", id="overnight-gap"),
        pytest.param("2026-03-10 17:00", "2026-03-11 09:00", "0", id="closing-to-opening-is-nothing"),
        pytest.param("2026-03-13 16:00", "2026-03-16 10:00", "2", id="over-a-weekend"),
        pytest.param("2026-03-14 00:00", "2026-03-15 23:59", "0", id="a-whole-weekend-is-nothing"),
        pytest.param("2026-12-24 00:00", "2026-12-26 00:00", "8", id="a-holiday-is-nothing"),
        pytest.param("2026-03-06 09:00", "2026-03-09 17:00", "16", id="over-spring-forward"),
        pytest.param("2026-10-30 09:00", "2026-11-02 17:00", "16", id="over-fall-back"),
        pytest.param("2026-03-11 10:00", "2026-03-10 10:00", "-8", id="backwards-is-negative"),
    ],
)
def test_elapsed(start: str, end: str, expected: str) -> None:
    sign = -1 if expected.startswith("-") else 1
    assert clock_for(NEW_YORK).elapsed(ny(start), ny(end)) == sign * h(expected.lstrip("-"))


# Working hours that straddle a DST change: the clock counts real time, and a wall time the change skips or
# repeats opens and closes as the module docstring says.
@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "expected"),
    [
        pytest.param("Europe/Berlin", "2026-03-29", "01:00", "05:00", "3", id="berlin-spring-forward-loses-an-hour"),
        pytest.param("Europe/Berlin", "2026-10-25", "01:00", "05:00", "5", id="berlin-fall-back-gains-an-hour"),
        pytest.param("Europe/Berlin", "2026-03-29", "02:30", "05:00", "2", id="berlin-skipped-opening-opens-at-jump"),
        pytest.param("Europe/Berlin", "2026-03-29", "01:00", "02:30", "1", id="berlin-skipped-closing-closes-at-jump"),
        pytest.param("Europe/Berlin", "2026-10-25", "02:30", "05:00", "3:30", id="berlin-repeated-opening-first"),
        pytest.param("Europe/Berlin", "2026-10-25", "01:00", "02:30", "2:30", id="berlin-repeated-closing-second"),
        pytest.param("America/New_York", "2026-03-08", "01:00", "05:00", "3", id="new-york-spring-forward"),
        pytest.param("America/New_York", "2026-11-01", "01:00", "05:00", "5", id="new-york-fall-back"),
        pytest.param("America/New_York", "2026-03-08", "02:15", "02:45", "0", id="new-york-window-inside-the-gap"),
        pytest.param("Europe/Berlin", "2026-03-30", "01:00", "05:00", "4", id="berlin-the-day-after-is-whole"),
        pytest.param("America/Santiago", "2026-09-06", "00:00", "02:00", "1", id="santiago-skipped-midnight"),
    ],
)
def test_a_working_day_across_a_dst_change(zone: str, day: str, start: str, end: str, expected: str) -> None:
    clock = every_day(zone, start, end)
    first = date.fromisoformat(day)
    assert clock.elapsed(clock.day_start(first), clock.day_start(first + timedelta(days=1))) == h(expected)


def test_a_skipped_day_holds_no_working_time() -> None:
    # Samoa skipped 30 December 2011 when it crossed the date line.
    clock = every_day("Pacific/Apia", "09:00", "17:00")
    assert clock.elapsed(at("Pacific/Apia", "2011-12-29 00:00"), at("Pacific/Apia", "2011-12-31 23:00")) == h("16")
    assert clock.day_start(date(2011, 12, 30)) == clock.day_start(date(2011, 12, 31))


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        pytest.param("America/New_York", "2026-03-08", "2026-03-08 05:00", id="new-york-spring-forward-day"),
        pytest.param("America/New_York", "2026-03-09", "2026-03-09 04:00", id="new-york-after-spring-forward"),
        pytest.param("Europe/Berlin", "2026-10-26", "2026-10-25 23:00", id="berlin-after-fall-back"),
        pytest.param("America/Santiago", "2026-09-06", "2026-09-06 04:00", id="santiago-midnight-skipped"),
    ],
)
def test_day_start(zone: str, day: str, expected_utc: str) -> None:
    clock = every_day(zone, "09:00", "17:00")
    assert clock.day_start(date.fromisoformat(day)) == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)


# --- open or not ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open", "next_open"),
    [
        pytest.param("2026-03-10 09:00", True, "2026-03-10 09:00", id="at-opening-is-open"),
        pytest.param("2026-03-10 16:59", True, "2026-03-10 16:59", id="a-minute-before-closing"),
        pytest.param("2026-03-10 17:00", False, "2026-03-11 09:00", id="at-closing-is-closed"),
        pytest.param("2026-03-10 08:59", False, "2026-03-10 09:00", id="before-opening"),
        pytest.param("2026-03-13 17:30", False, "2026-03-16 09:00", id="friday-evening"),
        pytest.param("2026-03-15 12:00", False, "2026-03-16 09:00", id="sunday"),
        pytest.param("2026-12-25 10:00", False, "2026-12-28 09:00", id="holiday"),
        pytest.param("2026-03-08 03:30", False, "2026-03-09 09:00", id="spring-forward-night"),
        pytest.param("2026-11-01 01:30", False, "2026-11-02 09:00", id="fall-back-repeated-hour"),
    ],
)
def test_open_and_next_open(moment: str, is_open: bool, next_open: str) -> None:
    clock = clock_for(NEW_YORK)
    assert clock.is_open(ny(moment)) is is_open
    assert clock.next_open(ny(moment)) == ny(next_open)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(TypeError):
        clock_for(NEW_YORK).elapsed(datetime(2026, 3, 10, 10), datetime(2026, 3, 10, 12))


def test_far_moments_lay_out_more_windows() -> None:
    clock = BusinessClock(NEW_YORK)
    here = ny("2026-03-10 10:00")
    later = clock.add(here, h("8") * 260 * 3)  # three years of workdays, holidays aside
    assert clock.elapsed(here, later) == h("8") * 260 * 3
    assert clock.elapsed(ny("2020-01-06 09:00"), ny("2020-01-06 17:00")) == h("8")


# --- properties -----------------------------------------------------------------------------------------------

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]
LOW, HIGH = datetime(2025, 1, 1), datetime(2027, 12, 31)


@st.composite
def business_hours(draw: st.DrawFn, *, earliest: int = 0, latest: int = 24) -> BusinessHours:
    """Hours on quarter hours, opening no sooner than `earliest` o'clock and closing before `latest` o'clock."""
    start = draw(st.integers(earliest * 4, latest * 4 - 2))
    end = draw(st.integers(start + 1, latest * 4 - 1))
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.frozensets(st.dates(LOW.date(), HIGH.date()), max_size=20))
    return BusinessHours(
        timezone=draw(st.sampled_from(ZONES)),
        days=tuple(sorted(days)),
        start=time(start // 4, start % 4 * 15),
        end=time(end // 4, end % 4 * 15),
        holidays=holidays,
    )


# DST changes of the zones above in 2026 (UTC, roughly): moments near them are drawn as often as any others.
CHANGES = [
    datetime.fromisoformat(text).replace(tzinfo=UTC)
    for text in (
        *("2026-03-08 07:00", "2026-11-01 06:00"),  # New York
        *("2026-03-29 01:00", "2026-10-25 01:00"),  # Berlin
        *("2026-04-04 15:00", "2026-10-03 15:30"),  # Lord Howe (half an hour)
        *("2026-04-05 03:00", "2026-09-06 04:00"),  # Santiago (at midnight)
    )
]
near = st.timedeltas(-timedelta(days=2), timedelta(days=2))
moments = st.one_of(
    st.datetimes(LOW, HIGH, timezones=st.just(UTC)),
    st.builds(lambda change, offset: change + offset, st.sampled_from(CHANGES), near),
)
offsets = st.timedeltas(-timedelta(days=20), timedelta(days=20))  # a second moment near the first
durations = st.timedeltas(timedelta(0), timedelta(days=12))
clocks = business_hours().map(BusinessClock)
PROPERTY = settings(deadline=None, max_examples=examples(150))


@PROPERTY
@given(clocks, moments, durations)
def test_elapsed_undoes_add(clock: BusinessClock, a: datetime, d: timedelta) -> None:
    assert clock.elapsed(a, clock.add(a, d)) == d
    assert clock.elapsed(clock.add(a, -d), a) == d


@PROPERTY
@given(clocks, moments, offsets, durations, durations)
def test_add_is_monotonic(clock: BusinessClock, a: datetime, ab: timedelta, d: timedelta, e: timedelta) -> None:
    a, b = sorted((a, a + ab))
    d, e = sorted((d, e))
    assert clock.add(a, d) <= clock.add(a, e)
    assert clock.add(a, d) <= clock.add(b, d)
    assert clock.add(a, d) >= a


@PROPERTY
@given(clocks, moments, offsets, offsets)
def test_elapsed_is_additive(clock: BusinessClock, a: datetime, ab: timedelta, bc: timedelta) -> None:
    b = a + ab
    c = b + bc
    assert clock.elapsed(a, c) == clock.elapsed(a, b) + clock.elapsed(b, c)


@PROPERTY
@given(clocks, moments, offsets)
def test_elapsed_is_at_most_real_time(clock: BusinessClock, a: datetime, ab: timedelta) -> None:
    a, b = sorted((a, a + ab))
    assert timedelta(0) <= clock.elapsed(a, b) <= b - a


@PROPERTY
@given(clocks, moments, durations.filter(bool))
def test_add_lands_inside_business_hours(clock: BusinessClock, a: datetime, d: timedelta) -> None:
    result = clock.add(a, d)
    assert clock.is_open(result - MICRO)  # working time ran up to the result (which may be a closing)


@PROPERTY
@given(clocks, moments)
def test_next_open_is_the_next_business_moment(clock: BusinessClock, a: datetime) -> None:
    opening = clock.next_open(a)
    assert opening >= a and clock.is_open(opening)
    assert clock.elapsed(a, opening) == timedelta(0)
    assert (opening == a) is clock.is_open(a)


@PROPERTY
@given(business_hours(earliest=4, latest=23), moments, st.timedeltas(timedelta(0), timedelta(days=9)))
def test_elapsed_matches_counting_day_by_day(hours: BusinessHours, a: datetime, span: timedelta) -> None:
    # Between 04:00 and 23:00 no opening or closing falls on a DST change in these zones: the naive reading is right.
    b = a + span
    zone = ZoneInfo(hours.timezone)
    expected = timedelta(0)
    day = a.astimezone(zone).date() - timedelta(days=1)
    while day <= b.astimezone(zone).date():
        if day.weekday() in hours.days and day not in hours.holidays:
            opening = datetime.combine(day, hours.start, zone)
            closing = datetime.combine(day, hours.end, zone)
            expected += max(timedelta(0), min(b, closing) - max(a, opening))
        day += timedelta(days=1)
    assert BusinessClock(hours).elapsed(a, b) == expected
