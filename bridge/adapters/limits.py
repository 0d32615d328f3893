"""Client-side pacing: a token bucket per API quota, so the bridge stays under limits instead of hitting 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """Allows `per_minute` acquisitions per minute, smoothly, with a small burst; can be paused by a Retry-After."""

    def __init__(self, per_minute: float, *, burst: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._rate = per_minute / 60.0
        self._capacity = burst if burst is not None else max(1.0, per_minute / 30.0)
        self._tokens = self._capacity
        self._clock = clock
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Nobody acquires for `seconds` (the server said Retry-After); the bucket restarts empty."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._tokens = 0.0

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    self._stamp = self._clock()
                    continue
                self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self._rate)


class ChannelPacer:
    """Spaces posts to one Slack channel about `interval` seconds apart (Slack allows ~1 message/s/channel)."""

    def __init__(self, interval: float = 1.0, *, clock: Callable[[], float] = time.monotonic):
        self._interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        now = self._clock()
        slot = max(now, self._next.get(channel, 0.0))
        self._next[channel] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)
