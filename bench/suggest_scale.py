"""Suggestions over 100,000 resolved tasks (bench/suggest.py's second half): the tasks, and how fast a search is.

The tasks are made from the labelled set's own words (4-10 word titles, 10-40 word notes, three real comments each)
in one project, and searched in that project: the hardest case, where the search ranks only the rows with a
question's rarer words (adapters/store/rarity.py).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text

from bench.results import Profile, Result, judge, percentile
from bench.suggest_data import Question, Thread
from bridge.adapters.store import SqlStore
from bridge.domain.model import ChannelId, ProjectGid, TaskGid, TeamId
from bridge.domain.suggest import Answer, Scope, terms

NAME = "suggest"
LATENCY_TARGET_MS = 50.0
SIZES = {"full": 100_000, "quick": 20_000, "smoke": 1_000}
POOL = ProjectGid("1")


async def fill(
    store: SqlStore, threads: Sequence[Thread], size: int, *, team: TeamId, channel: ChannelId, now: datetime
) -> float:
    """`size` resolved answers made of the threads' words, in POOL; returns the seconds it took."""
    rng = random.Random(22)
    words = [w for t in threads for w in f"{t.subject} {t.body}".split()]
    answers_words = [c.text for t in threads for c in t.comments]
    made = time.perf_counter()
    batch: list[Answer] = []
    for i in range(size):
        batch.append(
            Answer(
                task_gid=TaskGid(f"9{i:09d}"),
                team_id=team,
                channel_id=channel,
                project_gids=(POOL,),
                title=" ".join(rng.choices(words, k=rng.randint(4, 10))),
                permalink_url=f"https://app.asana.com/0/1/{i}",
                asked_at=now,
                notes=" ".join(rng.choices(words, k=rng.randint(10, 40))),
                answer="\n\n".join(rng.choices(answers_words, k=3)),
                answered_by=("Bo",),
                resolved_at=now,
            )
        )
        if len(batch) == 1000:
            await store.save_answers(batch)
            batch = []
    if batch:
        await store.save_answers(batch)
    await analyze(store)
    return time.perf_counter() - made


async def analyze(store: SqlStore) -> None:
    """PostgreSQL after a bulk load, as autovacuum leaves it: the planner's statistics (the search reads its word
    counts from them) and the GIN index's pending list merged (until then every search reads that list through)."""
    if store.engine.dialect.name == "postgresql":
        async with store.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))


async def _backends(store: SqlStore) -> list[int]:
    """The PostgreSQL server processes of the store's database (the search's pooled connections), if any."""
    if store.engine.dialect.name != "postgresql":
        return []
    async with store.engine.connect() as conn:
        found = await conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        return [int(pid) for (pid,) in found]


def _cpu_ns(backends: Sequence[int]) -> int:
    """CPU time of this process and of those server processes, in ns (Linux's schedstat: ns on a core)."""
    total = time.process_time_ns()
    for pid in backends:
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


async def latency(
    engine: str, store: SqlStore, questions: list[Question], scope: Scope, size: int, profile: Profile, load: float
) -> list[Result]:
    """p99 of 1,000 searches of the labelled questions over the `size` tasks of one project, after 20 warm-ups."""
    asked = [terms(f"{q.subject}\n{q.body}") for q in questions]
    for words in asked[:20]:  # warm the caches, as a running bridge's are
        await store.search_answers(words, scope, limit=4)
    timings, cpu = [], []
    loads = [os.getloadavg()[0]]
    backends = await _backends(store)
    for i in range(1000 if profile != "smoke" else 100):
        began, used = time.perf_counter(), _cpu_ns(backends)
        await store.search_answers(asked[i % len(asked)], scope, limit=4)
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((_cpu_ns(backends) - used) / 1e6)
    loads.append(os.getloadavg()[0])
    p99 = percentile(timings, 99)
    params = {
        "resolved_tasks": size,
        "searches": len(timings),
        "load_seconds": round(load, 1),
        "p50_ms": round(percentile(timings, 50), 2),
        "max_ms": round(max(timings), 2),
        "first_pass_max_ms": round(max(timings[: len(asked)]), 2),  # the words counted for the first time
        # The CPU a search used (this process, with SQLite's work, and PostgreSQL's server processes), and the
        # machine's load average before and after: on a shared machine the wall time is mostly waiting for a core.
        "cpu_p50_ms": round(percentile(cpu, 50), 2),
        "cpu_p99_ms": round(percentile(cpu, 99), 2),
        "load_average": [round(v, 1) for v in loads],
    }
    return [
        Result(
            NAME,
            f"{engine}.search_p99",
            p99,
            "ms",
            None,
            f"< {LATENCY_TARGET_MS:.0f} ms over {size:,} resolved tasks",
            judge(profile == "full", p99, lambda v: v < LATENCY_TARGET_MS),
            params,
        )
    ]
