"""The `python -m bench` command: run the benches in order, one JSON object per figure on stdout.

Each bench is a module with `NAME` and `async def run(profile) -> list[Result]`, run in a fresh event loop so
that no bench inherits another's tasks, threads or warmed caches. Timings go to stderr, figures to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from types import ModuleType
from typing import Any

from bench import ack, failover, footprint, intake, quota, relay, report, soak, store, suggest, tick
from bench.results import Profile, Result

Bench = Callable[[Profile], Coroutine[Any, Any, list[Result]]]
# In priority order: the first ones are the figures issues wait for.
MODULES: tuple[ModuleType, ...] = (relay, tick, quota, ack, intake, footprint, report, failover, suggest, store)
# Run only when asked for (`--only soak`): its full size is an hour.
ON_REQUEST: tuple[ModuleType, ...] = (soak,)
BENCHES: dict[str, Bench] = {module.NAME: module.run for module in (*MODULES, *ON_REQUEST)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of the bridge; JSON lines out.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    size.add_argument("--smoke", action="store_true", help="the tiniest sizes: only checks that each bench runs")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append", help="run this bench (repeatable)")
    args = parser.parse_args(argv)
    profile: Profile = "smoke" if args.smoke else "quick" if args.quick else "full"
    # The bridge logs warnings (retries, 429s) on stderr; below that it would drown the figures' timing lines.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    names = args.only or [module.NAME for module in MODULES]
    failed = False
    started = time.monotonic()
    for name in names:
        began = time.monotonic()
        try:
            results = asyncio.run(BENCHES[name](profile))
        except Exception:
            logging.getLogger("bench").exception("bench %s failed", name)
            failed = True
            continue
        for result in results:
            print(result.to_json(), flush=True)
        print(f"bench {name}: {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    print(f"bench ({profile}): {time.monotonic() - started:.1f} s in all", file=sys.stderr, flush=True)
    return 1 if failed else 0
