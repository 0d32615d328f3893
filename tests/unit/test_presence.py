"""Quiet hours for mentions: a person's own timezone and hours, holidays, out of office ("not now, retry at T")."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bridge.domain.policy import BusinessHours
from bridge.domain.presence import Person, mention_at, own_hours

TEAM = BusinessHours(timezone="America/New_York", holidays=frozenset({date(2026, 12, 25)}))
BERLIN = "Europe/Berlin"
TOKYO = "Asia/Tokyo"


def at(zone: str, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def ny(text: str) -> datetime:
    return at("America/New_York", text)


@pytest.mark.parametrize(
    ("person", "now", "expected"),
    [
        pytest.param(Person(), ny("2026-12-07 10:00"), ny("2026-12-07 10:00"), id="at-work-now"),
        pytest.param(Person(), ny("2026-12-07 18:00"), ny("2026-12-08 09:00"), id="evening-waits-for-morning"),
        pytest.param(Person(), ny("2026-12-06 12:00"), ny("2026-12-07 09:00"), id="sunday-waits-for-monday"),
        pytest.param(Person(), ny("2026-12-24 18:00"), ny("2026-12-28 09:00"), id="holiday-and-weekend"),
        # 10:00 in New York is 16:00 in Berlin: at work; 12:00 is 18:00 there: tomorrow 09:00 Berlin.
        pytest.param(Person(BERLIN), ny("2026-12-07 10:00"), ny("2026-12-07 10:00"), id="berlin-afternoon"),
        pytest.param(Person(BERLIN), ny("2026-12-07 12:00"), at(BERLIN, "2026-12-08 09:00"), id="berlin-evening"),
        pytest.param(Person(TOKYO), ny("2026-12-07 10:00"), at(TOKYO, "2026-12-08 09:00"), id="tokyo-night"),
        pytest.param(Person(TOKYO), ny("2026-12-06 20:00"), ny("2026-12-06 20:00"), id="tokyo-monday-morning"),
        pytest.param(
            Person(hours=(time(7), time(15))), ny("2026-12-07 15:30"), ny("2026-12-08 07:00"), id="own-hours-end-early"
        ),
        pytest.param(
            Person(BERLIN, hours=(time(6), time(12))),
            ny("2026-12-07 07:00"),
            at(BERLIN, "2026-12-08 06:00"),
            id="own-hours-on-own-clock",
        ),
        pytest.param(Person("Not/AZone"), ny("2026-12-07 18:00"), ny("2026-12-08 09:00"), id="unknown-zone-is-team"),
        pytest.param(
            Person(out_of_office=((date(2026, 12, 7), date(2026, 12, 9)),)),
            ny("2026-12-07 10:00"),
            ny("2026-12-10 09:00"),
            id="out-of-office-waits-until-back",
        ),
        pytest.param(
            Person(out_of_office=((date(2026, 12, 10), date(2026, 12, 11)),)),
            ny("2026-12-07 10:00"),
            ny("2026-12-07 10:00"),
            id="away-later-is-here-now",
        ),
        pytest.param(
            Person(out_of_office=((date(2026, 12, 3), date(2026, 12, 4)), (date(2026, 12, 7), date(2026, 12, 11)))),
            ny("2026-12-04 10:00"),
            ny("2026-12-14 09:00"),
            id="back-on-a-weekend-then-away-again",
        ),
        pytest.param(
            Person(out_of_office=((date(2026, 12, 21), date(2026, 12, 24)),)),
            ny("2026-12-22 10:00"),
            ny("2026-12-28 09:00"),
            id="back-after-the-holiday",
        ),
    ],
)
def test_mention_at(person: Person, now: datetime, expected: datetime) -> None:
    assert mention_at(TEAM, person, now) == expected


# DST: New York springs forward on 8 March, Berlin on 29 March 2026; between, they are 5 hours apart, not 6.
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(ny("2026-03-02 11:30"), at(BERLIN, "2026-03-03 09:00"), id="six-hours-apart-17-30-berlin"),
        pytest.param(ny("2026-03-09 11:30"), ny("2026-03-09 11:30"), id="five-hours-apart-16-30-berlin"),
        pytest.param(ny("2026-03-30 11:30"), at(BERLIN, "2026-03-31 09:00"), id="six-again-after-berlin-changes"),
    ],
)
def test_mention_at_across_dst(now: datetime, expected: datetime) -> None:
    assert mention_at(TEAM, Person(BERLIN), now) == expected


def test_own_hours_keep_the_team_calendar() -> None:
    hours = own_hours(TEAM, Person(BERLIN, hours=(time(8), time(16))))
    assert (hours.timezone, hours.start, hours.end) == (BERLIN, time(8), time(16))
    assert hours.days == TEAM.days and hours.holidays == TEAM.holidays
    assert own_hours(TEAM, Person()) is TEAM
