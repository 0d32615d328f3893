"""The one way the bridge tells time to people: durations, business durations, moments and near times.

Everything here is wording, so it lives with the rest of the words. Moments are shown in the team's timezone
(named, so nobody has to guess); in Slack they are wrapped in `<!date^…>` so each reader sees their own, with
the team's wording as the fallback. Business time is told in working days and hours of the team's calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.domain.durations import Span

MINUTE = timedelta(minutes=1)
OUTSIDE_HOURS = "answered outside working hours"  # a first response whose working time is zero


def duration(value: timedelta, *, days: bool = True) -> str:
    """A clock duration in its two largest units: "45m", "3h 20m", "2d 4h", "-1h 5m"; "under 1m" below a minute.

    `days=False` tells it in hours ("26h"): business time, whose days are the team's working days.
    """
    if abs(value) < MINUTE:
        return "under 1m"
    sign = "-" if value < timedelta(0) else ""
    minutes = int(abs(value).total_seconds() // 60)
    whole_days, rest = divmod(minutes, 1440) if days else (0, minutes)
    hours, minutes = divmod(rest, 60)
    if whole_days:
        return f"{sign}{whole_days}d {hours}h" if hours else f"{sign}{whole_days}d"
    if hours:
        return f"{sign}{hours}h {minutes}m" if minutes else f"{sign}{hours}h"
    return f"{sign}{minutes}m"


def working(value: timedelta, *, workday: timedelta | None = None) -> str:
    """Business time: "3h 20m", or in working days of `workday` once a day is reached ("2 working days 3h")."""
    if workday is None or abs(value) < workday:
        return duration(value, days=False)
    sign = "-" if value < timedelta(0) else ""
    whole, rest = divmod(abs(value), workday)
    said = f"{sign}{_count(whole, 'working day')}"
    return f"{said} {duration(rest, days=False)}" if rest >= MINUTE else said


def first_response(value: timedelta) -> str:
    """A first-response time in business time; zero means the answer came while the team was off work."""
    return OUTSIDE_HOURS if value <= timedelta(0) else duration(value, days=False)


def span(value: Span) -> str:
    """A business duration from bridge.toml as written: "3 working days", "1 working week", "4 working hours"."""
    parts = []
    if value.weeks:
        parts.append(_count(value.weeks, "working week"))
    if value.days:
        parts.append(_count(value.days, "working day"))
    if value.time and not parts:
        hours = value.time / timedelta(hours=1)
        parts.append(_count(hours, "working hour") if hours >= 1 and hours.is_integer() else duration(value.time))
    elif value.time:
        parts.append(duration(value.time))
    return " ".join(parts) or "no time"


def overdue(over: timedelta, *, workday: timedelta) -> str:
    """How far past a business-time deadline: "3 working days overdue", "2h 10m overdue"."""
    return f"{working(over, workday=workday)} overdue"


def relative(moment: datetime, now: datetime) -> str:
    """A near moment from now, in clock time: "in 2h", "5m ago", "in under 1m"."""
    gap = moment - now
    return f"in {duration(gap)}" if gap >= timedelta(0) else f"{duration(-gap)} ago"


def moment(at: datetime, timezone: str) -> str:
    """A moment on the team's wall clock, its zone named: "Mon 07 Dec 2026 14:05 EST"."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def slack_moment(at: datetime, timezone: str) -> str:
    """A moment in Slack: each reader sees it in their own timezone; the team's wording is the fallback."""
    stamp = int(at.astimezone(UTC).timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment(at, timezone)}>"


def _count(number: float, unit: str) -> str:
    shown = f"{number:g}"
    return f"{shown} {unit}" if number == 1 else f"{shown} {unit}s"
