"""relay: telling Asana changes in Slack — Asana reads per relayed event, posts per burst, delivery-to-post latency.

Fifty tasks are opened with /task through the bridge, then a person changes them in Asana (renames, due dates,
assignees, comments, priorities, sections, completion, in turn) in two scenarios of 1,000 changes. Each task is
touched every 2 s, the tasks staggered evenly (25 touches a second in all): in `spread` a touch is one change, so
each is its own burst; in `burst` it is five changes within the coalescing window, which the bridge should tell
as one reply after one read. An "event" is one Asana event delivered to the bridge by a person (most changes make
two: the task changed, and the story Asana adds about it; a comment makes one).

The bridge runs in its own process (bench.bridge_process); the emulators and the people stay in the bench's.
Rate limits are off on both sides (emulators, Asana quota, the bridge's own Slack channel pacing), so the figures
are the bridge's own cost and delay; Slack's one post per second per channel would otherwise dominate them.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.changes import Changes, Planned, burst_plan, spread_plan
from bench.flows import link_channel, open_tasks, settled
from bench.results import Profile, Result, judge, percentile, ratio
from bench.served import BRIDGE_FOR_BENCH, ServedBridge, served_bridge, world_running
from bench.waiting import wait_until
from bridge.adapters.store.tables import inbox
from bridge.domain.model import TrackedTask
from bridge.domain.relay import task_of
from bridge.sandbox.world import World
from bridge.services.outbox import POST_EVENT_TYPE

NAME = "relay"


@dataclass(frozen=True)
class Sizes:
    tasks: int
    changes: int  # per scenario
    burst: int  # changes per burst in the burst scenario
    window: float  # BRIDGE_RELAY_WINDOW_SECONDS
    gap: float  # seconds between a task's bursts (more than the window: they must not coalesce)


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(tasks=50, changes=1000, burst=5, window=0.3, gap=2.0),
    "quick": Sizes(tasks=20, changes=160, burst=4, window=0.3, gap=0.8),
    "smoke": Sizes(tasks=3, changes=9, burst=3, window=0.2, gap=0.4),
}


@dataclass(frozen=True)
class Group:
    """Events the bridge relayed together (finished in one statement), and when they arrived and finished."""

    task: str
    events: int
    last_received: float
    finished: float


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    env = {
        "BRIDGE_RELAY_WINDOW_SECONDS": str(sizes.window),
        "ASANA_REQUESTS_PER_MINUTE": "100000",
        "BENCH_SLACK_POST_INTERVAL": "0",
    }
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as workdir:
        async with (
            world_running(slack_rate_limits=False) as world,
            served_bridge(world, Path(workdir), command=BRIDGE_FOR_BENCH, env=env) as bridge,
        ):
            ana = bridge.slack.user("ana")
            await link_channel(world, ana, bridge.store)
            titles = [f"Bench task {n}" for n in range(sizes.tasks)]
            tasks = await open_tasks(world, ana, bridge.store, titles)
            await _quiet(bridge, sizes)
            changes = Changes(world, world.asana.act(world.asana_people["bo"]))
            results: list[Result] = []
            plans = {
                "spread": spread_plan(tasks=sizes.tasks, changes=sizes.changes, gap=sizes.gap),
                "burst": burst_plan(
                    tasks=sizes.tasks, changes=sizes.changes, burst=sizes.burst, window=sizes.window, gap=sizes.gap
                ),
            }
            for scenario, plan in plans.items():
                results += await _scenario(bridge, tasks, changes, scenario, plan, sizes, profile)
            return results


async def _scenario(
    bridge: ServedBridge,
    tasks: list[TrackedTask],
    changes: Changes,
    scenario: str,
    plan: list[Planned],
    sizes: Sizes,
    profile: Profile,
) -> list[Result]:
    world = bridge.world
    first_request = len(world.asana.requests)
    first_event = await _last_inbox_id(bridge)
    started = time.time()
    lateness = await _play(plan, lambda item: changes.make(tasks[item.task].task_gid))
    await _quiet(bridge, sizes)
    requests = world.asana.requests[first_request:]
    reads = [r for r in requests if r.method == "GET" and r.user == world.bridge_user]
    tracked: set[str] = {t.task_gid for t in tasks}
    groups, events, others = await _groups(bridge, first_event, tracked)
    posts = _posts(world, tasks, started)
    latencies = _latencies(groups, posts)
    bursts = len({p.burst for p in plan})
    window_ms = sizes.window * 1000
    judged = profile != "smoke"  # a handful of changes says nothing about a target
    reads_per_event = ratio(len(reads), events)
    reads_floor = ratio(bursts, events)
    reads_limit = 1.0 if scenario == "spread" else 0.3
    posts_per_burst = ratio(sum(len(p) for p in posts.values()), bursts)
    params: dict[str, Any] = {
        "scenario": scenario,
        "tasks": len(tasks),
        "changes": len(plan),
        "bursts": bursts,
        "events": events,
        "groups": len(groups),
        "reads": len(reads),
        "reads_per_change": round(len(reads) / len(plan), 3),
        "reads_by_path": dict(Counter(re.sub(r"\d{6,}", "{gid}", r.path) for r in reads).most_common()),
        "window_s": sizes.window,
        "max_change_lateness_ms": round(lateness * 1000, 1),
    }
    if others:
        params["other_events"] = others
    p50 = percentile(latencies, 50) * 1000 if latencies else None
    p99 = percentile(latencies, 99) * 1000 if latencies else None
    return [
        Result(
            NAME,
            f"{scenario}.asana_reads_per_event",
            reads_per_event,
            "reads/event",
            reads_floor,
            f"<= {reads_limit}",
            judge(judged, reads_per_event, lambda v: v <= reads_limit),
            params,
        ),
        Result(
            NAME,
            f"{scenario}.slack_posts_per_burst",
            posts_per_burst,
            "posts/burst",
            1.0,
            "<= 1.0",
            judge(judged, posts_per_burst, lambda v: v <= 1.0),
            {"scenario": scenario, "bursts": bursts, "posts": sum(len(p) for p in posts.values())},
        ),
        Result(
            NAME,
            f"{scenario}.latency_p50",
            p50,
            "ms",
            window_ms,
            f"< 250 ms + window ({window_ms + 250:g} ms)",
            judge(judged, p50, lambda v: v < window_ms + 250),
            {"scenario": scenario, "measured": len(latencies), "from": "delivery received", "to": "reply posted"},
        ),
        Result(
            NAME,
            f"{scenario}.latency_p99",
            p99,
            "ms",
            window_ms,
            "reported",
            None,
            {"scenario": scenario, "measured": len(latencies)},
        ),
    ]


async def _play(plan: list[Planned], make: Callable[[Planned], None]) -> float:
    """Make each change at its planned moment; returns how late the latest one was (a busy loop delays them)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    latest = 0.0
    for item in plan:
        delay = start + item.at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        latest = max(latest, loop.time() - start - item.at)
        make(item)
    return latest


async def _quiet(bridge: ServedBridge, sizes: Sizes) -> None:
    """Wait until Asana has delivered everything and the bridge has relayed it."""
    await bridge.world.asana.deliveries_idle(timeout=120)
    await asyncio.sleep(sizes.window)
    await wait_until(lambda: settled(bridge.store), timeout=120, interval=0.05, what="an empty inbox")


async def _last_inbox_id(bridge: ServedBridge) -> int:
    async with bridge.store.engine.connect() as conn:
        return int(await conn.scalar(select(func.coalesce(func.max(inbox.c.id), 0))) or 0)


async def _groups(bridge: ServedBridge, after_id: int, tracked: set[str]) -> tuple[list[Group], int, int]:
    """The human events delivered for the tracked tasks since `after_id`, grouped as the bridge relayed them
    (events finished in one statement share `finished_at`); also how many events, and how many about other tasks.
    The inbox is read directly: the Store port has no query for finished events."""
    async with bridge.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(inbox.c.payload, inbox.c.received_at, inbox.c.finished_at).where(inbox.c.id > after_id)
            )
        ).all()
    bridge_user = bridge.world.bridge_user
    by_group: dict[tuple[str, float], list[float]] = defaultdict(list)
    others = 0
    for payload, received_at, finished_at in rows:
        if (payload.get("user") or {}).get("gid") == bridge_user:
            continue  # the bridge's own changes are not relayed (no echo), so they are no relayed event
        task = task_of(payload)
        if task not in tracked or finished_at is None:
            others += 1
            continue
        by_group[(task, finished_at.timestamp())].append(received_at.timestamp())
    groups = [
        Group(task=task, events=len(received), last_received=max(received), finished=finished)
        for (task, finished), received in by_group.items()
    ]
    return groups, sum(g.events for g in groups), others


def _posts(world: World, tasks: list[TrackedTask], since: float) -> dict[str, list[float]]:
    """When each relay reply was posted (the Slack ts is the wall clock), by task."""
    posts: dict[str, list[float]] = {}
    for task in tasks:
        thread = world.slack.thread(task.channel_id, task.thread_ts)
        posts[task.task_gid] = sorted(
            float(m.ts)
            for m in thread[1:]
            if (m.metadata or {}).get("event_type") == POST_EVENT_TYPE and float(m.ts) >= since
        )
    return posts


def _latencies(groups: list[Group], posts: dict[str, list[float]]) -> list[float]:
    """Per reply: from the delivery of the last event it tells to its post. The reply of a group is posted just
    before the group is finished, so each post belongs to the first group of its task that finished after it."""
    by_task: dict[str, list[Group]] = defaultdict(list)
    for group in groups:
        by_task[group.task].append(group)
    latencies: list[float] = []
    for task, stamps in posts.items():
        pending: Iterator[Group] = iter(sorted(by_task.get(task, []), key=lambda g: g.finished))
        for posted in stamps:
            told = next((g for g in pending if g.finished >= posted), None)
            if told is None:
                break
            latencies.append(posted - told.last_received)
    return latencies
