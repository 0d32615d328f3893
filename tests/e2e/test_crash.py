"""kill -9 of `bridge serve` in the middle of a burst, then a restart: nothing lost, nothing posted twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bridge.adapters.store.sql_store import SqlStore
from bridge.sandbox.harness import bound_socket
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import SIGNING_SECRET, World
from tests.support import eventually, serving

TASKS = 6


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def test_kill_nine_mid_burst_loses_nothing_and_doubles_nothing(world: World, tmp_path: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")},
        **world.environment(port=port, database_url=database_url, public_url=url),
        "BRIDGE_EVENTS_POLL_SECONDS": "1",  # after the restart the poller fills what webhooks lost meanwhile
    }
    log = tmp_path / "serve.log"
    process = _start(env, log)
    store = await SqlStore.connect(database_url)
    slack = SimulatedSlack(world.slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
    await slack.start()
    try:
        await serving(url, process)
        ana = slack.user("ana")
        await ana.slash_command("/asana", f"link {world.project}", world.channel)
        await eventually(lambda: world.asana.webhooks, timeout=10)
        for index in range(TASKS):
            await ana.slash_command("/task", f"Crash test {index}", world.channel)
        tasks = await eventually(lambda: len(_named(world)) == TASKS and _named(world), timeout=20)
        threads = {}
        for task in tasks:
            tracked = await eventually(lambda t=task: store.get_tracked_task(t.gid), timeout=10)
            threads[task.gid] = tracked.thread_ts

        bo = world.asana.act(world.asana_people["bo"])
        for task in tasks:
            bo.complete(task.gid)
            bo.comment(task.gid, f"Done with {task.name}")
        # Kill it while the burst is being relayed: some posts done, some not, some maybe sent but not recorded.
        await eventually(lambda: _completions(world, threads) >= 1, timeout=20)
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 10)

        process = _start(env, log)
        await serving(url, process)
        await eventually(lambda: _completions(world, threads) >= TASKS, timeout=60)
        await eventually(lambda: _pending_is_zero(store), timeout=30)
        for gid, thread in threads.items():
            replies = [m.text for m in world.slack.thread(world.channel, thread) if m.ts != thread and m.bot_id]
            assert sum("✅ completed" in text for text in replies) == 1, (gid, replies)
            assert sum("Done with" in text for text in replies) == 1, (gid, replies)
    finally:
        await slack.close()
        await store.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 20)


def _named(world: World) -> list[object]:
    return [t for t in world.asana.store.tasks.values() if t.name.startswith("Crash test") and not t.deleted]


def _completions(world: World, threads: dict[str, str]) -> int:
    count = 0
    for thread in threads.values():
        texts = [m.text for m in world.slack.thread(world.channel, thread) if m.ts != thread and m.bot_id]
        count += sum("✅ completed" in text for text in texts)
    return count


async def _pending_is_zero(store: SqlStore) -> bool:
    counts = await store.inbox_counts()
    return counts.get("pending", 0) == counts.get("landed", 0) == 0
