"""Durations written as "90m", "4h", "2d", "1w" (or combinations like "1h30m") in bridge.toml."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_WHOLE = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse a duration; raise ValueError with the accepted forms when it is not one."""
    lowered = text.strip().lower()
    if not lowered or not _WHOLE.match(lowered):
        raise ValueError(f'expected a duration like "90m", "4h", "2d" or "1h30m", got {text!r}')
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(lowered))
    if seconds <= 0:
        raise ValueError(f"expected a duration above zero, got {text!r}")
    return timedelta(seconds=seconds)


def describe_duration(duration: timedelta, *, workday: timedelta | None = None) -> str:
    """A duration for people, in its two largest units: "45m", "3h 20m", "2d 4h", "-1h 5m" (past a deadline).

    With `workday` (business time), a day is one working day ("1d" = 8 working hours), as in bridge.toml.
    """
    sign = "-" if duration < timedelta(0) else ""
    minutes = int(abs(duration).total_seconds() // 60)
    per_day = int((workday or timedelta(days=1)).total_seconds() // 60) or 1440
    days, rest = divmod(minutes, per_day)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h {minutes}m" if minutes else f"{sign}{hours}h"
    return f"{sign}{minutes}m"
