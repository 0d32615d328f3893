"""The SLA report: what is open and how close it is to breaching, and how the team did week by week. Pure.

Every figure is read from what the bridge already stores about a tracked task (its snapshot and the first
response it recorded); nothing is asked of Asana. The rules, so that a number on the page can be checked by hand:
- Times are business time under the task's project policy (`BusinessClock`), ages are wall-clock time.
- An open item's SLA targets are those of its current priority. A target counts while it is pending: first
  response until someone responded (only on tasks that track it, i.e. have an "Acknowledge" subtask),
  resolution until the task is completed. `..._left` is the target minus the business time used so far
  (negative: past it). A deadline is judged in business time taken, so one that falls at 17:00 is still met
  by an answer at 18:00 the same day: no working time passed in between.
- Status: breached when a pending target is exceeded; at risk when `sla.warn_at` of a pending target's business
  time is used up; on track otherwise; no SLA when the priority has no target.
- Open items are sorted by urgency: the least time left to any pending target first; items without a target
  last, oldest first.
- Weeks are ISO weeks on the team's calendar (the default policy's timezone), the last `weeks` up to `now`'s.
  A first response counts in the week it was given, a resolution in the week the task was completed. Median
  is the middle value (the mean of the two middle ones for an even count); p90 is the nearest rank,
  the ⌈0.9·n⌉-th smallest.
- Hit rate per priority, over all stored history: a first response is a hit when given by its deadline, a miss
  when given later or still missing after it; resolution likewise with completion. Undecided ones do not count.
- Push-backs: how many times a task's due date was moved later (the relay counts them in the snapshot).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from bridge.domain.business_time import BusinessClock, clock_for
from bridge.domain.model import ProjectGid, TaskGid
from bridge.domain.policy import Policy
from bridge.domain.report_tasks import ReportTask
from bridge.domain.sla import target_for
from bridge.domain.suggest import DeflectionSummary

ALL = "all"  # the scope of the combined report: every link
UNASSIGNED = "Unassigned"
_ZERO = timedelta(0)


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


@dataclass(frozen=True, slots=True)
class Distribution:
    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Week:
    label: str  # ISO week, "2026-W49"
    start: date  # its Monday
    first_response: Distribution
    resolution: Distribution


@dataclass(frozen=True, slots=True)
class HitRate:
    priority: str
    first_response_hits: int = 0
    first_response_misses: int = 0
    resolution_hits: int = 0
    resolution_misses: int = 0

    @property
    def first_response(self) -> float | None:
        return _rate(self.first_response_hits, self.first_response_misses)

    @property
    def resolution(self) -> float | None:
        return _rate(self.resolution_hits, self.resolution_misses)


@dataclass(frozen=True, slots=True)
class PushedTask:
    gid: TaskGid
    name: str
    link: str
    pushes: int


@dataclass(frozen=True, slots=True)
class PushBacks:
    total: int  # due-date push-backs over all tasks
    tasks: int  # tasks in the report
    pushed_tasks: int  # tasks pushed at least once
    most: tuple[PushedTask, ...]  # the most pushed, most first

    @property
    def average(self) -> float:
        return self.total / self.tasks if self.tasks else 0.0


@dataclass(frozen=True)
class Report:
    scope: str  # ALL or a link id
    generated_at: datetime
    timezone: str  # the team's: weeks are counted, and moments shown, on its wall clock
    open_items: tuple[OpenItem, ...]
    counts: Mapping[Status, int]
    weeks: tuple[Week, ...]
    hit_rates: tuple[HitRate, ...]
    open_per_person: tuple[tuple[str, int], ...]  # most loaded first
    pushes: PushBacks
    deflections: DeflectionSummary | None = None  # questions answered by earlier ones (issue 22), when known

    @property
    def open(self) -> int:
        return len(self.open_items)

    @property
    def this_week(self) -> Week | None:
        return self.weeks[-1] if self.weeks else None


PolicyOf = Callable[[ProjectGid], Policy]


def build_report(
    tasks: Iterable[ReportTask],
    *,
    policy_of: PolicyOf,
    now: datetime,
    scope: str = ALL,
    calendar: Policy | None = None,
    weeks: int = 8,
    most_pushed: int = 10,
) -> Report:
    """The report over `tasks` at `now`, in one pass. `calendar` names the timezone weeks are counted in."""
    judges: dict[ProjectGid, _Judge] = {}
    week_clock = clock_for((calendar or Policy()).business_hours)
    this_monday = _monday(week_clock.local_date(now))
    mondays = [this_monday - timedelta(weeks=n) for n in reversed(range(weeks))]
    starts = [week_clock.day_start(monday) for monday in mondays]  # each week's first instant, DST and all
    first_start = starts[0]
    responses: list[list[timedelta]] = [[] for _ in mondays]
    resolutions: list[list[timedelta]] = [[] for _ in mondays]
    hits: dict[str, list[int]] = {}
    people: dict[str, int] = {}
    open_items: list[OpenItem] = []
    pushed: list[PushedTask] = []
    total_pushes = count = 0
    project: ProjectGid | None = None
    judge: _Judge | None = None
    for task in tasks:
        count += 1
        if task.project_gid != project or judge is None:  # tasks come by link, so mostly the same project
            project = task.project_gid
            judge = judges.get(project)
            if judge is None:
                judge = judges[project] = _Judge(policy_of(project))
        if task.pushes:
            total_pushes += task.pushes
            pushed.append(PushedTask(task.gid, task.name, task.link, task.pushes))
        created, responded = task.created_at, task.first_response_at
        completed_at = task.completed_at if task.completed else None
        clock = judge.clock
        response_time = resolution_time = None
        if responded is not None:
            response_time = clock.elapsed(created, responded)
            if responded >= first_start:
                responses[bisect_right(starts, responded) - 1].append(response_time)
        if completed_at is not None:
            resolution_time = clock.elapsed(created, completed_at)
            if completed_at >= first_start:
                resolutions[bisect_right(starts, completed_at) - 1].append(resolution_time)
        targets = judge.targets(task.priority)
        if targets is not None:
            # Judged in business time taken: a deadline that falls in closed hours is met until work resumes.
            used = clock.elapsed(created, now)
            tally = hits.get(targets.priority)
            if tally is None:
                tally = hits[targets.priority] = [0, 0, 0, 0]
            if task.tracks_response:
                if response_time is not None:
                    tally[0 if response_time <= targets.first_response else 1] += 1
                elif used > targets.first_response:
                    tally[1] += 1
            if resolution_time is not None:
                tally[2 if resolution_time <= targets.resolution else 3] += 1
            elif not task.completed and used > targets.resolution:
                tally[3] += 1
        if task.completed:
            continue
        person = task.assignee or UNASSIGNED
        people[person] = people.get(person, 0) + 1
        open_items.append(judge.open_item(task, targets, used if targets is not None else _ZERO, now))
    open_items = _sorted_in_runs(open_items, _urgency)
    counts = dict.fromkeys(Status, 0)
    for item in open_items:
        counts[item.status] += 1
    pushed.sort(key=lambda p: (-p.pushes, p.name, p.gid))
    return Report(
        scope=scope,
        generated_at=now,
        timezone=week_clock.hours.timezone,
        open_items=tuple(open_items),
        counts=counts,
        weeks=tuple(
            Week(
                label=f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}",
                start=monday,
                first_response=distribution(responses[n]),
                resolution=distribution(resolutions[n]),
            )
            for n, monday in enumerate(mondays)
        ),
        hit_rates=tuple(HitRate(priority, *tally) for priority, tally in sorted(hits.items())),
        open_per_person=tuple(sorted(people.items(), key=lambda kv: (-kv[1], kv[0] == UNASSIGNED, kv[0]))),
        pushes=PushBacks(total_pushes, count, len(pushed), tuple(pushed[:most_pushed])),
    )


def open_items(tasks: Iterable[ReportTask], *, policy_of: PolicyOf, now: datetime) -> list[OpenItem]:
    """The open ones among `tasks`, judged at `now` as the report judges them, in the order given (the App Home
    lists one person's tasks this way, without the rest of the report)."""
    judges: dict[ProjectGid, _Judge] = {}
    items = []
    for task in tasks:
        if task.completed:
            continue
        judge = judges.get(task.project_gid)
        if judge is None:
            judge = judges[task.project_gid] = _Judge(policy_of(task.project_gid))
        targets = judge.targets(task.priority)
        used = judge.clock.elapsed(task.created_at, now) if targets is not None else _ZERO
        items.append(judge.open_item(task, targets, used, now))
    return items


def distribution(values: Sequence[timedelta]) -> Distribution:
    """Count, median and nearest-rank p90 of some durations."""
    if not values:
        return Distribution()
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return Distribution(len(ordered), median, ordered[math.ceil(0.9 * len(ordered)) - 1])


class _Targets(NamedTuple):
    priority: str  # as the policy names it ("P1")
    first_response: timedelta  # business time
    resolution: timedelta


class _Judge:
    """One policy's clock and targets, worked out once per project rather than once per task."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.clock: BusinessClock = clock_for(policy.business_hours)
        self.warn_at = policy.sla.warn_at
        self._targets: dict[str | None, _Targets | None] = {None: None}

    def targets(self, priority: str | None) -> _Targets | None:
        if priority not in self._targets:
            target = target_for(self.policy.sla, priority)
            self._targets[priority] = (
                None
                if target is None or priority is None
                else _Targets(
                    priority.strip().upper(), self.clock.span(target.first_response), self.clock.span(target.resolution)
                )
            )
        return self._targets[priority]

    def open_item(self, task: ReportTask, targets: _Targets | None, used: timedelta, now: datetime) -> OpenItem:
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


def _sorted_in_runs(items: list[OpenItem], key: Callable[[OpenItem], Any]) -> list[OpenItem]:
    """`sorted(items, key=key)`, in runs merged in Python: one sort of 100,000 items holds the GIL for its whole
    length (over 100 ms, the loop's worst delay while a report was built in a thread); between runs and merge steps
    the thread lets the event loop in. The same order: keys are unique, and the merge keeps ties in run order."""
    if len(items) <= _RUN:
        return sorted(items, key=key)
    runs = [sorted(items[start : start + _RUN], key=key) for start in range(0, len(items), _RUN)]
    return list(heapq.merge(*runs, key=key))


def _urgency(item: OpenItem) -> tuple[timedelta, datetime, str]:
    return (_FAR if item.left is None else item.left, item.created_at, item.gid)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _rate(hits: int, misses: int) -> float | None:
    return hits / (hits + misses) if hits + misses else None


def typical_first_response(report: Report) -> timedelta | None:
    """What a question usually waits for a first response: the median of the weeks' medians (weeks with one)."""
    medians = sorted(w.first_response.median for w in report.weeks if w.first_response.median is not None)
    if not medians:
        return None
    middle = len(medians) // 2
    return medians[middle] if len(medians) % 2 else (medians[middle - 1] + medians[middle]) / 2
