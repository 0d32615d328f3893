"""Asana's limits and injected faults: per-minute quota, in-flight caps, scripted 429/5xx/slow/dropped calls."""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.sandbox.asana.clock import Clock
from bridge.sandbox.asana.errors import ApiError, rate_limited

# In-flight caps per token: GET 50, writes 15; the two pools are independent (rate-limits guide).
MAX_READS_IN_FLIGHT = 50
MAX_WRITES_IN_FLIGHT = 15


class RateLimiter:
    """A sliding one-minute quota per token; rejected requests count too, as Asana's docs warn."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.per_minute: int | None = None
        self._seen: dict[str, deque[datetime]] = {}

    def check(self, token: str) -> None:
        if self.per_minute is None:
            return
        now = self._clock.now()
        window = self._seen.setdefault(token, deque())
        while window and now - window[0] >= timedelta(minutes=1):
            window.popleft()
        window.append(now)
        if len(window) > self.per_minute:
            oldest = window[len(window) - self.per_minute - 1]
            raise rate_limited(max(1.0, (oldest + timedelta(minutes=1) - now).total_seconds()))

    def reset(self) -> None:
        self._seen.clear()


class InFlight:
    """Counts requests in flight per token and pool; beyond the cap Asana answers 429."""

    def __init__(self) -> None:
        self.reads = MAX_READS_IN_FLIGHT
        self.writes = MAX_WRITES_IN_FLIGHT
        self._counts: dict[tuple[str, bool], int] = {}

    def enter(self, token: str, write: bool) -> None:
        key = (token, write)
        if self._counts.get(key, 0) >= (self.writes if write else self.reads):
            # Retry-After covers the time for in-flight requests to finish; a second is plenty here.
            raise rate_limited(1)
        self._counts[key] = self._counts.get(key, 0) + 1

    def leave(self, token: str, write: bool) -> None:
        key = (token, write)
        self._counts[key] = max(0, self._counts.get(key, 0) - 1)


@dataclass
class Fault:
    """One scripted misbehaviour. Matches method and a regex searched in the path below /api/1.0."""

    method: str | None
    path_pattern: re.Pattern[str]
    status: int | None = None
    retry_after: float | None = None
    times: int | None = None  # None: forever
    probability: float | None = None
    delay: float = 0.0
    drop_connection: bool = False
    message: str | None = None
    hits: int = 0

    def error(self) -> ApiError | None:
        if self.status is None:
            return None
        if self.status == 429:
            return rate_limited(self.retry_after if self.retry_after is not None else 1)
        headers = {"Retry-After": str(int(self.retry_after))} if self.retry_after is not None else {}
        default = "Server Error" if self.status >= 500 else "Injected error"
        return ApiError(self.status, self.message or default, headers=headers)


class Faults:
    """Scripted faults, first match wins; probabilities use a seeded RNG so runs repeat."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self.rules: list[Fault] = []

    def add(
        self,
        *,
        method: str | None = None,
        path_pattern: str = ".*",
        status: int | None = None,
        retry_after: float | None = None,
        times: int | None = 1,
        probability: float | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        message: str | None = None,
    ) -> Fault:
        """Add a fault: e.g. add(method="POST", path_pattern=r"^/tasks$", status=429, retry_after=1, times=2)."""
        fault = Fault(
            method=method.upper() if method else None,
            path_pattern=re.compile(path_pattern),
            status=status,
            retry_after=retry_after,
            times=times,
            probability=probability,
            delay=delay,
            drop_connection=drop_connection,
            message=message,
        )
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

    def seed(self, seed: int) -> None:
        """Start the probabilities' random sequence again from `seed`."""
        self._rng.seed(seed)

    def match(self, method: str, path: str) -> Fault | None:
        for fault in self.rules:
            if fault.method is not None and fault.method != method:
                continue
            if fault.times is not None and fault.hits >= fault.times:
                continue
            if not fault.path_pattern.search(path):
                continue
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            fault.hits += 1
            return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        return [{"method": f.method, "path": f.path_pattern.pattern, "hits": f.hits} for f in self.rules]
