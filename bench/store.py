"""store: how long one small read and one small write take through the store's SQLite engine, with the event loop
idle and with it kept busy, beside the same engine on aiosqlite's own cursors (the floor).

Every store method is one transaction. Through aiosqlite's own cursors a one-row read or write took 8 trips to
the connection's thread; through bridge/adapters/store/sqlite_driver.py it takes 2. Each trip waits for the GIL
while the loop is busy, so the difference shows most when the loop is serving requests. "Busy" here is four tasks
doing Python work in slices of about 100 µs, each slice ending in a socket call and a turn of the loop, as a loop
answering requests does. Both engines run in this process, alternated, on files of their own.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.results import Profile, Result, percentile
from bridge.adapters.store.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, tune_sqlite, writer

NAME = "store"
BUSY_TASKS = 4
SLICE_STEPS = 1500  # additions per slice of Python work: about 100 µs


@dataclass(frozen=True)
class Sizes:
    idle: int  # reads and as many writes, per engine and round, with the loop idle
    busy: int  # the same with the loop busy (each takes tens of milliseconds then)
    rounds: int  # each engine in turn, idle then busy


SIZES: dict[Profile, Sizes] = {
    "full": Sizes(idle=1000, busy=100, rounds=3),
    "quick": Sizes(idle=300, busy=40, rounds=1),
    "smoke": Sizes(idle=5, busy=2, rounds=1),
}


@dataclass
class Timings:
    reads: list[float]
    writes: list[float]


def _engines(folder: Path) -> dict[str, AsyncEngine]:
    floor = create_async_engine(
        f"sqlite+aiosqlite:///{folder / 'floor.db'}", connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )
    tune_sqlite(floor)  # the same PRAGMAs and BEGINs: only the cursors differ
    return {"store": create_engine(f"sqlite+aiosqlite:///{folder / 'store.db'}"), "floor": floor}


async def run(profile: Profile) -> list[Result]:
    sizes = SIZES[profile]
    timings = {(engine, busy): Timings([], []) for engine in ("store", "floor") for busy in (False, True)}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        engines = _engines(Path(folder))
        try:
            for engine in engines.values():
                async with writer(engine).begin() as conn:
                    await conn.execute(text("CREATE TABLE one (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
                    await conn.execute(text("INSERT INTO one VALUES (1, '')"))
            for _ in range(sizes.rounds):
                for busy in (False, True):
                    for name, engine in engines.items():
                        await _measure(engine, sizes.busy if busy else sizes.idle, busy, timings[name, busy])
        finally:
            for engine in engines.values():
                await engine.dispose()
    params = {"idle_operations": sizes.idle * sizes.rounds, "busy_operations": sizes.busy * sizes.rounds,
              "busy_tasks": BUSY_TASKS}  # fmt: skip
    results = []
    for busy in (False, True):
        mine, floor = timings["store", busy], timings["floor", busy]
        loop = "busy" if busy else "idle"
        for kind, ours, theirs in (("read", mine.reads, floor.reads), ("write", mine.writes, floor.writes)):
            for p in (50, 99):
                results.append(
                    Result(
                        NAME,
                        f"{kind}_p{p}_{loop}",
                        percentile(ours, p) * 1000,
                        "ms",
                        percentile(theirs, p) * 1000,
                        "reported (floor: aiosqlite's own cursors)",
                        None,
                        params,
                    )
                )
    return results


async def _measure(engine: AsyncEngine, operations: int, busy: bool, into: Timings) -> None:
    stop = asyncio.Event()
    load = [asyncio.create_task(_busy(stop)) for _ in range(BUSY_TASKS if busy else 0)]
    try:
        for n in range(operations):
            into.reads.append(await _timed(_read(engine)))
            into.writes.append(await _timed(_write(engine, n)))
    finally:
        stop.set()
        await asyncio.gather(*load)


async def _timed(operation: Awaitable[None]) -> float:
    started = time.perf_counter()
    await operation
    return time.perf_counter() - started


async def _read(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        (await conn.execute(text("SELECT v FROM one WHERE k = 1"))).all()


async def _write(engine: AsyncEngine, n: int) -> None:
    async with writer(engine).begin() as conn:
        await conn.execute(text("UPDATE one SET v = :v WHERE k = 1"), {"v": str(n)})


async def _busy(stop: asyncio.Event) -> None:
    """Python work in slices, a socket call at the end of each (as a response is sent), then a turn of the loop."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    try:
        while not stop.is_set():
            total = 0
            for step in range(SLICE_STEPS):
                total += step
            ours.send(b".")
            theirs.recv(64)
            await asyncio.sleep(0)
    finally:
        ours.close()
        theirs.close()
