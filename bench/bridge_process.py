"""`python -m bench.bridge_process`: `bridge serve` with the Slack post pacing a bench chooses.

The bridge spaces its posts one second apart per channel, as Slack allows; `build` takes that spacing as an
argument but no setting reaches it, so this runs the same steps as `bridge.cli.serve` with
BENCH_SLACK_POST_INTERVAL passed through. Everything else comes from the environment, as for `bridge serve`.
With BENCH_TRACEMALLOC_DIR set (bench.soak), tracemalloc runs, and SIGUSR1 writes a snapshot into that folder
under the name the bench put in its `next-snapshot` file. With BENCH_MEMORY_LOG set to a file, one JSON line
is appended to it every BENCH_MEMORY_EVERY seconds (default 30) saying where native memory sits (bench.memory).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tracemalloc
from pathlib import Path

from aiohttp import web

from bench.memory import log_memory
from bridge.adapters.malloc import MALLOC_ARENAS, limit_arenas
from bridge.adapters.store.migrate import migrate
from bridge.bootstrap import build
from bridge.config import Settings, load_settings

log = logging.getLogger("bench.bridge_process")


async def serve(settings: Settings, *, slack_post_interval: float) -> None:
    """As `bridge.cli.serve`: migrate, listen, start, run until SIGTERM, then stop taking requests and drain."""
    limit_arenas(MALLOC_ARENAS)  # before any thread starts (bridge.adapters.malloc says why)
    await migrate(settings.database_url)
    bridge = await build(settings, slack_post_interval=slack_post_interval)
    runner = web.AppRunner(bridge.web_app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    snapshots = os.environ.get("BENCH_TRACEMALLOC_DIR")
    if snapshots:
        loop.add_signal_handler(signal.SIGUSR1, _dump_snapshot, Path(snapshots))
    memory_log = os.environ.get("BENCH_MEMORY_LOG")
    logging_memory = (
        asyncio.create_task(
            log_memory(
                Path(memory_log),
                float(os.environ.get("BENCH_MEMORY_EVERY", "30")),
                trim=bool(os.environ.get("BENCH_MEMORY_TRIM")),
            )
        )
        if memory_log
        else None
    )
    try:
        await bridge.start()
        log.info("bridge listening on %s:%s (Slack posts %ss apart)", settings.host, settings.port, slack_post_interval)
        await stop.wait()
    finally:
        if logging_memory is not None:
            logging_memory.cancel()
        await runner.cleanup()
        await bridge.close()


def _dump_snapshot(folder: Path) -> None:
    """Write a tracemalloc snapshot (on the loop: a pause the soak bench accepts, twice a run), then say it is whole."""
    label = (folder / "next-snapshot").read_text().strip()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    snapshot.dump(str(folder / f"{label}.snapshot"))
    (folder / f"{label}.snapshot.done").touch()


def main() -> None:
    if os.environ.get("BENCH_TRACEMALLOC_DIR"):
        tracemalloc.start(1)
    logging.basicConfig(
        level=os.environ.get("BRIDGE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    interval = float(os.environ.get("BENCH_SLACK_POST_INTERVAL", "1.0"))
    asyncio.run(serve(load_settings(os.environ), slack_post_interval=interval))


if __name__ == "__main__":
    main()
