"""Long pure work in a process of its own: the SLA report, and the quiet part of a tick that judges every task.

The report: the bridge's process does no Python work for a full reload.

Reading and judging 100,000 tasks takes a core for seconds. In a thread of the bridge's process that was still the
bridge's GIL: every turn of the event loop and every socket call of a Slack ack waited behind it (ack p99 130-230 ms
at 100k, bench/RESULTS.md). Here one long-lived worker process (started at the first report, by `spawn`: never a
fork of a threaded asyncio process) reads the database on a connection of its own, keeps each link's tasks between
reports (services/report_build.py) and sends back only what a request shows: the page's rows and the figures. The
JSON and CSV exports take every open item: the worker serializes them itself (domain/report_export.py) and sends the
body's bytes in chunks, which the bridge writes out one at a time; its loop does nothing per item.

The tick: after an upgrade or a change of a link's rules every task is due to be judged; the worker stores the
next moment of those with nothing to send (services/nag_prepass.py), so the bridge's tick judges only the rest.

A database only this process can see (SQLite in memory) cannot be read from another: the wiring keeps this work in
the bridge's process then. The worker ends with the bridge (`close`), and by itself if the bridge dies.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from bridge.adapters.store.engine import create_engine
from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.model import Link, TaskGid
from bridge.domain.policy import Policy
from bridge.domain.report import Report
from bridge.domain.report_export import Export, Form
from bridge.services.nag_prepass import arm_quiet
from bridge.services.report_build import ReportMaker

log = logging.getLogger(__name__)
T = TypeVar("T")

NICENESS = 10  # the worker's, added to the bridge's
BACKLOG = 1_000  # tasks due at once from which the worker arms the quiet ones (fewer: the tick's own work)


def seen_by_other_processes(database_url: str) -> bool:
    """Whether another process opening `database_url` finds the same database (not SQLite in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return True
    return url.database not in (None, "", ":memory:") and url.query.get("mode") != "memory"


class WorkerProcess:
    """A ReportBuilder and QuietArming whose work happens in one worker process, started at the first call."""

    def __init__(
        self, database_url: str, policy: Policy, *, count_due: Callable[..., Awaitable[int]] | None = None
    ) -> None:
        self._database_url = database_url
        self._policy = policy
        self._count_due = count_due  # SqlNagIndex.count_due on the bridge's own store
        self._pool: ProcessPoolExecutor | None = None

    async def report(self, scope: str, links: Sequence[Link], now: datetime, *, rows: int | None = None) -> Report:
        report: Report = await self._run(_report, scope, tuple(links), now, rows)
        return report

    async def export(self, scope: str, links: Sequence[Link], now: datetime, *, form: Form) -> Export:
        exported: Export = await self._run(_export, scope, tuple(links), now, form)
        return exported

    async def arm_quiet(self, links: Sequence[Link], now: datetime, skip: frozenset[TaskGid]) -> int:
        if self._count_due is not None and await self._count_due(now=now, up_to=BACKLOG) < BACKLOG:
            return 0  # an ordinary tick: judged where it is, without a process started for it
        armed: int = await self._run(_arm_quiet, tuple(links), now, skip)
        return armed

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker(), fn, *args)
        except BrokenProcessPool:
            # The worker died (killed, out of memory): start another (which reads every report's tasks again).
            log.warning("the worker process stopped; starting another")
            self._discard()
            return await loop.run_in_executor(self._worker(), fn, *args)

    async def close(self) -> None:
        """Stop the worker (after the report it is building, if any)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self._database_url, self._policy),
            )
        return self._pool

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


# In the worker process: its own event loop and store connection, the policy, and the report's tasks it keeps.
_loop: asyncio.AbstractEventLoop | None = None
_store: SqlStore | None = None
_policy: Policy | None = None
_maker: ReportMaker | None = None


def _start(database_url: str, policy: Policy) -> None:
    global _loop, _store, _policy, _maker
    # Batch work beside a process that answers people: when the cores are busy, the bridge's acks go first.
    os.nice(NICENESS)
    threading.Thread(target=_exit_with_parent, name="report-parent-watch", daemon=True).start()
    _loop = asyncio.new_event_loop()
    _store, _policy = SqlStore(create_engine(database_url)), policy
    _maker = ReportMaker(_store, policy, in_threads=False)


def _exit_with_parent() -> None:
    """End this process when the bridge's has ended without stopping it (SIGKILL): no orphan keeps reading."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def _report(scope: str, links: tuple[Link, ...], now: datetime, rows: int | None) -> Report:
    """The report with its `rows` most urgent open items (all of them without `rows`: the bridge asks for a page, a
    count or an export, never for every item unpickled on its loop)."""
    assert _loop is not None and _maker is not None
    return _loop.run_until_complete(_maker.report(scope, links, now, rows=rows))


def _export(scope: str, links: tuple[Link, ...], now: datetime, form: Form) -> Export:
    """The report without its open items, and those serialized in `form`: bytes, which cost nothing to unpickle."""
    assert _loop is not None and _maker is not None
    return _loop.run_until_complete(_maker.export(scope, links, now, form=form))


def _arm_quiet(links: tuple[Link, ...], now: datetime, skip: frozenset[TaskGid]) -> int:
    assert _loop is not None and _store is not None and _policy is not None
    return _loop.run_until_complete(arm_quiet(_store, _policy, links, now, skip))
