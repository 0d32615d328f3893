"""What the reports read and keep."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from bridge.domain.model import ChannelId, Link, TaskGid, TeamId
from bridge.domain.report import Report
from bridge.domain.report_export import Export, Form
from bridge.domain.report_tasks import StoredTask

T = TypeVar("T")


class ReportStore(Protocol):
    """The tracked tasks as the report reads them."""

    async def report_tasks(
        self,
        *,
        team_id: TeamId | None = None,
        channel_id: ChannelId | None = None,
        priority_field: str | None = None,
        changed_since: datetime | None = None,
        assignee_gid: str | None = None,
        open_only: bool = False,
    ) -> list[StoredTask]:
        """Every tracked top-level task (of one channel, when given) with the facts the report reads, in one query;
        the priority is the option chosen in the enum field with gid or name `priority_field` (any case).
        `changed_since` keeps those saved, or first responded to, at or after that moment; `assignee_gid` those
        assigned to that Asana user; `open_only` those not completed."""
        ...

    async def report_tasks_apart(
        self, made: Callable[[StoredTask], T], *, team_id: TeamId, channel_id: ChannelId, priority_field: str | None
    ) -> dict[TaskGid, T]:
        """One channel's tasks as `report_tasks` reads them, each made into `made(row)`, keyed by task gid; read
        and made away from the event loop (a full reload of 100,000 tasks), which does nothing per row."""
        ...


class ReportBuilder(Protocol):
    """Builds the report of some links at a moment (in the bridge's process, or in a process of its own)."""

    async def report(self, scope: str, links: Sequence[Link], now: datetime, *, rows: int | None = None) -> Report:
        """The report of `links` at `now`; with `rows`, only the most urgent `rows` open items are kept in it (the
        counts still cover every one)."""
        ...

    async def export(self, scope: str, links: Sequence[Link], now: datetime, *, form: Form) -> Export:
        """The report of `links` at `now` with its open items serialized in `form`, chunk by chunk, where the report
        was built (the JSON and CSV exports: at 100,000 tasks, tens of megabytes the event loop only copies)."""
        ...
