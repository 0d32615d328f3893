"""Durations written as "90m", "4h", "2d", "1w" (or combinations like "1h30m") in bridge.toml.

A business duration keeps its units as written: how long a working day or week is depends on the team's
calendar (a 9-17 Mon-Fri team works 8 h a day and 40 h a week), which only the business clock knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_WHOLE = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Span:
    """A business duration: working weeks and days of the team's calendar, plus working time (h, m, s)."""

    weeks: float = 0.0
    days: float = 0.0
    time: timedelta = timedelta(0)

    @classmethod
    def of(cls, *, weeks: float = 0.0, days: float = 0.0, hours: float = 0.0, minutes: float = 0.0) -> Span:
        return cls(weeks=weeks, days=days, time=timedelta(hours=hours, minutes=minutes))

    def __bool__(self) -> bool:
        return bool(self.weeks or self.days or self.time)


def parse_duration(text: str, *, zero: bool = False) -> Span:
    """Parse a business duration; raise ValueError with the accepted forms when it is not one.

    `zero`: "0m" is allowed (where it means "at once"); otherwise a duration must be above zero.
    """
    lowered = text.strip().lower()
    if not lowered or not _WHOLE.match(lowered):
        raise ValueError(f'expected a duration like "90m", "4h", "2d" or "1h30m", got {text!r}')
    weeks = days = seconds = 0.0
    for number, unit in _PART.findall(lowered):
        if unit == "w":
            weeks += float(number)
        elif unit == "d":
            days += float(number)
        else:
            seconds += float(number) * _UNIT_SECONDS[unit]
    span = Span(weeks=weeks, days=days, time=timedelta(seconds=seconds))
    if not span and not zero:
        raise ValueError(f"expected a duration above zero, got {text!r}")
    return span
