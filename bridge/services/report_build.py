"""The report's tasks as last read, and the report built over them.

Tasks are kept between reports and only what was saved since is read again, as the nag scheduler does: saves on
other replicas may carry a clock a little behind ours (look back a margin), and now and then read everything.
A `ReportMaker` runs in the bridge's process (an in-memory database, the unit tests' fakes), or in a process of its
own (adapters/worker_process.py) where a full reload of 100,000 tasks costs the bridge's event loop nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from bridge.domain.model import ChannelId, Link, TaskGid, TeamId
from bridge.domain.policy import Policy
from bridge.domain.report import Report, build_report
from bridge.domain.report_export import Export, Form, exported
from bridge.domain.report_tasks import ReportTask, report_task
from bridge.ports import ReportStore
from bridge.services.collector import full_collections_held_off

CLOCK_MARGIN = timedelta(seconds=30)
FULL_RELOAD = timedelta(minutes=10)


@dataclass
class _Known:
    """One link's tasks as last read, and when that read started."""

    priority_field: str | None
    tasks: dict[TaskGid, ReportTask]
    seen_at: datetime
    loaded_at: datetime


class ReportMaker:
    """Keeps each link's tasks and builds reports over them. `in_threads`: the full reload and the judging run in
    worker threads (in the bridge's process, so the loop keeps answering); in a process of its own, they need not."""

    def __init__(self, reports: ReportStore, policy: Policy, *, in_threads: bool = True) -> None:
        self._reports = reports
        self._policy = policy
        self._in_threads = in_threads
        self._known: dict[tuple[TeamId, ChannelId], _Known] = {}

    async def report(self, scope: str, links: Sequence[Link], now: datetime, *, rows: int | None = None) -> Report:
        """The report of `links` at `now`; with `rows`, only the most urgent `rows` open items are kept in it (the
        counts still cover every one)."""
        # A report of 100,000 tasks keeps as many objects alive for seconds: no full collection walks them meanwhile.
        with full_collections_held_off():
            tasks: list[ReportTask] = []
            for link in links:
                tasks.extend(await self._tasks_of(link, now))
            judged = partial(
                build_report, tasks, policy_of=self._policy.for_project, now=now, scope=scope, calendar=self._policy
            )
            # Judging every task (100,000 of them take seconds) runs in a thread: the loop keeps answering meanwhile.
            report = await asyncio.to_thread(judged) if self._in_threads else judged()
        return report if rows is None else replace(report, open_items=report.open_items[:rows])

    async def export(self, scope: str, links: Sequence[Link], now: datetime, *, form: Form) -> Export:
        """The report with its open items serialized in `form` (in a thread here too: 60,000 items take seconds)."""
        report = await self.report(scope, links, now)
        return await asyncio.to_thread(exported, report, form) if self._in_threads else exported(report, form)

    async def _tasks_of(self, link: Link, started: datetime) -> Iterable[ReportTask]:
        """The link's tasks: all of them the first time (and every FULL_RELOAD), then only those saved since."""
        field = link.priority_field_gid or self._policy.for_project(link.project_gid).triage.priority_field
        key = (link.team_id, link.channel_id)
        known = self._known.get(key)
        if known is None or known.priority_field != field or started - known.loaded_at >= FULL_RELOAD:
            known = self._known[key] = _Known(field, await self._all_tasks(link, field), started, started)
            return known.tasks.values()
        changed = await self._reports.report_tasks(
            team_id=link.team_id,
            channel_id=link.channel_id,
            priority_field=field,
            changed_since=known.seen_at - CLOCK_MARGIN,
        )
        for row in changed:
            known.tasks[row.gid] = report_task(row)
        known.seen_at = max(known.seen_at, started)
        return known.tasks.values()

    async def _all_tasks(self, link: Link, field: str | None) -> dict[TaskGid, ReportTask]:
        if self._in_threads:
            # Read and made into report rows in a worker thread: the loop does nothing per task meanwhile.
            return await self._reports.report_tasks_apart(
                report_task, team_id=link.team_id, channel_id=link.channel_id, priority_field=field
            )
        rows = await self._reports.report_tasks(team_id=link.team_id, channel_id=link.channel_id, priority_field=field)
        return {row.gid: report_task(row) for row in rows}
