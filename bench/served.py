"""A process serving HTTP on a loopback port, started and stopped by a bench: `bridge serve` itself, the bridge
with bench pacing (bench.bridge_process), or a floor (bench.floors) — each alone in its process, as deployed,
while the emulators and the load stay in the bench's process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.waiting import wait_until
from bridge.adapters.store.sql_store import SqlStore
from bridge.sandbox.harness import bound_socket
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World, start_world

REPO = Path(__file__).resolve().parents[1]
BRIDGE_SERVE = ("-m", "bridge", "serve")
BRIDGE_FOR_BENCH = ("-m", "bench.bridge_process")


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    started_in: float  # seconds from the spawn to the first 200 from the health route

    def rss_mb(self) -> float:
        """Resident memory of the process now (Linux /proc), in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6  # /proc counts kibibytes
        raise RuntimeError("no VmRSS in /proc status")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)


def cpu_seconds(pid: int) -> float:
    """CPU process `pid` has used so far, all its threads, user and system (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def free_port() -> int:
    sock = bound_socket()
    port: int = sock.getsockname()[1]
    sock.close()  # the process binds it itself; on loopback nobody takes it meanwhile
    return port


def base_environment() -> dict[str, str]:
    """What a process needs from ours, and the repository on its path so `-m bench.…` imports without install."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env


@asynccontextmanager
async def served(
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    workdir: Path,
    health: str = "/healthz",
    timeout: float = 30.0,
    graceful: bool = True,
) -> AsyncIterator[Served]:
    """Spawn `python <command>` in `workdir`, wait for `health` to answer 200; afterwards SIGTERM it (and wait
    for its drain), or SIGKILL it when not `graceful` (work left queued by a bench is not worth the wait)."""
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"{command[1].replace('.', '_')}.log"
    with log.open("wb") as out:
        spawned = time.perf_counter()
        process = subprocess.Popen(  # noqa: ASYNC220 - spawning does not wait for it
            [sys.executable, *command], cwd=workdir, env={**base_environment(), **env}, stdout=out, stderr=out
        )
    try:
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{log.read_text()[-2000:]}")
                try:
                    async with http.get(url + health) as response:
                        return response.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            await wait_until(healthy, timeout=timeout, interval=0.005, what=f"{url}{health} answering 200")
        yield Served(process=process, url=url, log=log, started_in=time.perf_counter() - spawned)
    finally:
        await stop(process, graceful=graceful)


async def stop(process: subprocess.Popen[bytes], *, graceful: bool = True, grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    if not graceful:
        process.kill()
        await asyncio.to_thread(process.wait)
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, grace)  # off the loop, where the emulators answer its last calls
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


@dataclass
class ServedBridge:
    """The bridge in its own process against a World, with what a bench needs to drive and inspect it."""

    world: World
    served: Served
    store: SqlStore  # the bridge's database, opened by the bench too (SQLite in WAL mode allows it)
    slack: SimulatedSlack  # Slack's side of the bridge's Request URL
    database_url: str


@asynccontextmanager
async def served_bridge(
    world: World,
    workdir: Path,
    *,
    command: Sequence[str] = BRIDGE_SERVE,
    env: Mapping[str, str] | None = None,
    database_url: str | None = None,
    graceful: bool = True,
) -> AsyncIterator[ServedBridge]:
    """Serve the bridge against `world` with the World's environment plus `env`; a SQLite file in `workdir` unless
    `database_url` is given. Stops it with SIGTERM afterwards, as an operator would (see `served`)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'bridge.db'}"
    environment = {**world.environment(port=port, database_url=database_url, public_url=url), **(env or {})}
    async with served(command, port=port, env=environment, workdir=workdir, graceful=graceful) as process:
        store = await SqlStore.connect(database_url)
        slack = SimulatedSlack(world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
        await slack.start()
        try:
            yield ServedBridge(world=world, served=process, store=store, slack=slack, database_url=database_url)
        finally:
            await slack.close()
            await store.close()


@asynccontextmanager
async def world_running(*, slack_rate_limits: bool = True) -> AsyncIterator[World]:
    """Both emulators started and seeded on loopback; `slack_rate_limits=False` lifts Slack's posting limits."""
    world = await start_world()
    world.slack.limits.enabled = slack_rate_limits
    try:
        yield world
    finally:
        await world.stop()
