"""footprint: cold start of `bridge serve` to GET /healthz 200, and its resident memory and idle CPU with 1,000,
10,000 and 100,000 tracked tasks.

Cold start: a fresh process on a new SQLite file (so migrations included), spawn to first 200, median of a few
starts; the floor is the bare Bolt app of bench.floors started the same way. Memory: the store is seeded with
N tracked tasks (real Asana tasks in the emulator, each with its Slack thread), then the bridge is started
on it and works a while (link, /task captures, Asana changes relayed) before its RSS is read; the floor is the
bare Bolt app's RSS after it acked a few commands. Idle CPU: once that work is done and the inbox is empty, the
bridge's CPU over a few quiet seconds (its loops and timers, with the team's default relay window), beside the
bare Bolt app's over as long.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ack import FLOOR as ACK_FLOOR
from bench.flows import link_channel, open_tasks, settled
from bench.results import Profile, Result, judge
from bench.served import BRIDGE_FOR_BENCH, BRIDGE_SERVE, Served, free_port, served, served_bridge, world_running
from bench.waiting import wait_until
from bridge.adapters.asana_api import TASK_FIELDS
from bridge.adapters.store.migrate import migrate
from bridge.adapters.store.sql_store import SqlStore
from bridge.config import Settings
from bridge.domain.model import ChannelId, MessageTs, ProjectGid, TaskGid, TeamId, TrackedTask
from bridge.domain.relay import next_snapshot
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World

NAME = "footprint"


@dataclass(frozen=True)
class Sizes:
    starts: int  # cold starts measured, of the bridge and of the floor each
    tracked: tuple[int, ...]  # tracked tasks in the store when memory is read: one run per size
    captures: int  # /task commands during the memory run
    changed: int  # seeded tasks changed in Asana (and relayed) during the memory run
    idle: float  # seconds the bridge's (and the floor's) CPU is read for with nothing to do


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(starts=5, tracked=(1_000, 10_000, 100_000), captures=20, changed=100, idle=10.0),
    "quick": Sizes(starts=2, tracked=(1_000, 10_000), captures=10, changed=30, idle=5.0),
    "smoke": Sizes(starts=1, tracked=(100,), captures=2, changed=3, idle=0.5),
}


@dataclass
class Floor:
    starts: list[float]  # seconds from spawn to /healthz 200
    rss: float = 0.0  # MB, after acking a few commands
    idle_cpu: float = 0.0  # ms of CPU a second, after that


async def cold_starts(world: World, sizes: Sizes) -> tuple[list[float], Floor]:
    """Seconds from spawn to /healthz 200 for the bridge and the floor, alternately; and the floor's footprint."""
    bridge: list[float] = []
    floor = Floor(starts=[])
    for _ in range(sizes.starts):
        with tempfile.TemporaryDirectory(prefix="bench-start-") as workdir:
            port = free_port()
            env = world.environment(port=port, database_url=f"sqlite+aiosqlite:///{workdir}/bridge.db")
            # Only the start is measured: no need to wait for a graceful stop.
            async with served(BRIDGE_SERVE, port=port, env=env, workdir=Path(workdir), graceful=False) as process:
                bridge.append(process.started_in)
        with tempfile.TemporaryDirectory(prefix="bench-start-floor-") as workdir:
            port = free_port()
            env = {
                "SLACK_BOT_TOKEN": world.slack.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": world.slack.api_url,
                "BRIDGE_PORT": str(port),
            }
            async with (
                served(ACK_FLOOR, port=port, env=env, workdir=Path(workdir), graceful=False) as process,
                SimulatedSlack(
                    world.slack, request_url=f"{process.url}/slack/events", signing_secret=SIGNING_SECRET
                ) as slack,
            ):
                floor.starts.append(process.started_in)
                for k in range(sizes.captures):
                    await slack.user("ana").slash_command("/task", f"Floor {k}", world.channel)
                floor.rss = process.rss_mb()
                floor.idle_cpu = await idle_cpu(process, sizes.idle)
    return bridge, floor


async def idle_cpu(process: Served, seconds: float) -> float:
    """Milliseconds of CPU a second `process` uses over the next `seconds` (nothing is sent to it meanwhile)."""
    before = process.cpu_seconds()
    await asyncio.sleep(seconds)  # the span measured, not a wait for something
    return (process.cpu_seconds() - before) * 1000 / seconds


async def seed_tracked(world: World, database_url: str, count: int) -> list[str]:
    """`count` tasks in the linked project, each tracked by the bridge with its thread in the channel, as if
    captured earlier: tasks made in the emulator, root messages posted by the bot, rows written in bulk."""
    await migrate(database_url)
    ws = world.slack.team
    channel = ws.channel(world.channel)
    bot = ws.user(ws.bot.user_id)
    actor = world.asana.act(world.asana_people["ana"])
    now = datetime.now(UTC)
    rows: list[TrackedTask] = []
    shape: dict[str, Any] | None = None
    for n in range(count):
        name = f"Tracked task {n}"
        gid = actor.create_task(name, project=world.project)
        root = ws.post(channel, user=bot, text=name)
        # The tasks differ only in gid, name and link: render one as the API would, copy it for the others.
        shape = shape or world.asana.render("task", gid, TASK_FIELDS)
        permalink = str(shape.get("permalink_url") or "").replace(shape["gid"], gid)
        snapshot = next_snapshot({}, {**shape, "gid": gid, "name": name, "permalink_url": permalink})
        rows.append(
            TrackedTask(
                task_gid=TaskGid(gid),
                project_gid=ProjectGid(world.project),
                team_id=TeamId(ws.team_id),
                channel_id=ChannelId(world.channel),
                thread_ts=MessageTs(root.ts),
                permalink_url=str(snapshot.get("permalink_url") or ""),
                name=name,
                created_at=now,
                updated_at=now,
                snapshot=snapshot,
            )
        )
    store = await SqlStore.connect(database_url)
    try:
        await store.add_tracked_tasks(rows)
    finally:
        await store.close()
    return [t.task_gid for t in rows]


@dataclass(frozen=True)
class Footprint:
    rss_at_start: float  # MB
    rss: float  # MB, after working
    started_in: float  # seconds
    idle_cpu: float  # ms of CPU a second, after working


async def memory(world: World, workdir: Path, sizes: Sizes, tracked: int) -> Footprint:
    """The bridge on a store of `tracked` tasks: its RSS after its start and after working, its start, its idle CPU."""
    database_url = f"sqlite+aiosqlite:///{workdir / 'bridge.db'}"
    seeded = await seed_tracked(world, database_url, tracked)
    # Posts unpaced (bench.bridge_process, and no Slack limits in this World): a hundred replies one second apart
    # would only make the bench longer. The relay window a team runs with: the inbox's idle rests follow it.
    env = {"BENCH_SLACK_POST_INTERVAL": "0", "BRIDGE_RELAY_WINDOW_SECONDS": str(Settings.relay_window_seconds)}
    async with served_bridge(
        world, workdir, command=BRIDGE_FOR_BENCH, env=env, database_url=database_url, graceful=False
    ) as bridge:
        at_start = bridge.served.rss_mb()
        ana = bridge.slack.user("ana")
        await link_channel(world, ana, bridge.store)
        await open_tasks(world, ana, bridge.store, [f"Footprint capture {n}" for n in range(sizes.captures)])
        bo = world.asana.act(world.asana_people["bo"])
        step = max(1, len(seeded) // sizes.changed)
        for gid in seeded[::step][: sizes.changed]:
            bo.comment(gid, "Looking at it")
            bo.complete(gid)
        await world.asana.deliveries_idle(timeout=60)
        await wait_until(lambda: settled(bridge.store), timeout=60, interval=0.05, what="an empty inbox")
        rss = bridge.served.rss_mb()
        return Footprint(at_start, rss, bridge.served.started_in, await idle_cpu(bridge.served, sizes.idle))


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    async with world_running() as world:
        bridge_starts, floor = await cold_starts(world, sizes)
    judged = profile != "smoke"
    start = statistics.median(bridge_starts)
    start_params = {
        "starts": sizes.starts,
        "bridge_s": [round(s, 3) for s in bridge_starts],
        "floor_s": [round(s, 3) for s in floor.starts],
        "database": "new SQLite file (migrations included)",
    }
    results = [
        Result(
            NAME,
            "cold_start",
            start,
            "s",
            statistics.median(floor.starts),
            "< 2 s",
            judge(judged, start, lambda v: v < 2),
            start_params,
        )
    ]
    for tracked in sizes.tracked:
        with tempfile.TemporaryDirectory(prefix="bench-footprint-") as workdir:
            async with world_running(slack_rate_limits=False) as world:
                found = await memory(world, Path(workdir), sizes, tracked)
        memory_params = {
            "tracked_tasks": tracked,
            "captures": sizes.captures,
            "relayed_tasks": sizes.changed,
            "rss_at_start_mb": round(found.rss_at_start, 1),
            "start_with_store_s": round(found.started_in, 3),
            "floor": "bare Bolt app after acking commands",
        }
        meets = judge(judged and tracked == 10_000, found.rss, lambda v: v < 200)
        results.append(Result(NAME, "rss", found.rss, "MB", floor.rss, "< 200 MB at 10k", meets, memory_params))
        idle_params = {"tracked_tasks": tracked, "seconds": sizes.idle, "floor": "bare Bolt app, as long"}
        results.append(Result(NAME, "idle_cpu", found.idle_cpu, "ms/s", floor.idle_cpu, "reported", None, idle_params))
    return results
