"""The emulator's clock: real UTC time plus an offset that tests can advance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class Clock:
    """Now, as Asana would see it; `advance` moves time forward for token expiry and 24 h webhook deletion."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0) if start is None else start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().date()

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


def iso(moment: datetime) -> str:
    """Asana's timestamp format: UTC, milliseconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO date-time (Z allowed); a bare date means midnight UTC. Raises ValueError."""
    moment = datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(text + "T00:00:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
