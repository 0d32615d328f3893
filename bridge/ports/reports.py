"""What the reports read and keep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from bridge.domain.model import (
    ChannelId,
    TeamId,
)
from bridge.domain.report_tasks import StoredTask


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

    def report_task_pages(
        self, *, team_id: TeamId, channel_id: ChannelId, priority_field: str | None, size: int = 1000
    ) -> AsyncIterator[list[StoredTask]]:
        """One channel's tasks as `report_tasks` reads them, `size` at a time from one query."""
        ...
