"""The report's open items: each open task judged against its SLA targets at a moment, and their order. Pure.

The rules are those of bridge/domain/report.py's docstring (status, time left, urgency); the App Home lists one
person's open items this way too, without the rest of the report.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from bridge.domain.business_time import BusinessClock, clock_for
from bridge.domain.model import ProjectGid, TaskGid
from bridge.domain.policy import Policy
from bridge.domain.report_tasks import ReportTask
from bridge.domain.sla import target_for

ZERO = timedelta(0)
PolicyOf = Callable[[ProjectGid], Policy]


class Status(StrEnum):
    BREACHED = "breached"
    AT_RISK = "at_risk"
    ON_TRACK = "on_track"
    NO_SLA = "no_sla"


class OpenItem(NamedTuple):
    """An open task as the report shows it (a NamedTuple: ten thousand are made per report)."""

    gid: TaskGid
    name: str
    link: str
    permalink_url: str
    priority: str | None
    assignee: str | None
    created_at: datetime
    age: timedelta  # wall-clock time since the request arrived
    first_response_left: timedelta | None  # business time; None: not pending (answered, or no target)
    resolution_left: timedelta | None
    status: Status
    due_on: date | None
    pushes: int
    left: timedelta | None  # the least business time left to a pending target


def open_items(tasks: Iterable[ReportTask], *, policy_of: PolicyOf, now: datetime) -> list[OpenItem]:
    """The open ones among `tasks`, judged at `now` as the report judges them, in the order given (the App Home
    lists one person's tasks this way, without the rest of the report)."""
    judges: dict[ProjectGid, Judge] = {}
    items = []
    for task in tasks:
        if task.completed:
            continue
        judge = judges.get(task.project_gid)
        if judge is None:
            judge = judges[task.project_gid] = Judge(policy_of(task.project_gid))
        targets = judge.targets(task.priority)
        used = judge.clock.elapsed(task.created_at, now) if targets is not None else ZERO
        items.append(judge.open_item(task, targets, used, now))
    return items


class Targets(NamedTuple):
    priority: str  # as the policy names it ("P1")
    first_response: timedelta  # business time
    resolution: timedelta


class Judge:
    """One policy's clock and targets, worked out once per project rather than once per task."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.clock: BusinessClock = clock_for(policy.business_hours)
        self.warn_at = policy.sla.warn_at
        self._targets: dict[str | None, Targets | None] = {None: None}

    def targets(self, priority: str | None) -> Targets | None:
        if priority not in self._targets:
            target = target_for(self.policy.sla, priority)
            self._targets[priority] = (
                None
                if target is None or priority is None
                else Targets(
                    priority.strip().upper(), self.clock.span(target.first_response), self.clock.span(target.resolution)
                )
            )
        return self._targets[priority]

    def open_item(self, task: ReportTask, targets: Targets | None, used: timedelta, now: datetime) -> OpenItem:
        """An open task at `now`, `used` business time after it arrived."""
        respond_left = resolve_left = None
        status = Status.NO_SLA
        if targets is not None:
            status = Status.ON_TRACK
            pending = [targets.resolution]
            resolve_left = targets.resolution - used
            if task.tracks_response and task.first_response_at is None:
                respond_left = targets.first_response - used
                pending.append(targets.first_response)
            for span in pending:
                if used > span:
                    status = Status.BREACHED
                    break
                if used >= span * self.warn_at:
                    status = Status.AT_RISK
        return OpenItem(  # positionally: as many as there are open tasks are made per report
            task.gid,
            task.name,
            task.link,
            task.permalink_url,
            targets.priority if targets is not None else task.priority,
            task.assignee,
            task.created_at,
            now - task.created_at,
            respond_left,
            resolve_left,
            status,
            task.due_on,
            task.pushes,
            resolve_left if respond_left is None else min(respond_left, resolve_left or respond_left),
        )


_FAR = timedelta.max


_RUN = 4096  # items sorted in one go: a few milliseconds


def sorted_in_runs(items: list[OpenItem], key: Callable[[OpenItem], Any]) -> list[OpenItem]:
    """`sorted(items, key=key)`, in runs merged in Python: one sort of 100,000 items holds the GIL for its whole
    length (over 100 ms, the loop's worst delay while a report was built in a thread); between runs and merge steps
    the thread lets the event loop in. The same order: keys are unique, and the merge keeps ties in run order."""
    if len(items) <= _RUN:
        return sorted(items, key=key)
    runs = [sorted(items[start : start + _RUN], key=key) for start in range(0, len(items), _RUN)]
    return list(heapq.merge(*runs, key=key))


def urgency(item: OpenItem) -> tuple[timedelta, datetime, str]:
    return (_FAR if item.left is None else item.left, item.created_at, item.gid)
