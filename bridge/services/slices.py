"""Long rounds of pure work (a tick judging 100,000 tasks) in slices: the event loop gets a turn every few
milliseconds, so Slack's 3-second ack and Asana's webhook handshake never wait behind them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

BUDGET = 0.01  # seconds of work between two turns of the loop: well under the 50 ms any request may wait
SLICE = 500  # items judged between two looks at the clock


class Slicer:
    """Call `await slicer.turn()` between pieces of work: it gives the loop a turn once `budget` has run."""

    def __init__(self, budget: float = BUDGET) -> None:
        self._budget = budget
        self._since = time.perf_counter()

    async def turn(self) -> None:
        if time.perf_counter() - self._since >= self._budget:
            await asyncio.sleep(0)
            self._since = time.perf_counter()


def chunks(items: Sequence[T], size: int = SLICE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
