"""When the bridge may @mention someone on its own: within their own working hours, and not while they are away.

A person's hours are the team's calendar (working days, holidays) read on their own wall clock: their own
timezone (Slack's `tz`) and their own start and end (a routing pool entry's `hours`), each falling back to the
team's. Only mentions wait on this; SLA clocks, reminders' due moments and reports stay on the team's calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.domain.business_time import clock_for
from bridge.domain.policy import BusinessHours


@dataclass(frozen=True)
class Person:
    """What the bridge knows of someone's time; every field may be unknown."""

    timezone: str | None = None  # an IANA zone, as Slack's users.info gives it
    hours: tuple[time, time] | None = None
    out_of_office: tuple[tuple[date, date], ...] = ()  # (first, last) days away, both included


def own_hours(team: BusinessHours, person: Person) -> BusinessHours:
    """The team's working days and holidays on the person's own clock and hours."""
    start, end = person.hours or (team.start, team.end)
    zone = person.timezone if person.timezone and _known_zone(person.timezone) else team.timezone
    if (zone, start, end) == (team.timezone, team.start, team.end):
        return team
    return replace(team, timezone=zone, start=start, end=end)


def mention_at(team: BusinessHours, person: Person, now: datetime) -> datetime:
    """The earliest moment from `now` at which the person may be mentioned: `now` itself when they are at work,
    else the next opening of their hours that is not on a day they are out of office ("not now, retry at T")."""
    clock = clock_for(own_hours(team, person))
    at = clock.next_open(now)
    for _ in range(len(person.out_of_office) + 1):  # each pass moves past one absence at least
        back = _back_after(person.out_of_office, clock.local_date(at))
        if back is None:
            return at
        at = clock.next_open(clock.day_start(back))
    return at


def _back_after(away: Sequence[tuple[date, date]], day: date) -> date | None:
    """The day after the absence that covers `day`, or None when the person is not away then."""
    ends = [last for first, last in away if first <= day <= last]
    return max(ends) + timedelta(days=1) if ends else None


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
