"""Client-side pacing with a clock the test moves: the quota is kept without waiting for real time."""

from __future__ import annotations

import asyncio
import time as _time

import pytest

from bridge.adapters.limits import ChannelPacer, RateLimiter


class Time:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("per_minute", "calls"), [(150, 600), (1500, 3000), (60, 10)])
async def test_rate_limiter_never_exceeds_the_quota_in_any_minute(per_minute: int, calls: int) -> None:
    time = Time()
    limiter = RateLimiter(per_minute, clock=time.clock, sleep=time.sleep)
    stamps = []
    for _ in range(calls):
        await limiter.acquire()
        stamps.append(time.now)
    # Asana checks its quota more often than once a minute: no 60-second window may hold more than the quota.
    start = 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 60.0:
            start += 1
        assert end - start + 1 <= per_minute
    minimum = (calls - 1) // per_minute * 60.0  # a full quota at once, then the next as each minute frees up
    # and it is no slower than the quota allows, but for the 1% it keeps in hand for the way to Asana
    assert minimum <= stamps[-1] <= minimum * 1.01 + 1e-6


async def test_a_shared_quota_gives_each_replica_its_part_at_once() -> None:
    time = Time()
    limiter = RateLimiter(150, clock=time.clock, sleep=time.sleep)
    for _ in range(100):
        await limiter.acquire()
    assert time.now == 0.0  # alone, 100 calls fit in the quota
    limiter.share(3)  # two more replicas joined: 50 a minute each, and 100 were made this minute
    assert limiter.per_minute == 50
    await limiter.acquire()
    assert time.now == pytest.approx(60.6)  # the 100 must age out of the (1 % longer) window first
    stamps = [time.now]
    for _ in range(120):
        await limiter.acquire()
        stamps.append(time.now)
    start = 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 60.0:
            start += 1
        assert end - start + 1 <= 50
    limiter.share(0)  # nonsense counts mean alone
    assert limiter.per_minute == 150


async def test_retry_after_pauses_everyone() -> None:
    time = Time()
    limiter = RateLimiter(1500, clock=time.clock, sleep=time.sleep)
    await limiter.acquire()
    limiter.pause(7.0)
    await limiter.acquire()
    assert time.now >= 7.0


async def test_channel_pacer_spaces_posts_per_channel_only() -> None:
    time = Time()
    pacer = ChannelPacer(1.0, clock=time.clock, sleep=time.sleep)
    for channel in ("C1", "C1", "C2", "C1"):
        await pacer.wait(channel)
    assert time.slept == [1.0, 1.0]  # the second and third post to C1 wait; C2 does not


async def test_channel_pacer_queues_concurrent_posts_in_real_time() -> None:
    pacer = ChannelPacer(0.05)
    done: list[float] = []

    async def post() -> None:
        await pacer.wait("C1")
        done.append(_time.monotonic())

    start = _time.monotonic()
    await asyncio.gather(*(post() for _ in range(4)))
    # The n-th post goes no sooner than n intervals after the first could; on a loaded machine a late wake-up can
    # bring two posts closer than one interval, but never ahead of their turn.
    assert all(at - start >= n * 0.045 for n, at in enumerate(done)), [at - start for at in done]
