"""failover: how long the bridge falls silent when a process dies, on real PostgreSQL (issue #19).

- `replicas`: three `bridge serve` on one database (the webhooks deliver to the first), tasks opened through all
  three in several linked channels, then a burst of Asana comments, one per task in turn; from half-way through,
  the first replica seen relaying (but not the webhook receiver) is killed with SIGKILL. Figure: seconds from the
  burst's end to the last comment told (target < 15 s), and comments told twice (target 0).
- `restart`: one `bridge serve`, a burst of comments, SIGKILL once the first is told, and a start again at once.
  Figures: seconds from the new process's spawn to the first comment told after it (target < 10 s), and to the
  last (the dead process's claims are told last).

A dead process's claims used to wait for their leases (and its unsent posts for their in-flight time); a replica
that stops heartbeating now loses them within a few seconds. The PostgreSQL server is a throwaway cluster started
from the installed binaries (tests/pg.py), as the tests do.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bench.flows import link_channel, open_tasks
from bench.results import Profile, Result, judge
from bench.served import ServedBridge, served_bridge, world_running
from bench.waiting import wait_until
from bridge.domain.model import TrackedTask
from bridge.sandbox.world import SECTIONS, World
from tests.fixtures_db import postgres_database
from tests.pg import PostgresUnavailable, start_cluster, stop_cluster

NAME = "failover"
PACE = 0.1  # seconds between one comment and the next: the people's pace
SLACK_POSTS = {"service": "slack", "method": "chat.postMessage", "outcome": "ok"}
# Each replica polls the Events API too (the inbox de-duplicates); claims are leased for as long as a deployment's
# are (the sandbox's 3 s would hide what a dead replica's claims cost).
ENV = {"BRIDGE_EVENTS_POLL_SECONDS": "1", "BRIDGE_INBOX_LEASE_SECONDS": "30"}


@dataclass(frozen=True)
class Sizes:
    channels: int
    tasks: int  # spread over the channels
    rounds: int  # comments per task in the burst


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(channels=10, tasks=30, rounds=3),  # 90 comments, as in the issue
    "quick": Sizes(channels=5, tasks=15, rounds=2),
    "smoke": Sizes(channels=2, tasks=4, rounds=2),
}


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    judged = profile != "smoke"
    try:
        cluster = await asyncio.to_thread(start_cluster)
    except PostgresUnavailable as exc:
        raise RuntimeError(f"the failover bench needs PostgreSQL binaries: {exc}") from exc
    try:
        server = make_url(cluster.url)
        async with postgres_database(server) as url:
            after_kill, twice = await _replicas(url, sizes)
        async with postgres_database(server) as url:
            resumed, all_told = await _restart(url, sizes)
    finally:
        await asyncio.to_thread(stop_cluster, cluster)
    params = {"channels": sizes.channels, "tasks": sizes.tasks, "comments": sizes.tasks * sizes.rounds}
    return [
        Result(NAME, "replica_killed_last_told_after_burst_s", after_kill, "s", None, "< 15 s",
               judge(judged, after_kill, lambda v: v < 15), {**params, "replicas": 3}),
        Result(NAME, "replica_killed_told_twice", twice, "comments", None, "0",
               judge(judged, twice, lambda v: v == 0), {**params, "replicas": 3}),
        Result(NAME, "restart_relaying_resumed_after_start_s", resumed, "s", None, "< 10 s",
               judge(judged, resumed, lambda v: v < 10), {**params, "replicas": 1}),
        Result(NAME, "restart_all_told_after_start_s", all_told, "s", None, "reported",
               None, {**params, "replicas": 1}),
    ]  # fmt: skip


async def _replicas(database_url: str, sizes: Sizes) -> tuple[float, float]:
    async with world_running() as world, _workdirs() as root, AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(served_bridge(world, root / f"r{i}", env=ENV, database_url=database_url))
            for i in range(3)
        ]
        tasks = await _open(world, replicas, sizes)
        comments = [(task, f"note {n} on {task.name}") for n in range(sizes.rounds) for task in tasks]
        async with aiohttp.ClientSession() as http:
            before = [await _posts(http, r) for r in replicas]
            victim: ServedBridge | None = None
            bo = world.asana.act(world.asana_people["bo"])
            for index, (task, text) in enumerate(comments):
                bo.comment(task.task_gid, text)
                if victim is None and index >= len(comments) // 2:
                    # Kill one that is relaying right now (not the webhook receiver, which stays up), as the
                    # replica test does: its claims and posts in flight are what the others must take over.
                    for i, replica in enumerate(replicas[1:], 1):
                        if await _posts(http, replica) > before[i]:
                            victim = replica
                            victim.served.process.send_signal(signal.SIGKILL)
                            break
                await asyncio.sleep(PACE)
        if victim is None:  # a burst too small for another replica to be seen at work (smoke): kill one anyway
            victim = replicas[1]
            victim.served.process.send_signal(signal.SIGKILL)
        ended = time.monotonic()
        await wait_until(lambda: all(_told(world, t, text) for t, text in comments), timeout=120, interval=0.05,
                         what="every comment told")  # fmt: skip
        last = time.monotonic() - ended
        await asyncio.sleep(3)  # anything told twice would come within the outbox's takeover
        twice = sum(max(0, _told(world, t, text) - 1) for t, text in comments)
        return last, float(twice)


async def _restart(database_url: str, sizes: Sizes) -> tuple[float, float]:
    async with world_running() as world, _workdirs() as root:
        async with served_bridge(world, root / "first", env=ENV, database_url=database_url, graceful=False) as first:
            tasks = await _open(world, [first], sizes)
            comments = [(task, f"note {n} on {task.name}") for n in range(sizes.rounds) for task in tasks]
            bo = world.asana.act(world.asana_people["bo"])
            for task, text in comments:
                bo.comment(task.task_gid, text)
                await asyncio.sleep(PACE / 10)
            await wait_until(lambda: any(_told(world, t, text) for t, text in comments), timeout=60, interval=0.01,
                             what="a first comment told")  # fmt: skip
        # Leaving the block killed it (SIGKILL). Start again at once, on the same database.
        told = sum(_told(world, t, text) for t, text in comments)
        if told == len(comments):
            raise RuntimeError("the whole burst was told before the kill")
        spawned = time.monotonic()
        async with served_bridge(world, root / "second", env=ENV, database_url=database_url):
            await wait_until(lambda: sum(_told(world, t, text) for t, text in comments) > told, timeout=120,
                             interval=0.02, what="relaying resumed")  # fmt: skip
            resumed = time.monotonic() - spawned
            # What the dead process had claimed is told last: when its claims are taken over.
            await wait_until(lambda: all(_told(world, t, text) for t, text in comments), timeout=180, interval=0.05,
                             what="every comment told")  # fmt: skip
            return resumed, time.monotonic() - spawned


async def _open(world: World, replicas: list[ServedBridge], sizes: Sizes) -> list[TrackedTask]:
    """Link the world's channel and `channels - 1` more (through the first replica), then /task in each."""
    first = replicas[0]
    await link_channel(world, first.slack.user("ana"), first.store)
    channels = [world.channel]
    people = [*world.slack_people.values(), world.slack.team.bot.user_id]
    for n in range(1, sizes.channels):
        members = [world.bridge_user, *world.asana_people.values()]
        project = world.asana.add_project(world.workspace, f"Failover {n}", SECTIONS, members=members)
        world.asana.attach_custom_field(project, world.priority_field)
        channel = world.slack.add_channel(f"failover-{n}", members=people)
        await first.slack.user("ana").slash_command("/asana", f"link {project}", channel)
        channels.append(channel)
    await wait_until(lambda: len(world.asana.webhooks) == sizes.channels, timeout=30, what="every webhook")
    tasks: list[TrackedTask] = []
    for index, channel in enumerate(channels):
        titles = [f"Failover task {n:02d}" for n in range(sizes.tasks) if n % sizes.channels == index]
        via = replicas[index % len(replicas)]
        tasks += await open_tasks(world, via.slack.user("ana"), via.store, titles, channel=channel)
    return tasks


def _told(world: World, task: TrackedTask, text: str) -> int:
    return sum(1 for m in world.slack.thread(task.channel_id, task.thread_ts)[1:] if m.bot_id and text in m.text)


async def _posts(http: aiohttp.ClientSession, replica: ServedBridge) -> float:
    """The Slack posts this replica has made, by its own /metrics."""
    async with http.get(f"{replica.served.url}/metrics") as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "bridge_api_calls_total" and sample.labels == SLACK_POSTS:
                return float(sample.value)
    return 0.0


@asynccontextmanager
async def _workdirs() -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as root:
        for name in ("r0", "r1", "r2", "first", "second"):
            (Path(root) / name).mkdir()
        yield Path(root)
