"""report: GET /report over 1,000, 10,000 and 100,000 tracked tasks, through real HTTP, from `bridge serve` in its
own process; and Slack's acks while the first request reloads every task.

The store holds 10,000 top-level tasks of one linked channel with eight weeks of history: a third completed, half
tracking a first response (most answered), four priorities with SLA targets, eight assignees, some due dates
pushed back. Each request is the operator's (bearer token), asks for the combined report, and is answered only
after every task was read and judged (the page shows the 100 most urgent; JSON and CSV have all of them).
Between two requests the bench saves five changed tasks, as the relay would (a due date pushed, a task completed):
the bridge keeps the tasks it read and reads again only those saved since, then judges all 10,000 at the moment of
the request. Measured: p50 and p99 of sequential requests after two warm-ups, and the first request after start
(`cold_page`: it reads every task). The floor is the same page, through the same server, for a second linked
channel that has no tasks: everything but the reading and judging of tasks.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.results import Profile, Result, judge, percentile
from bench.served import served_bridge, world_running
from bridge.adapters.store.migrate import migrate
from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.model import (
    ChannelId,
    Link,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
    WorkspaceGid,
)
from bridge.domain.report_tasks import link_id
from bridge.sandbox.world import World

NAME = "report"
TOKEN = "bench-report-operator-token"
POLICY = """
[business_hours]
timezone = "America/New_York"

[sla]
P0 = { first_response = "1h", resolution = "4h" }
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }
P3 = { first_response = "2d", resolution = "10d" }
"""
PEOPLE = ("Ana Lopez", "Bo Chen", "Cy Park", "Dee Rao", "Eli Moss", "Fay Wu", "Gus Hale", "Hana Ito")
PRIORITIES = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class Sizes:
    tasks: int
    requests: int


SIZES: dict[Profile, tuple[Sizes, ...]] = {
    "full": (Sizes(tasks=1_000, requests=40), Sizes(tasks=10_000, requests=40), Sizes(tasks=100_000, requests=8)),
    "quick": (Sizes(tasks=1_000, requests=12), Sizes(tasks=10_000, requests=12)),
    "smoke": (Sizes(tasks=200, requests=3),),
}
ACK_EVERY = 0.05  # seconds between the /asana help commands sent while the cold page loads


def tracked(n: int, link: Link, now: datetime) -> TrackedTask:
    """The n-th task: created over the last eight weeks, a third completed, half tracking a first response."""
    created = now - timedelta(minutes=(n * 37) % (56 * 24 * 60))
    completed = n % 3 == 0
    snapshot: dict[str, Any] = {
        "gid": f"{5_000_000 + n}",
        "name": f"Question {n}",
        "completed": completed,
        "completed_at": (created + timedelta(hours=n % 60)).isoformat() if completed else None,
        "created_at": created.isoformat(),
        "due_on": (created + timedelta(days=n % 9)).date().isoformat() if n % 4 else None,
        "assignee": {"gid": f"{100 + n % 8}", "name": PEOPLE[n % 8]} if n % 7 else None,
        "_bridge_due_pushes": n % 5 if n % 3 == 1 else 0,
        "custom_fields": [
            {
                "gid": "field-priority",
                "name": "Priority",
                "resource_subtype": "enum",
                "enum_value": {"gid": f"opt-{n % 5}", "name": PRIORITIES[n % 5]} if n % 5 < 4 else None,
            },
            {"gid": "field-size", "name": "Size", "resource_subtype": "enum", "enum_value": None},
        ],
    }
    tracks = n % 2 == 0
    return TrackedTask(
        task_gid=TaskGid(f"{5_000_000 + n}"),
        project_gid=link.project_gid,
        team_id=link.team_id,
        channel_id=link.channel_id,
        thread_ts=MessageTs(f"1790000000.{n:06d}"),
        permalink_url=f"https://app.asana.com/0/{link.project_gid}/{5_000_000 + n}",
        name=f"Question {n}",
        created_at=created,
        # Saved a while ago, as the relay would have: a later report reads only newer saves.
        updated_at=now - timedelta(days=1),
        snapshot=snapshot,
        completed=completed,
        ack_subtask_gid=TaskGid(f"{6_000_000 + n}") if tracks else None,
        first_response_at=created + timedelta(minutes=20 * (n % 17)) if tracks and n % 8 else None,
    )


async def seed(database_url: str, world: World, count: int) -> tuple[Link, Link, list[TrackedTask]]:
    """The linked channel with `count` tasks, and a second linked channel with none (the floor's report)."""
    await migrate(database_url)
    store = await SqlStore.connect(database_url)
    now = datetime.now(UTC)
    team = TeamId(world.slack.team.team_id)
    busy = Link(
        team_id=team,
        channel_id=ChannelId(world.channel),
        project_gid=ProjectGid(world.project),
        project_name="Developer Questions",
        workspace_gid=WorkspaceGid(world.workspace),
        created_by=SlackUserId(world.slack_people["ana"]),
        created_at=now - timedelta(days=60),
        priority_field_gid="field-priority",
    )
    quiet_channel = world.slack.add_channel("quiet", members=["ana", world.slack.team.bot.user_id])
    quiet_project = world.asana.add_project(world.workspace, "Quiet project", members=[world.bridge_user])
    quiet = Link(
        team_id=team,
        channel_id=ChannelId(quiet_channel),
        project_gid=ProjectGid(quiet_project),
        project_name="Quiet project",
        workspace_gid=WorkspaceGid(world.workspace),
        created_by=SlackUserId(world.slack_people["ana"]),
        created_at=now - timedelta(days=60),
    )
    tasks = [tracked(n, busy, now) for n in range(count)]
    try:
        await store.save_link(busy)
        await store.save_link(quiet)
        await store.add_tracked_tasks(tasks)
    finally:
        await store.close()
    return busy, quiet, tasks


Between = Callable[[int], Awaitable[None]]


async def timings(url: str, requests: int, between: Between | None = None) -> tuple[list[float], int]:
    """Milliseconds of `requests` sequential GETs (after two warm-ups, the first of them first in the list) and the
    size of the last body; `between(n)` runs before the n-th request, untimed."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    spent: list[float] = []
    size = 0
    async with aiohttp.ClientSession() as http:
        for n in range(requests + 2):
            if between is not None:
                await between(n)
            started = time.perf_counter()
            async with http.get(url, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {url}: {response.status} {body[:200]!r}")
            if n >= 2 or n == 0:
                spent.append((time.perf_counter() - started) * 1000)
            size = len(body)
    return spent, size


async def run(profile: Profile) -> list[Result]:
    results = []
    for sizes in SIZES[profile]:
        results += await run_at(sizes, judged=profile != "smoke")
    return results


async def run_at(sizes: Sizes, *, judged: bool) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        workdir = Path(folder)
        (workdir / "bridge.toml").write_text(POLICY)
        database_url = f"sqlite+aiosqlite:///{workdir / 'bridge.db'}"
        async with world_running() as world:
            _, quiet, tasks = await seed(database_url, world, sizes.tasks)
            env = {"BRIDGE_REPORT_TOKEN": TOKEN}
            async with served_bridge(world, workdir, env=env, database_url=database_url) as bridge:
                store = bridge.store

                async def relay_saves(n: int) -> None:
                    for task in tasks[n * 5 : n * 5 + 5]:
                        await store.save_tracked_task(changed(task))

                base = bridge.served.url
                # The first request for the busy link reads every task (a full reload): Slack's commands keep coming
                # meanwhile. Warmed up first on the quiet link (templates, the first command), which has no tasks.
                user = bridge.slack.user("ana")
                nothing = link_id(quiet.team_id, quiet.channel_id)
                await user.slash_command("/asana", "help", world.channel)
                await timings(f"{base}/report?link={nothing}", 0)
                (cold_only, _), acks = await acked_meanwhile(
                    timings(f"{base}/report?link=all", 0), lambda: user.slash_command("/asana", "help", world.channel)
                )
                page = (await timings(f"{base}/report?link=all", sizes.requests, relay_saves))[0][1:]
                data, data_bytes = await timings(f"{base}/report.json?link=all", sizes.requests)
                # Two JSON and two CSV exports while Slack's commands keep coming: how long the loop is held.
                before = await loop_probe(base)
                _, export_acks = await acked_meanwhile(
                    exports(base), lambda: user.slash_command("/asana", "help", world.channel)
                )
                after = await loop_probe(base)
                held = worst_between(before.delays, after.delays)
                _, *empty = (await timings(f"{base}/report?link={nothing}", sizes.requests))[0]
                page_bytes = (await timings(f"{base}/report?link=all", 1))[1]
    cold = cold_only[0]
    floor = percentile(empty, 50)
    params = {"tasks": sizes.tasks, "requests": sizes.requests, "page_bytes": page_bytes, "json_bytes": data_bytes}
    p50, p99 = percentile(page, 50), percentile(page, 99)
    ack_p99 = percentile(acks, 99)
    return [
        Result(NAME, "page_p50", p50, "ms", floor, "< 300 ms at 10k", judge(judged and sizes.tasks <= 10_000, p50,
               lambda v: v < 300), params),
        Result(NAME, "page_p99", p99, "ms", percentile(empty, 99), "reported", None, params),
        Result(NAME, "cold_page", cold, "ms", floor, "reported (first request: reads every task)", None, params),
        Result(NAME, "json_p50", percentile(data[1:], 50), "ms", floor, "reported (every open item)", None, params),
        # The probe's histogram read before and after the exports: the bound of the highest bucket that gained a
        # delay meanwhile (the start's delays, and the cold page's, are not the exports'). The worst since start is
        # reported beside it.
        Result(NAME, "loop_lag_max_during_exports", held if math.isfinite(held) else None, "ms", None,
               "<= 50 ms (the bound of the probe's highest bucket reached during the exports)",
               judge(judged, held, lambda v: v <= 50),
               {**params, "since_start_ms": after.worst_ms, "since_start_before_exports_ms": before.worst_ms}),
        Result(NAME, "ack_p99_during_exports", percentile(export_acks, 99), "ms", None, "< 100 ms",
               judge(judged, percentile(export_acks, 99), lambda v: v < 100),
               {**params, "acks": len(export_acks), "ack_max_ms": round(max(export_acks), 1)}),
        Result(NAME, "ack_p99_during_full_reload", ack_p99, "ms", None, "< 100 ms",
               judge(judged, ack_p99, lambda v: v < 100), {**params, "acks": len(acks)}),
    ]  # fmt: skip


T = TypeVar("T")


async def exports(base: str) -> None:
    """Two JSON and two CSV (open table) exports of the combined report, one after the other."""
    await timings(f"{base}/report.json?link=all", 0)
    await timings(f"{base}/report.csv?link=all&table=open", 0)


@dataclass(frozen=True)
class LoopProbe:
    """The bridge's event-loop probe as one scrape of `/metrics` reports it."""

    worst_ms: float  # the worst delay since start
    delays: dict[float, float]  # every delay so far: cumulative count per bucket bound (seconds)


async def loop_probe(base: str) -> LoopProbe:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as response:
        text = await response.text()
    worst, delays = 0.0, {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "bridge_event_loop_lag_max_seconds":
                worst = sample.value
            elif sample.name == "bridge_event_loop_delay_seconds_bucket":
                delays[float(sample.labels["le"])] = sample.value
    return LoopProbe(round(worst * 1000, 1), delays)


def worst_between(before: dict[float, float], after: dict[float, float]) -> float:
    """The worst probe delay between two readings, as an upper bound in milliseconds: the lowest bucket bound that
    holds every delay recorded in between (infinite past the last bucket)."""
    new = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
    every = new.get(math.inf, 0.0)
    return min((bound * 1000 for bound, count in new.items() if count == every), default=math.inf)


async def acked_meanwhile(work: Awaitable[T], command: Callable[[], Awaitable[Any]]) -> tuple[T, list[float]]:
    """Run `work` while sending a Slack command every ACK_EVERY seconds; its result and each ack's milliseconds."""
    acks: list[float] = []
    running = True

    async def commands() -> None:
        while running or not acks:
            started = time.perf_counter()
            ack = await command()
            if ack.status != 200:
                raise RuntimeError(f"a command during the reload answered {ack.status}")
            acks.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(ACK_EVERY)

    sender = asyncio.create_task(commands())
    try:
        result = await work
    finally:
        running = False
    await sender
    return result, acks


def changed(task: TrackedTask) -> TrackedTask:
    """The task as the relay saves it after a change in Asana: due date pushed back a week, or completed."""
    snapshot = dict(task.snapshot)
    now = datetime.now(UTC)
    if int(task.task_gid) % 2:
        snapshot.update(completed=True, completed_at=now.isoformat())
    else:
        snapshot["_bridge_due_pushes"] = int(snapshot.get("_bridge_due_pushes") or 0) + 1
        snapshot["due_on"] = (now + timedelta(days=7)).date().isoformat()
    return replace(task, snapshot=snapshot, completed=bool(snapshot["completed"]), updated_at=now)
