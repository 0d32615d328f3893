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

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bridge.domain.business_time import clock_for
from bridge.domain.model import ProjectGid, TaskGid
from bridge.domain.policy import Policy
from bridge.domain.report_items import ZERO, Judge, PolicyOf, sorted_in_runs, urgency
from bridge.domain.report_items import OpenItem as OpenItem  # where the report's readers have always found them
from bridge.domain.report_items import Status as Status
from bridge.domain.report_items import open_items as open_items
from bridge.domain.report_tasks import ReportTask
from bridge.domain.suggest import DeflectionSummary

ALL = "all"  # the scope of the combined report: every link
UNASSIGNED = "Unassigned"


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
        # Counted, not len(open_items): a report may keep only its most urgent items (the page's).
        return sum(self.counts.values())

    @property
    def this_week(self) -> Week | None:
        return self.weeks[-1] if self.weeks else None


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
    judges: dict[ProjectGid, Judge] = {}
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
    judge: Judge | None = None
    for task in tasks:
        count += 1
        if task.project_gid != project or judge is None:  # tasks come by link, so mostly the same project
            project = task.project_gid
            judge = judges.get(project)
            if judge is None:
                judge = judges[project] = Judge(policy_of(project))
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
        open_items.append(judge.open_item(task, targets, used if targets is not None else ZERO, now))
    open_items = sorted_in_runs(open_items, urgency)
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


def distribution(values: Sequence[timedelta]) -> Distribution:
    """Count, median and nearest-rank p90 of some durations."""
    if not values:
        return Distribution()
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return Distribution(len(ordered), median, ordered[math.ceil(0.9 * len(ordered)) - 1])


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
