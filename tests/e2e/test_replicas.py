"""Three `bridge serve` replicas on one PostgreSQL database drain the inbox together (FOR UPDATE SKIP LOCKED):
every Asana change is told once in its Slack thread, more than one replica does the telling, and after a kill -9
of one replica in the middle of a burst the other two finish it with nothing lost and nothing doubled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.model import TaskGid
from bridge.sandbox.asana.actor import Actor
from bridge.sandbox.asana.model import Task
from bridge.sandbox.harness import bound_socket
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SECTIONS, SIGNING_SECRET, World
from tests.fixtures_db import postgres_database
from tests.support import ALWAYS_OPEN, eventually, metric, serving

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
REPLICAS = 3
# Slack takes about one post per second per channel: twenty tasks over five linked channels keep this test short.
CHANNELS = 5
TASKS = 20
PACE = 0.1  # seconds between the people's changes to one task and the next: a burst of ~2 s
TOLD_AFTER_A_KILL = 15.0  # seconds from the end of the burst in which the kill fell to the last change told
SLACK_POSTS = {"service": "slack", "method": "chat.postMessage", "outcome": "ok"}


@dataclass
class Thread:
    number: str  # "07": the task is "Replica task 07"
    task_gid: str
    channel: str
    ts: str


Marker = Callable[[Thread], str]  # what a thread must say, exactly once, about one change


def assigned(t: Thread) -> str:
    return "👤 assigned to <@"  # Cy, @mentioned


def first_comment(t: Thread) -> str:
    return f">: first look at task {t.number}"  # by Bo, @mentioned


def completed(t: Thread) -> str:
    return "✅ completed"


def last_comment(t: Thread) -> str:
    return f">: wrapped up task {t.number}"


@dataclass
class Replica:
    index: int
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    slack: SimulatedSlack  # Slack's requests to this replica (a load balancer would spread them likewise)


@dataclass
class Cluster:
    world: World
    store: SqlStore  # the test's own view of the shared database
    http: aiohttp.ClientSession
    replicas: list[Replica] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)

    async def posts(self, replica: Replica) -> float:
        """The Slack posts this replica has made, by its own /metrics."""
        return await metric(replica.url, "bridge_api_calls_total", SLACK_POSTS) or 0.0

    def bot_posts(self) -> int:
        """Every post of the bot, top level and in threads, in every channel and DM: all that the replicas'
        counters count."""
        slack = self.world.slack
        return sum(
            1
            for ws in slack.teams.values()
            for channel in list(ws.channels)
            for m in slack.messages(channel, team_id=ws.team_id, replies=True)
            if m.bot_id
        )

    def lines(self, thread: Thread) -> list[str]:
        replies = self.world.slack.thread(thread.channel, thread.ts)[1:]
        return [line for m in replies if m.bot_id for line in m.text.splitlines()]

    def told(self, thread: Thread, marker: Marker) -> int:
        return sum(marker(thread) in line for line in self.lines(thread))

    def roots(self, thread: Thread) -> list[str]:
        """The task's top-level posts: its thread's root, and nothing else."""
        name = f"Replica task {thread.number}"
        return [m.ts for m in self.world.slack.messages(thread.channel) if m.bot_id and name in m.text]

    async def all_told(self, *markers: Marker, timeout: float) -> None:
        def missing() -> list[str]:
            return [f"{t.number}: {m(t)}" for t in self.threads for m in markers if self.told(t, m) == 0]

        try:
            await eventually(lambda: not missing(), timeout=timeout)
        except AssertionError:
            raise AssertionError(f"not told within {timeout}s: {missing()}") from None

    async def drained(self) -> None:
        async def done() -> bool:
            counts = await self.store.inbox_counts()
            return counts.get("pending", 0) == counts.get("landed", 0) == counts.get("parked", 0) == 0

        await eventually(done, timeout=20)

    async def settled(self) -> tuple[list[float], int]:
        """Each replica's posts and the posts in Slack, read when two reads in a row agree: a counter moves just
        after Slack has answered, so a baseline read in between would count that post again later."""
        last: list[tuple[list[float], int]] = []

        async def still() -> tuple[list[float], int] | None:
            now = ([await self.posts(r) for r in self.replicas], self.bot_posts())
            same = bool(last) and last[-1] == now
            last.append(now)
            return now if same else None

        return await eventually(still, timeout=20)

    async def shares(self, before: list[float], posted: int) -> list[float]:
        """The posts each replica made since `before`; together they are every post made since `posted`."""

        async def made() -> list[float]:
            return [await self.posts(r) - b for r, b in zip(self.replicas, before, strict=True)]

        async def balanced() -> bool:
            return sum(await made()) == self.bot_posts() - posted

        with contextlib.suppress(AssertionError):
            await eventually(balanced, timeout=5)  # a counter moves just after Slack has answered
        counted, seen = await made(), self.bot_posts() - posted
        assert sum(counted) == seen, f"posts counted by the replicas {counted}, posts in Slack {seen}"
        return counted


@pytest_asyncio.fixture
async def pg_database_url(pg_server_url: str) -> AsyncIterator[str]:
    async with postgres_database(make_url(pg_server_url)) as url:
        yield url


def _seed_channels(world: World) -> list[tuple[str, str]]:
    """(project, channel) pairs: the world's own and CHANNELS - 1 more, with the same people."""
    pairs = [(world.project, world.channel)]
    people = [*world.slack_people.values(), world.slack.team.bot.user_id]
    for n in range(1, CHANNELS):
        members = [world.bridge_user, *world.asana_people.values()]
        project = world.asana.add_project(world.workspace, f"Queue {n}", SECTIONS, members=members)
        world.asana.attach_custom_field(project, world.priority_field)
        pairs.append((project, world.slack.add_channel(f"queue-{n}", members=people)))
    return pairs


def _start(
    world: World, workdir: Path, database_url: str, *, policy: str | None = None, tick_seconds: float = 60
) -> tuple[str, Path, subprocess.Popen[bytes]]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()  # the process binds it itself
    url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")},
        **world.environment(port=port, database_url=database_url, public_url=url),
        "BRIDGE_EVENTS_POLL_SECONDS": "1",  # every replica polls the Events API too; the inbox de-duplicates
        "BRIDGE_INBOX_LEASE_SECONDS": "30",  # a deployment's (the sandbox's is 3 s): a kill must not wait for it
        "BRIDGE_TICK_SECONDS": str(tick_seconds),
    }
    # The replicas run this checkout, wherever the installed package points.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    workdir.mkdir()
    if policy is not None:
        (workdir / "bridge.toml").write_text(policy)
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return url, log, process


async def _gauge(http: aiohttp.ClientSession, replica: Replica, name: str) -> float:
    value = await metric(replica.url, name)
    assert value is not None, f"{name} not in /metrics of replica {replica.index}"
    return value


async def _all_equal(values: Awaitable[list[float]], expected: float) -> bool:
    return all(value == expected for value in await values)


async def _burst(cluster: Cluster, change: Callable[[Actor, Thread], None]) -> None:
    bo = cluster.world.asana.act(cluster.world.asana_people["bo"])
    for thread in cluster.threads:
        change(bo, thread)
        await asyncio.sleep(PACE)  # the people's pace, not a wait for the bridge


def _tasks_named(world: World, name: str) -> list[Task]:
    return [t for t in world.asana.store.tasks.values() if t.name == name]


async def _capture(cluster: Cluster, pairs: list[tuple[str, str]]) -> None:
    """Link every channel through replica 0 (the webhooks deliver there), then /task through all three."""
    world, replicas = cluster.world, cluster.replicas
    for project, channel in pairs:
        await replicas[0].slack.user("ana").slash_command("/asana", f"link {project}", channel)
    await eventually(lambda: len(world.asana.webhooks) == CHANNELS, timeout=15)
    for n in range(TASKS):
        ana = replicas[n % REPLICAS].slack.user("ana")
        await ana.slash_command("/task", f"Replica task {n:02d}", pairs[n % CHANNELS][1])
    for n in range(TASKS):
        name = f"Replica task {n:02d}"
        tasks = await eventually(partial(_tasks_named, world, name))
        tracked = await eventually(partial(cluster.store.get_tracked_task, TaskGid(tasks[0].gid)), timeout=20)
        cluster.threads.append(Thread(f"{n:02d}", tasks[0].gid, tracked.channel_id, tracked.thread_ts))
    await cluster.drained()
    for thread in cluster.threads:
        roots, lines = cluster.roots(thread), cluster.lines(thread)
        assert roots == [thread.ts] and lines == [], f"task {thread.number}: roots {roots}, replies {lines}"


async def test_three_replicas_share_the_inbox_and_survive_a_kill(
    world: World, tmp_path: Path, pg_database_url: str
) -> None:
    pairs = _seed_channels(world)
    started = [_start(world, tmp_path / f"replica-{i}", pg_database_url) for i in range(REPLICAS)]
    cluster = Cluster(world, await SqlStore.connect(pg_database_url), aiohttp.ClientSession())
    cluster.channels = [channel for _, channel in pairs]
    try:
        for index, (url, log, process) in enumerate(started):
            slack = SimulatedSlack(world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
            await slack.start()
            cluster.replicas.append(Replica(index, url, log, process, slack))
        for replica in cluster.replicas:
            await serving(replica.url, replica.process, log=replica.log)
        await _capture(cluster, pairs)
        cy = world.asana_people["cy"]

        # Burst 1, all three up: every change told, and told by more than one replica.
        before, posted = await cluster.settled()

        def look(bo: Actor, t: Thread) -> None:
            bo.assign(t.task_gid, cy)
            bo.comment(t.task_gid, f"first look at task {t.number}")

        await _burst(cluster, look)
        await cluster.all_told(assigned, first_comment, timeout=30)
        await cluster.drained()
        made = await cluster.shares(before, posted)
        assert sum(1 for n in made if n > 0) >= 2, f"one replica did all the work: {made}"

        # Burst 2: kill -9 a replica (not the webhook receiver) as soon as it has told part of the burst.
        before = [await cluster.posts(r) for r in cluster.replicas]

        def wrap_up(bo: Actor, t: Thread) -> None:
            bo.complete(t.task_gid)
            bo.comment(t.task_gid, f"wrapped up task {t.number}")

        burst = asyncio.create_task(_burst(cluster, wrap_up))

        async def busy_worker() -> Replica | None:
            for replica in cluster.replicas[1:]:
                if await cluster.posts(replica) > before[replica.index]:
                    return replica
            return None

        victim = await eventually(busy_worker, timeout=20)
        victim.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(victim.process.wait, 10)
        left = sum(cluster.told(t, completed) == 0 for t in cluster.threads)
        await burst
        assert left > 0, "the burst was over before the kill"
        # The victim's claims are taken over once its heartbeat is 6 s old, not when their leases run out.
        await cluster.all_told(completed, last_comment, timeout=TOLD_AFTER_A_KILL)
        await cluster.drained()
        # A graceful stop lets every round in flight finish: after it, nothing more can be posted.
        survivors = [r for r in cluster.replicas if r is not victim]
        for replica in survivors:
            replica.process.send_signal(signal.SIGTERM)
        for replica in survivors:
            assert await asyncio.to_thread(replica.process.wait, 20) == 0, replica.log.read_text()

        markers = (assigned, first_comment, completed, last_comment)
        for thread in cluster.threads:
            lines = cluster.lines(thread)
            said = f"task {thread.number} ({thread.task_gid}) was told: {lines}"
            assert [cluster.told(thread, m) for m in markers] == [1] * len(markers), said
            assert len(lines) == len(markers), said
            assert cluster.roots(thread) == [thread.ts], f"task {thread.number} has roots {cluster.roots(thread)}"
    finally:
        await cluster.http.close()
        for replica in cluster.replicas:
            await replica.slack.close()
        await cluster.store.close()
        for _, _, process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.to_thread(process.wait, 20)  # off the loop, where the emulators answer
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


NAGGED = 6


async def test_each_nag_goes_once_across_replicas_and_after_its_leader_is_killed(
    world: World, tmp_path: Path, pg_database_url: str
) -> None:
    started = [
        _start(world, tmp_path / f"replica-{i}", pg_database_url, policy=ALWAYS_OPEN, tick_seconds=0.5)
        for i in range(REPLICAS)
    ]
    replicas: list[Replica] = []
    store = await SqlStore.connect(pg_database_url)
    try:
        async with aiohttp.ClientSession() as http:
            for index, (url, log, process) in enumerate(started):
                slack = SimulatedSlack(world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
                await slack.start()
                replicas.append(Replica(index, url, log, process, slack))
                await serving(replicas[-1].url, replicas[-1].process, log=replicas[-1].log)
            await replicas[0].slack.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
            await eventually(lambda: world.asana.webhooks, timeout=15)

            async def due_today(names: list[str], on: list[Replica]) -> list[str]:
                for n, name in enumerate(names):
                    await on[n % len(on)].slack.user("ana").slash_command("/task", f"{name} due:today", world.channel)
                threads: list[str] = []
                for name in names:
                    task = (await eventually(partial(_tasks_named, world, name)))[0]
                    tracked = await eventually(partial(store.get_tracked_task, TaskGid(task.gid)), timeout=20)
                    threads.append(tracked.thread_ts)
                return threads

            def reminders(thread_ts: str) -> int:
                replies = world.slack.thread(world.channel, thread_ts)[1:]
                return sum(1 for m in replies if m.bot_id and "is due today" in m.text)

            # Captures come in through all three replicas; whichever leads the scheduler nags, once per task.
            first = await due_today([f"Nagged task {n}" for n in range(NAGGED)], replicas)
            await eventually(lambda: all(reminders(ts) >= 1 for ts in first), timeout=30)

            # The three share the Asana token's quota (1,500 a minute in the sandbox): 500 each.
            async def shares() -> list[float]:
                return [await _gauge(http, r, "bridge_asana_quota_per_minute") for r in replicas]

            await eventually(lambda: _all_equal(shares(), 500.0), timeout=25)
            leaders = [r for r in replicas if "sent reminder due_today" in r.log.read_text()]
            assert len(leaders) == 1, f"nags sent by replicas {[r.index for r in leaders]}"
            leader = leaders[0]

            # Kill the leader: another replica takes over, nags what is new, and nothing twice.
            leader.process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(leader.process.wait, 10)
            survivors = [r for r in replicas if r is not leader]
            later = await due_today(["Nagged after the kill 1", "Nagged after the kill 2"], survivors)
            await eventually(lambda: all(reminders(ts) >= 1 for ts in later), timeout=30)
            successors = [r for r in survivors if "sent reminder due_today" in r.log.read_text()]
            assert len(successors) == 1, f"nags sent after the kill by {[r.index for r in successors]}"
            # The new leader has ticked since it took over (it nagged the new tasks): the old ones stayed told.
            assert [reminders(ts) for ts in first + later] == [1] * (NAGGED + 2)
    finally:
        for replica in replicas:
            await replica.slack.close()
        await store.close()
        for _, _, process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.to_thread(process.wait, 20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
