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


def format_duration(duration: timedelta) -> str:
    """A duration as bridge.toml writes it: "3d", "1d 4h", "90m" reads "1h 30m"."""
    minutes = int(duration.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value]
    return " ".join(parts) or "0m"
