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


def describe_duration(duration: timedelta, *, days: bool = True) -> str:
    """A duration for people, in its two largest units: "45m", "3h 20m", "2d 4h", "-1h 5m" (past a deadline).

    Business time is told in hours (`days=False`: "26h"), since its days are working days of the team's length.
    """
    sign = "-" if duration < timedelta(0) else ""
    minutes = int(abs(duration).total_seconds() // 60)
    whole_days, rest = divmod(minutes, 1440) if days else (0, minutes)
    hours, minutes = divmod(rest, 60)
    if whole_days:
        return f"{sign}{whole_days}d {hours}h" if hours else f"{sign}{whole_days}d"
    if hours:
        return f"{sign}{hours}h {minutes}m" if minutes else f"{sign}{hours}h"
    return f"{sign}{minutes}m"
