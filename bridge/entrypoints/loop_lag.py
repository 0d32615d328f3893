"""A probe of the event loop: a task that asks to wake every `every` seconds and records how late it woke. Its
worst delay is how long something held the loop (no Slack ack, no Asana handshake could be answered meanwhile)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from bridge.metrics import Metrics

WINDOW = 60.0  # seconds the reported worst delay looks back


class LoopLagProbe:
    def __init__(self, *, metrics: Metrics | None = None, every: float = 0.05) -> None:
        self._metrics = metrics
        self._every = every
        self._late: deque[tuple[float, float]] = deque()  # (when, delay), the worst at the left
        self.worst = 0.0  # since start (or since reset())
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag-probe")

    def reset(self) -> None:
        self.worst = 0.0
        self._late.clear()

    def worst_within(self, seconds: float = WINDOW) -> float:
        cutoff = time.monotonic() - seconds
        return max((delay for when, delay in self._late if when >= cutoff), default=0.0)

    async def _run(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self._every)
            woke = time.monotonic()
            self._record(woke, max(0.0, woke - asked - self._every))

    def _record(self, now: float, delay: float) -> None:
        self.worst = max(self.worst, delay)
        # A monotonic deque: a delay hides every smaller one before it, so the window's worst is at the left.
        while self._late and self._late[-1][1] <= delay:
            self._late.pop()
        self._late.append((now, delay))
        while self._late[0][0] < now - WINDOW:
            self._late.popleft()
        if self._metrics is not None:
            self._metrics.loop_delays.observe(delay)
            self._metrics.loop_lag.set(self._late[0][1])
            self._metrics.loop_lag_max.set(self.worst)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
