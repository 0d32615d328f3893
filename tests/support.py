"""Small test helpers: a clock that tests move by hand, waiting for a condition instead of sleeping, and waiting for
a served bridge process to answer its health check."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar, overload

T = TypeVar("T")

# Property tests draw all the examples they ask for in CI (or with BRIDGE_TEST_THOROUGH=1), a fifth in a local run,
# so that the unit suite stays a loop of seconds (issue 21) and CI still searches as widely as before.
THOROUGH = bool(os.environ.get("CI") or os.environ.get("BRIDGE_TEST_THOROUGH"))


def examples(thorough: int) -> int:
    """How many examples a property test draws: `thorough` in CI, a fifth (at least ten) otherwise."""
    return thorough if THOROUGH else max(10, thorough // 5)


# bridge.toml business hours around the clock: a test's business time runs whatever day and hour it runs at.
ALWAYS_OPEN = """
[business_hours]
timezone = "UTC"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"
"""


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # a Monday, 9:00 in New York

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


# Two signatures, so that mypy solves T from either kind of check (`lambda: store.get(x)` returning a coroutine, or
# `lambda: len(posts) > 1`); the value the test gets back is the check's value with None taken out.
@overload
async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 5.0) -> T: ...
@overload
async def eventually(check: Callable[[], T | None], *, timeout: float = 5.0) -> T: ...
async def eventually(check: Callable[[], Awaitable[T | None] | T | None], *, timeout: float = 5.0) -> T:
    """Poll `check` until it returns something truthy; fail with the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        await asyncio.sleep(0.01)


async def serving(url: str, process: subprocess.Popen[bytes], *, log: Path | None = None, timeout: float = 20) -> None:
    """Wait until the bridge process at `url` answers GET /healthz with 200; fail at once (with its log) if it died."""
    import aiohttp  # here, not at the top: unit tests import this module and need no HTTP client

    async with aiohttp.ClientSession() as http:

        async def healthy() -> str | None:
            if process.poll() is not None:
                return "exited"
            try:
                async with http.get(f"{url}/healthz") as response:
                    return "serving" if response.status == 200 else None
            except aiohttp.ClientConnectionError:
                return None

        outcome: str = await eventually(healthy, timeout=timeout)
    if outcome != "serving":
        said = await asyncio.to_thread(log.read_text) if log is not None else ""
        raise AssertionError(f"the bridge process exited before serving\n{said}")


async def metric(url: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """A sample of a bridge's /metrics at `url` (with exactly these labels, when given); None when it has none."""
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families

    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and (labels is None or sample.labels == labels):
                return float(sample.value)
    return None
