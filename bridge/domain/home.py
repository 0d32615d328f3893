"""What a person's App Home lists: their open tasks, grouped by what needs them first. Pure.

The tasks are judged as the SLA report judges them (`report.open_items`); this module only orders and groups:
- "SLAs at risk": breached or at risk (`report.Status`), breached first;
- "Due soon": the rest that are overdue or due today or tomorrow (on the team's calendar);
- "Other open tasks": everything else.
Each group is ordered by status (breached, at risk, on track, no SLA), then due date (none last), then the least
time left, then age. A Home holds at most 100 blocks, so only the first `limit` tasks are listed and the rest
counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bridge.domain.report import OpenItem, Status

SOON = timedelta(days=1)  # due tomorrow or earlier
_RANK = {Status.BREACHED: 0, Status.AT_RISK: 1, Status.ON_TRACK: 2, Status.NO_SLA: 3}


class Group(StrEnum):
    AT_RISK = "at_risk"
    DUE_SOON = "due_soon"
    OTHER = "other"


@dataclass(frozen=True)
class HomeList:
    today: date  # the team's calendar day it was grouped on
    groups: tuple[tuple[Group, tuple[OpenItem, ...]], ...]  # the groups that list something, in Group's order
    counts: Mapping[Group, int]  # open tasks in each group, listed or not
    more: int  # left out to stay within the limit
    workday: timedelta | None = None  # the team's working day, to tell SLA time in working days

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def group_of(item: OpenItem, today: date) -> Group:
    if item.status in (Status.BREACHED, Status.AT_RISK):
        return Group.AT_RISK
    if item.due_on is not None and item.due_on <= today + SOON:
        return Group.DUE_SOON
    return Group.OTHER


def urgency(item: OpenItem) -> tuple[int, date, timedelta, datetime, str]:
    return (
        _RANK[item.status],
        item.due_on or date.max,
        timedelta.max if item.left is None else item.left,
        item.created_at,
        item.gid,
    )


def home_list(items: Iterable[OpenItem], *, today: date, limit: int, workday: timedelta | None = None) -> HomeList:
    """`items` grouped and ordered, the first `limit` of them kept (in the order they are shown)."""
    grouped: dict[Group, list[OpenItem]] = {group: [] for group in Group}
    for item in items:
        grouped[group_of(item, today)].append(item)
    kept: list[tuple[Group, tuple[OpenItem, ...]]] = []
    room = limit
    for group in Group:
        shown = sorted(grouped[group], key=urgency)[: max(room, 0)]
        room -= len(shown)
        if shown:
            kept.append((group, tuple(shown)))
    counts = {group: len(listed) for group, listed in grouped.items()}
    more = sum(counts.values()) - (limit - room)
    return HomeList(today=today, groups=tuple(kept), counts=counts, more=more, workday=workday)
