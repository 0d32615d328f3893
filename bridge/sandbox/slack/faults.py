"""Fault injection for the Slack emulator: error statuses, API errors, slow answers and dropped connections."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """One rule. `method=None` matches every method; `times=None` applies until removed."""

    method: str | None = None
    status: int | None = None  # 429, 500, 503… (None: 200, or the error below)
    error: str | None = None  # an API error answered with HTTP 200, e.g. "channel_not_found"
    retry_after: int = 1
    times: int | None = 1
    probability: float | None = None
    delay: float = 0.0
    drop: bool = False  # close the connection without an answer
    processed: bool = False  # carry the call out first, then fail: "Slack did it, but the answer was lost"
    match: Callable[[dict[str, Any]], bool] | None = None
    hits: int = 0

    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.rules: list[Fault] = []

    def add(
        self,
        method: str | None = None,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        times: int | None = 1,
        probability: float | None = None,
        delay: float = 0.0,
        drop: bool = False,
        processed: bool = False,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Fault:
        fault = Fault(method, status, error, retry_after, times, probability, delay, drop, processed, match)
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self.rules:
            if fault.exhausted() or fault.method not in {None, method}:
                continue
            if fault.match is not None and not fault.match(params):
                continue
            if fault.probability is not None and self.rng.random() >= fault.probability:
                continue
            fault.hits += 1
            return fault
        return None

    @staticmethod
    def answer(fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """The status, body and headers a fault answers with, or None when it only delays or drops."""
        if fault.status == 429:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
        if fault.status is not None and fault.status >= 500:
            error = "service_unavailable" if fault.status == 503 else "fatal_error"
            return fault.status, {"ok": False, "error": fault.error or error}, {}
        if fault.status is not None or fault.error is not None:
            return fault.status or 200, {"ok": False, "error": fault.error or "fatal_error"}, {}
        return None
