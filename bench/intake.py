"""intake: signed Asana webhook deliveries of ten events each — accepted events per second and latency, beside a
bare aiohttp handler that only checks X-Hook-Signature and answers 200.

The bridge is `bridge serve` on SQLite with the World's project linked; deliveries go to its hook's URL signed
with the secret of the handshake, `concurrency` in flight (as from that many webhooks). The bridge answers after
committing each delivery, whole, to its inbox; its inbox worker unpacks them into events and drains those (they
are about tasks it does not track, so draining costs the database only, not Asana or Slack).

Measured twice. `burst`: with the relay window the bridge ships with (2 s), as a team runs it; the worker holds
a burst whole for up to half the window while it streams in (answering Asana first), so a burst of this size is
mostly answered before unpacking starts; how long after the last answer every event was unpacked is reported
with it. `sustained`: with the sandbox's 0.3 s window the hold is 0.15 s, and nearly all of the stream is
unpacked and drained while it arrives: what a stream longer than the hold gets.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.flows import link_channel
from bench.load import Load, closed_loop
from bench.results import Profile, Result, judge, percentile
from bench.served import free_port, served, served_bridge, world_running
from bench.waiting import wait_until
from bridge.config import Settings
from bridge.domain.model import ProjectGid
from bridge.sandbox.world import World

NAME = "intake"
FLOOR = ("-m", "bench.floors", "intake")
EVENTS_PER_DELIVERY = 10
UNTRACKED_TASKS = 500  # the events are spread over this many task gids
BURST_WINDOW = Settings.relay_window_seconds  # the default a team runs with
SUSTAINED_WINDOW = 0.3  # the sandbox's: a hold of 0.15 s, the stream unpacked and drained as it arrives


@dataclass(frozen=True)
class Sizes:
    deliveries: int
    concurrency: int
    warmup: int


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(deliveries=2000, concurrency=10, warmup=100),
    "quick": Sizes(deliveries=300, concurrency=10, warmup=50),
    "smoke": Sizes(deliveries=20, concurrency=2, warmup=5),
}


def delivery_body(n: int, user_gid: str, start: datetime) -> bytes:
    """Delivery number `n`: ten `task changed` events as Asana sends them, each new (its own created_at)."""
    events: list[dict[str, Any]] = []
    for k in range(EVENTS_PER_DELIVERY):
        number = n * EVENTS_PER_DELIVERY + k
        moment = start + timedelta(milliseconds=number)
        events.append(
            {
                "user": {"gid": user_gid, "resource_type": "user"},
                "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
                "action": "changed",
                "resource": {
                    "gid": str(1_300_000_000_000_000 + number % UNTRACKED_TASKS),
                    "resource_type": "task",
                    "resource_subtype": "default_task",
                },
                "parent": None,
                "change": {"field": "name", "action": "changed"},
            }
        )
    return json.dumps({"events": events}, separators=(",", ":")).encode()


async def deliveries(url: str, secret: str, user_gid: str, sizes: Sizes) -> Load:
    """The warm-up, then the measured deliveries; each signed with `secret` like Asana's."""
    start = datetime.now(UTC)
    async with aiohttp.ClientSession() as http:

        async def send(n: int) -> tuple[int, float]:
            body = delivery_body(n, user_gid, start)
            signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Hook-Signature": signature}
            began = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status, time.perf_counter() - began

        await closed_loop(send, requests=sizes.warmup, concurrency=sizes.concurrency)
        return await closed_loop(send, requests=sizes.deliveries, concurrency=sizes.concurrency, first=sizes.warmup)


@dataclass(frozen=True)
class Measured:
    load: Load
    enqueued: int  # events the inbox holds afterwards, kept whole or unpacked
    unpacked_after: float  # seconds from the last answer until every delivery was unpacked


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    with (
        tempfile.TemporaryDirectory(prefix="bench-intake-bridge-") as bridge_dir,
        tempfile.TemporaryDirectory(prefix="bench-intake-sustained-") as sustained_dir,
        tempfile.TemporaryDirectory(prefix="bench-intake-floor-") as floor_dir,
    ):
        async with world_running() as world:
            burst, hook_key, secret = await _bridge(world, Path(bridge_dir), sizes, window=BURST_WINDOW)
            sustained, _, _ = await _bridge(world, Path(sustained_dir), sizes, window=SUSTAINED_WINDOW)
            floor = await _floor(world, Path(floor_dir), sizes, hook_key, secret)
    judged = profile != "smoke"
    floor_rate = floor.ok * EVENTS_PER_DELIVERY / floor.elapsed
    f50, f99 = (percentile(floor.latencies, p) * 1000 for p in (50, 99))
    every_event = (sizes.deliveries + sizes.warmup) * EVENTS_PER_DELIVERY
    results = []
    for name, measured, window in (("", burst, BURST_WINDOW), ("sustained_", sustained, SUSTAINED_WINDOW)):
        load = measured.load
        rate = load.ok * EVENTS_PER_DELIVERY / load.elapsed
        b50, b99 = (percentile(load.latencies, p) * 1000 for p in (50, 99))
        params = {
            "deliveries": sizes.deliveries,
            "events_per_delivery": EVENTS_PER_DELIVERY,
            "concurrency": sizes.concurrency,
            "database": "sqlite",
            "relay_window_s": window,
            "answered_200": load.ok,
            "floor_answered_200": floor.ok,
            "enqueued": measured.enqueued,
            "all_unpacked_after_s": round(measured.unpacked_after, 2),
        }
        all_accepted = load.ok == sizes.deliveries and measured.enqueued == every_event
        if name:  # the sustained stream: reported beside the same floor
            results += [
                Result(NAME, f"{name}accepted_events_per_s", rate, "events/s", floor_rate, "reported", None, params),
                Result(NAME, f"{name}delivery_p99", b99, "ms", f99, "reported", None, params),
            ]
            continue
        results += [
            Result(
                NAME,
                "accepted_events_per_s",
                rate,
                "events/s",
                floor_rate,
                ">= 50% of floor",
                judge(judged and all_accepted, rate, lambda v: v >= 0.5 * floor_rate),
                params,
            ),
            Result(NAME, "delivery_p50", b50, "ms", f50, "reported", None, params),
            Result(NAME, "delivery_p99", b99, "ms", f99, "< 25 ms", judge(judged, b99, lambda v: v < 25), params),
        ]
    return results


async def _bridge(world: World, workdir: Path, sizes: Sizes, *, window: float) -> tuple[Measured, str, str]:
    """Deliveries to the bridge; also the hook's key and secret."""
    # Killed at the end: draining the inbox's events is not what is measured (unpacking the deliveries is waited
    # for, to show it is not left undone).
    env = {"BRIDGE_RELAY_WINDOW_SECONDS": str(window)}
    async with served_bridge(world, workdir, graceful=False, env=env) as bridge:
        await link_channel(world, bridge.slack.user("ana"), bridge.store)
        hook = (await bridge.store.webhooks_for_project(ProjectGid(world.project)))[0]
        assert hook.secret is not None
        url = f"{bridge.served.url}/asana/webhooks/{hook.hook_key}"
        load = await deliveries(url, hook.secret, world.asana_people["bo"], sizes)
        answered = time.perf_counter()
        counts = await bridge.store.inbox_counts()

        async def unpacked() -> bool:
            return (await bridge.store.inbox_counts())["landed"] == 0

        await wait_until(unpacked, timeout=60, interval=0.02, what="every kept delivery unpacked")
        measured = Measured(load, sum(counts.values()), time.perf_counter() - answered)
        return measured, hook.hook_key, hook.secret


async def _floor(world: World, workdir: Path, sizes: Sizes, hook_key: str, secret: str) -> Load:
    port = free_port()
    async with served(FLOOR, port=port, env={"BRIDGE_PORT": str(port), "BENCH_HOOK_SECRET": secret}, workdir=workdir):
        url = f"http://127.0.0.1:{port}/asana/webhooks/{hook_key}"
        return await deliveries(url, secret, world.asana_people["bo"], sizes)
