"""ack: how fast signed /task slash commands are answered at 50 in flight, beside a bare Bolt app that only acks.

The bridge is `bridge serve` in its own process, the channel linked, so each /task is acked after one database
read and then really captured in the background (Asana quota 1,500/min, Slack posts paced as in production):
the acks are measured while that work runs. The floor is bench.floors `ack`, served the same way and configured
as the bridge's Bolt app is; `ack-bolt-defaults` (Bolt polling for the ack every 10 ms) and `ack-keep` (the floor
that also keeps each command it acked, the least an app that loses none in a crash does) are reported beside it.
The machine is shared and noisy: the full profile runs floor and bridge in turn, three rounds of fresh processes,
and judges the latencies of all rounds together, so that a quiet or busy minute falls on both. The commands are
sent by bench.ack_sender, a process of its own, so that the emulators' work for the bridge (in this process) does
not slow the client that times the acks.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from asyncio.subprocess import PIPE
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.flows import link_channel
from bench.load import Load
from bench.results import Profile, Result, judge, percentile
from bench.served import REPO, Served, base_environment, free_port, served, served_bridge, world_running
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World

NAME = "ack"
FLOOR = ("-m", "bench.floors", "ack")
SENDER = ("-m", "bench.ack_sender")
BOLT_DEFAULTS = ("-m", "bench.floors", "ack-bolt-defaults")
KEEPING = ("-m", "bench.floors", "ack-keep")


@dataclass(frozen=True)
class Sizes:
    requests: int
    concurrency: int
    warmup: int  # requests sent first and not measured (connections, Bolt's auth.test, caches)
    rounds: int = 1  # floor, defaults floor and bridge in turn, each round in fresh processes


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(requests=1500, concurrency=50, warmup=100, rounds=3),
    "quick": Sizes(requests=300, concurrency=50, warmup=50),
    "smoke": Sizes(requests=20, concurrency=5, warmup=5),
}


async def commands(world: World, slack: SimulatedSlack, sizes: Sizes) -> Load:
    """`/task` from the World's people in turn, sent by bench.ack_sender in a process of its own: the warm-up
    first, then the measured load."""
    people = [slack.user(name) for name in ("ana", "bo", "cy")]
    bodies = [
        urlencode(people[n % len(people)].slash_command_fields("/task", f"Ack bench {n}", world.channel))
        for n in range(sizes.warmup + sizes.requests)
    ]
    job = {
        "url": slack.request_url,
        "secret": slack.signing_secret,
        "bodies": bodies,
        "warmup": sizes.warmup,
        "concurrency": sizes.concurrency,
    }
    sender = await asyncio.create_subprocess_exec(
        sys.executable, *SENDER, stdin=PIPE, stdout=PIPE, env=base_environment(), cwd=REPO
    )
    out, _ = await sender.communicate(json.dumps(job).encode())
    if sender.returncode != 0:
        raise RuntimeError(f"bench.ack_sender exited {sender.returncode}")
    sent = json.loads(out)
    return Load(
        latencies=sent["latencies"],
        statuses=Counter({int(status): count for status, count in sent["statuses"].items()}),
        elapsed=sent["elapsed"],
    )


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    floor, defaults, keeping, bridge = Load(), Load(), Load(), Load()
    async with world_running() as world:
        for _ in range(sizes.rounds):
            with (
                tempfile.TemporaryDirectory(prefix="bench-ack-floor-") as floor_dir,
                tempfile.TemporaryDirectory(prefix="bench-ack-defaults-") as defaults_dir,
                tempfile.TemporaryDirectory(prefix="bench-ack-keeping-") as keeping_dir,
                tempfile.TemporaryDirectory(prefix="bench-ack-bridge-") as bridge_dir,
            ):
                floor.add(await _floor(world, Path(floor_dir), sizes, FLOOR))
                defaults.add(await _floor(world, Path(defaults_dir), sizes, BOLT_DEFAULTS))
                keeping.add(await _floor(world, Path(keeping_dir), sizes, KEEPING))
                bridge.add(await _bridge(world, Path(bridge_dir), sizes))
    judged = profile != "smoke"
    requests = sizes.requests * sizes.rounds
    sent = (sizes.requests + sizes.warmup) * sizes.rounds
    b50, b99 = (percentile(bridge.latencies, p) * 1000 for p in (50, 99))
    f50, f99 = (percentile(floor.latencies, p) * 1000 for p in (50, 99))
    d99 = percentile(defaults.latencies, 99) * 1000
    k99 = percentile(keeping.latencies, 99) * 1000
    params = {
        "requests": requests,
        "rounds": sizes.rounds,
        "concurrency": sizes.concurrency,
        "answered_200": bridge.statuses.get(200, 0),
        "floor_answered_200": floor.statuses.get(200, 0),
        "other_statuses": {str(k): v for k, v in (bridge.statuses + floor.statuses).items() if k != 200},
        "requests_per_s": round(requests / bridge.elapsed, 1),
        "floor_requests_per_s": round(requests / floor.elapsed, 1),
        "bolt_defaults_floor_p99_ms": round(d99, 1),
        "keeping_floor_p99_ms": round(k99, 1),
        "keeping_floor_answered_200": keeping.statuses.get(200, 0),
        "p99_x_keeping_floor": round(b99 / k99, 2) if k99 else None,
        # CPU per command sent (the warm-up's included), which a busy machine bends far less than latency.
        "cpu_per_request_ms": round(bridge.cpu_seconds * 1000 / sent, 3),
        "floor_cpu_per_request_ms": round(floor.cpu_seconds * 1000 / sent, 3),
        "keeping_floor_cpu_per_request_ms": round(keeping.cpu_seconds * 1000 / sent, 3),
    }
    return [
        Result(NAME, "task_command_p50", b50, "ms", f50, "reported", None, params),
        Result(
            NAME,
            "task_command_p99",
            b99,
            "ms",
            f99,
            "p99 <= 1.5 x floor and < 100 ms",
            judge(judged and bridge.ok == requests, b99, lambda v: v <= 1.5 * f99 and v < 100),
            params,
        ),
    ]


async def _bridge(world: World, workdir: Path, sizes: Sizes) -> Load:
    # Killed at the end: the captures still queued behind Slack's pacing are not what is measured.
    async with served_bridge(world, workdir, graceful=False) as bridge:
        await link_channel(world, bridge.slack.user("ana"), bridge.store)
        return await _timed(bridge.served, commands(world, bridge.slack, sizes))


async def _floor(world: World, workdir: Path, sizes: Sizes, command: tuple[str, ...]) -> Load:
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": world.slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": world.slack.api_url,
        "BRIDGE_PORT": str(port),
    }
    async with (
        served(command, port=port, env=env, workdir=workdir) as floor,
        SimulatedSlack(world.slack, request_url=f"{floor.url}/slack/events", signing_secret=SIGNING_SECRET) as slack,
    ):
        return await _timed(floor, commands(world, slack, sizes))


async def _timed(served: Served, load: Awaitable[Load]) -> Load:
    """The load, with the CPU the served process used meanwhile (the warm-up's too: it is sent in the same run)."""
    before = served.cpu_seconds()
    done = await load
    done.cpu_seconds += served.cpu_seconds() - before
    return done
