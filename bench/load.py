"""A closed-loop load: `concurrency` senders, each sending its next request as soon as the last one answered."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# One request: sends request number n, returns (HTTP status, seconds until the whole answer was read).
Send = Callable[[int], Awaitable[tuple[int, float]]]


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)  # of the requests answered 2xx
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0
    cpu_seconds: float = 0.0  # of the process that answered, where the bench measures it

    def add(self, other: Load) -> Load:
        """Take in another load's requests (rounds of one bench judged together)."""
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.elapsed += other.elapsed
        self.cpu_seconds += other.cpu_seconds
        return self

    @property
    def ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)


async def closed_loop(send: Send, *, requests: int, concurrency: int, first: int = 0) -> Load:
    """Send requests `first` … `first + requests - 1`, at most `concurrency` in flight."""
    load = Load()
    numbers = iter(range(first, first + requests))

    async def sender() -> None:
        for n in numbers:  # the senders share one iterator: each number is sent once
            status, seconds = await send(n)
            load.statuses[status] += 1
            if 200 <= status < 300:
                load.latencies.append(seconds)

    # The client's own garbage collections would pause every sender at once, and more so late in a full run, with
    # the earlier benches' objects about: a pause of the load, not of what is measured, and worst for a fast floor.
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        load.elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    return load
