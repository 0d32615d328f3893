"""Client-side pacing: a token bucket per API quota, so the bridge stays under limits instead of hitting 429s."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most `per_minute` acquisitions in any 60-second window; a Retry-After pauses everyone.

    A sliding-window log: it never exceeds the quota however Asana slices its minute, and it is about as fast as
    the quota allows (600 calls under 150/min finish at 3 minutes, not 4). The window is kept 1% longer than the
    server's: a call is stamped here a moment before Asana sees it, and that moment varies from call to call.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._quota = per_minute
        self._window = window * 1.01
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._parts = 1

    @property
    def per_minute(self) -> int:
        """This process's share of the quota."""
        return max(1, self._quota // self._parts)

    def share(self, parts: int) -> None:
        """The quota is shared by `parts` processes (replicas on one token): take an equal share of it."""
        self._parts = max(1, parts)

    def pause(self, seconds: float) -> None:
        """Nobody acquires for `seconds` (the server said Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._lock:  # waiters queue in order
            while True:
                now = self._clock()
                wait = self._paused_until - now
                while self._stamps and self._stamps[0] <= now - self._window:
                    self._stamps.popleft()
                quota = self.per_minute  # may have shrunk since the stamps were taken: wait for the oldest to age out
                if len(self._stamps) >= quota:
                    wait = max(wait, self._stamps[len(self._stamps) - quota] + self._window - now)
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._stamps.append(now)


class ChannelPacer:
    """Spaces posts to one Slack channel about `interval` seconds apart (Slack allows ~1 message/s/channel)."""

    def __init__(
        self,
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        now = self._clock()
        slot = max(now, self._next.get(channel, 0.0))
        self._next[channel] = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)


class SharedChannelPacer:
    """ChannelPacer for several replicas: each post reserves its channel's next slot in the shared database, so
    together the replicas keep one channel's pace instead of each keeping it alone (and meeting 429s)."""

    def __init__(
        self,
        reserve: Callable[[str, float], Awaitable[float]],
        interval: float = 1.0,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._reserve = reserve  # (channel, interval) -> seconds until the reserved slot
        self._interval = interval
        self._sleep = sleep

    async def wait(self, channel: str) -> None:
        delay = await self._reserve(channel, self._interval)
        if delay > 0:
            await self._sleep(delay)
