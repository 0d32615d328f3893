"""soak: does the bridge's memory stay flat under steady use? An hour of /task commands and Asana comments.

The bridge runs in its own process (bench.bridge_process) with tracemalloc on, against the emulators. A person
runs `/task` every `task_every` seconds in one linked channel, and people comment in Asana on the tasks made so
far `comments_per_s` times a second (each comment is relayed into its task's thread), and complete the oldest once
`open_tasks` are open, so the work in progress stays steady as on a team's real day. The bridge's RSS is read
every few seconds; after a warm-up (minute 10 of 60) it must stay within ±10 % of what it was then. tracemalloc
snapshots taken at the end of the warm-up and at the end say what grew in between (the figure's params list the
lines that grew most), so a leak names its line instead of being guessed at. The judged RSS is read after the
first snapshot and before the second: taking one leaves 5-8 MB of the bridge's main heap resident (measured), which
is the bench's doing. bench.memory logs, inside the bridge, where native memory sits (SQLite, malloc, threads).

Slack's pacing is off (posts unpaced, no emulator limits): the bench measures what the bridge keeps, not a queue
of posts waiting for their turn. tracemalloc costs memory of its own, roughly in proportion to what Python
allocates, so it does not bend flatness; the RSS figures are with it on.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.flows import link_channel
from bench.memory import read_log
from bench.results import Profile, Result, judge
from bench.served import BRIDGE_FOR_BENCH, ServedBridge, served_bridge, world_running
from bench.waiting import wait_until

NAME = "soak"
SNAPSHOT_SIGNAL = signal.SIGUSR1  # bench.bridge_process dumps a tracemalloc snapshot when it gets this


@dataclass(frozen=True)
class Sizes:
    seconds: float  # the whole run
    warmup: float  # RSS is judged from here to the end
    task_every: float  # seconds between two /task
    comments_per_s: float
    sample_every: float  # seconds between two RSS reads
    open_tasks: int = 200  # beyond this many, the oldest open task is completed


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(seconds=3600, warmup=600, task_every=2.0, comments_per_s=1.5, sample_every=10),
    "quick": Sizes(seconds=600, warmup=120, task_every=2.0, comments_per_s=1.5, sample_every=5),
    "smoke": Sizes(seconds=12, warmup=4, task_every=1.0, comments_per_s=1.0, sample_every=1, open_tasks=5),
}


async def _snapshot(bridge: ServedBridge, folder: Path, label: str) -> tracemalloc.Snapshot:
    """Ask the bridge's process for a tracemalloc snapshot and load it once it is written whole."""
    path = folder / f"{label}.snapshot"
    done = folder / f"{label}.snapshot.done"
    (folder / "next-snapshot").write_text(label)
    os.kill(bridge.served.process.pid, SNAPSHOT_SIGNAL)
    await wait_until(done.exists, timeout=120, interval=0.2, what=f"tracemalloc snapshot {label}")
    return tracemalloc.Snapshot.load(str(path))


def _growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int = 8) -> list[str]:
    """The lines whose live memory grew most between two snapshots, as 'file:line +KB (+blocks)'."""
    lines = []
    for stat in after.compare_to(before, "lineno")[:top]:
        frame = stat.traceback[0]
        where = f"{'/'.join(Path(frame.filename).parts[-2:])}:{frame.lineno}"
        lines.append(f"{where} {stat.size_diff / 1024:+.0f} KB ({stat.count_diff:+d} blocks)")
    return lines


async def drive(bridge: ServedBridge, sizes: Sizes, folder: Path) -> dict[str, Any]:
    """Steady use for `sizes.seconds`; returns the RSS samples and the snapshots' growth."""
    world = bridge.world
    ana = bridge.slack.user("ana")
    await link_channel(world, ana, bridge.store)
    commenters = [world.asana.act(world.asana_people[name]) for name in ("bo", "cy")]
    made: list[str] = []  # gids of the open tasks /task made, oldest first
    learned: set[str] = set()
    titles: set[str] = set()
    counts = {"tasks": 0, "comments": 0, "completed": 0}
    started = time.monotonic()
    ends = started + sizes.seconds
    rng = random.Random(7)

    async def tasks() -> None:
        for n in itertools.count():
            if time.monotonic() >= ends:
                return
            title = f"Soak question {n}: why does the export fail?"
            titles.add(title)
            await ana.slash_command("/task", title, world.channel)
            counts["tasks"] += 1
            await asyncio.sleep(sizes.task_every)

    async def comments() -> None:
        seen = 0
        while time.monotonic() < ends:
            store = world.asana.store.tasks
            if len(store) != seen:  # learn the tasks made since (their names are ours)
                seen = len(store)
                new = [t.gid for t in store.values() if t.name in titles and t.gid not in learned]
                learned.update(new)
                made.extend(new)
            person = rng.choice(commenters)
            while len(made) > sizes.open_tasks:
                person.complete(made.pop(0))
                counts["completed"] += 1
            if made:
                person.comment(rng.choice(made), f"Looked at it ({counts['comments']})")
                counts["comments"] += 1
            await asyncio.sleep(1 / sizes.comments_per_s)

    samples: list[tuple[float, float]] = []
    snapshots: dict[str, tracemalloc.Snapshot] = {}

    async def sample() -> None:
        while time.monotonic() < ends:
            # The warm-up's snapshot comes before the first judged read, the end's after the last: taking one (a
            # copy of every trace, pickled) leaves megabytes of the bridge's heap resident, which are the bench's.
            if "warm" not in snapshots and time.monotonic() - started >= sizes.warmup:
                snapshots["warm"] = await _snapshot(bridge, folder, "warm")
            samples.append((time.monotonic() - started, bridge.served.rss_mb()))
            await asyncio.sleep(sizes.sample_every)

    await asyncio.gather(tasks(), comments(), sample())
    samples.append((time.monotonic() - started, bridge.served.rss_mb()))
    snapshots["end"] = await _snapshot(bridge, folder, "end")
    heap = {label: _traced_mb(snapshot) for label, snapshot in snapshots.items()}
    return {"samples": samples, "growth": _growth(snapshots["warm"], snapshots["end"]), "heap": heap, **counts}


def _traced_mb(snapshot: tracemalloc.Snapshot) -> float:
    """What Python objects held at the snapshot (tracemalloc's view: not SQLite's page cache nor malloc's slack)."""
    return sum(stat.size for stat in snapshot.statistics("filename")) / 1e6


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as workdir:
        folder = Path(workdir)
        # Where native memory sits, every sample_every seconds (bench.memory); BENCH_SOAK_MEMORY_LOG keeps the file.
        memory_log = Path(os.environ.get("BENCH_SOAK_MEMORY_LOG") or folder / "memory.jsonl")
        env = {
            "BENCH_SLACK_POST_INTERVAL": "0",
            "BENCH_TRACEMALLOC_DIR": str(folder),
            "BENCH_MEMORY_LOG": str(memory_log),
            "BENCH_MEMORY_EVERY": str(sizes.sample_every * 6),
            "BENCH_MEMORY_TRIM": os.environ.get("BENCH_SOAK_MEMORY_TRIM", ""),  # also time a malloc_trim each line
        }
        async with (
            world_running(slack_rate_limits=False) as world,
            served_bridge(world, folder, command=BRIDGE_FOR_BENCH, env=env, graceful=False) as bridge,
        ):
            found = await drive(bridge, sizes, folder)
        memory = read_log(memory_log)
    samples: list[tuple[float, float]] = found["samples"]
    judged_samples = [rss for at, rss in samples if at >= sizes.warmup] or [samples[-1][1]]
    base = judged_samples[0]
    spread = max(abs(rss - base) for rss in judged_samples) / base
    first = samples[0][1]
    params = {
        "minutes": round(sizes.seconds / 60, 1),
        "warmup_minutes": round(sizes.warmup / 60, 1),
        "tasks": found["tasks"],
        "comments": found["comments"],
        "completed": found["completed"],
        "python_heap_after_warmup_mb": round(found["heap"]["warm"], 2),
        "python_heap_last_mb": round(found["heap"]["end"], 2),
        "rss_first_mb": round(first, 1),
        "rss_after_warmup_mb": round(base, 1),
        "rss_last_mb": round(samples[-1][1], 1),
        "rss_max_after_warmup_mb": round(max(judged_samples), 1),
        "kb_per_task_after_warmup": round((samples[-1][1] - base) * 1000 / max(1, found["tasks"]), 2),
        "grew_most": found["growth"],
        "native_first": memory[0] if memory else None,  # bench.memory's figures, at the start and the end
        "native_last": memory[-1] if memory else None,
    }
    return [
        Result(
            NAME,
            "rss_spread_after_warmup",
            spread * 100,
            "%",
            None,
            "within ±10 %",
            judge(profile == "full", spread, lambda v: v <= 0.10),
            params,
        )
    ]
