"""quota: a backlog of Asana calls under a per-minute quota — 429s received, and time beside the quota's minimum.

600 calls at once (three reads to one write, as a relay backlog is) through the bridge's Asana gateway, against
the emulator enforcing 150 calls per minute per token (ASANA_REQUESTS_PER_MINUTE=150, a free workspace).

A real minute would make this bench last three; both clocks run faster instead: the emulator's quota minute and
the gateway's limiter window are both `60 / speed` seconds, so the same counts meet the same edges, sooner. The
pause the limiter takes on a 429 is sped up too; only the rejected call's own wait before its retry (its
Retry-After, at least a second) is not, so each 429 costs the fast run more than it would cost a real one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.results import Profile, Result, judge
from bridge.adapters.asana_api import AsanaGateway
from bridge.adapters.limits import RateLimiter
from bridge.config import load_settings
from bridge.sandbox.asana.clock import Clock
from bridge.sandbox.asana_emulator import AsanaEmulator

NAME = "quota"
TOKEN = "2/1200000000000001/bench-quota-token"
WRITES_EVERY = 4  # one call in four is a write (PUT /tasks/{gid}); the others read (GET /tasks/{gid})


@dataclass(frozen=True)
class Sizes:
    calls: int
    per_minute: int
    speed: float  # how many times faster than real time the quota's minute passes


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(calls=600, per_minute=150, speed=10),
    "quick": Sizes(calls=300, per_minute=150, speed=30),
    "smoke": Sizes(calls=12, per_minute=6, speed=120),
}


class FastRateLimiter(RateLimiter):
    """The gateway's limiter on the fast minute: its window, and the Retry-After pauses the emulator asks for (in
    the emulator's fast seconds), both `speed` times shorter."""

    def __init__(self, per_minute: int, *, speed: float) -> None:
        super().__init__(per_minute, window=60.0 / speed)
        self._speed = speed

    def pause(self, seconds: float) -> None:
        super().pause(seconds / self._speed)


class FastClock(Clock):
    """The emulator's clock running `speed` times faster than the wall clock, from the moment it is made."""

    def __init__(self, speed: float) -> None:
        super().__init__()
        self._origin = datetime.now(UTC)
        self._speed = speed

    def now(self) -> datetime:
        return self._origin + (datetime.now(UTC) - self._origin) * self._speed


@dataclass
class Backlog:
    emulator: AsanaEmulator
    tasks: list[str]


@asynccontextmanager
async def backlog_world(sizes: Sizes) -> AsyncIterator[Backlog]:
    """An Asana with a project of tasks to read and write, enforcing `per_minute` on a fast clock."""
    emulator = AsanaEmulator(clock=FastClock(sizes.speed))
    workspace = emulator.add_workspace("Example Co")
    me = emulator.add_user("Asana Bridge", "bridge@example.com", [workspace], token=TOKEN)
    project = emulator.add_project(workspace, "Backlog", members=[me])
    actor = emulator.act(me)
    tasks = [actor.create_task(f"Backlog item {n}", project=project) for n in range(50)]
    await emulator.start()
    emulator.rate_limit(sizes.per_minute)
    try:
        yield Backlog(emulator, tasks)
    finally:
        await emulator.stop()


def gateway_for(emulator: AsanaEmulator, sizes: Sizes) -> AsanaGateway:
    """The gateway as `bootstrap.build` makes it from the settings, with its limiter's window sped up too."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench",
            "ASANA_ACCESS_TOKEN": TOKEN,
            "ASANA_API_URL": emulator.url,
            "ASANA_REQUESTS_PER_MINUTE": str(sizes.per_minute),
        },
        read_dotenv=False,
    )
    return AsanaGateway(
        base_url=settings.asana_api_url,
        token=settings.asana_access_token.reveal(),
        requests_per_minute=settings.asana_requests_per_minute,
        timeout_seconds=settings.asana_timeout_seconds,
        limiter=FastRateLimiter(settings.asana_requests_per_minute, speed=sizes.speed),
    )


def minimum_seconds(calls: int, per_minute: int, window: float) -> float:
    """The soonest the last of `calls` can start: each window lets `per_minute` more through (600 at 150 → 3)."""
    return (math.ceil(calls / per_minute) - 1) * window


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    window = 60.0 / sizes.speed
    async with backlog_world(sizes) as world:
        gateway = gateway_for(world.emulator, sizes)

        def call(n: int) -> Awaitable[Any]:
            gid = world.tasks[n % len(world.tasks)]
            return gateway.update_task(gid, {"notes": f"Touched {n}"}) if n % WRITES_EVERY == 0 else gateway.task(gid)

        try:
            started = time.perf_counter()
            await asyncio.gather(*(call(n) for n in range(sizes.calls)))
            elapsed = time.perf_counter() - started
        finally:
            gateway.close()
        rejected = sum(1 for r in world.emulator.requests if r.status == 429)
    floor = minimum_seconds(sizes.calls, sizes.per_minute, window)
    judged = profile != "smoke"
    params = {
        "calls": sizes.calls,
        "per_minute": sizes.per_minute,
        "minute_lasts_s": round(window, 3),
        "writes": sizes.calls // WRITES_EVERY,
        "as_real_minutes": round(elapsed / window, 3),
    }
    return [
        Result(NAME, "asana_429s", rejected, "responses", 0, "== 0", judge(judged, rejected, lambda v: v == 0), params),
        Result(
            NAME,
            "completion_time",
            elapsed,
            "s",
            floor,
            "<= 1.1 x floor",
            judge(judged, elapsed, lambda v: v <= 1.1 * floor),
            params,
        ),
    ]
