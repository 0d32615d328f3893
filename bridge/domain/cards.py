"""A task's card: the facts its one live Slack post shows, worked out from the tracked task's snapshot at `now`. Pure.

The card is the root of the task's thread when the bridge posted it (/task, a task made in Asana), and the bridge's
own first reply when the thread is a person's message (a capture): Slack lets an app edit only its own messages.
Where it is, is kept in the snapshot under CARD_TS (the relay carries `_bridge_` keys forward).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bridge.domain.business_time import BusinessClock, clock_for
from bridge.domain.model import AsanaUserGid, MessageTs, SlackUserId, TaskGid, TrackedTask
from bridge.domain.policy import Policy
from bridge.domain.sla import first_response_due, resolution_due, target_for
from bridge.domain.work import custom_field, iso_day, iso_moment

CARD_TS = "_bridge_card_ts"  # snapshot key: the ts of the task's card in its channel
_DAY = timedelta(days=1)
_MAX_DAYS_COUNTED = 366  # "N working days" is counted day by day; past a year the figure says enough


@dataclass(frozen=True, slots=True)
class SlaLeft:
    """What the SLA waits for next, and the working time left for it (negative once the target passed)."""

    stage: str  # "first response" or "resolution"
    priority: str
    left: timedelta


@dataclass(frozen=True, slots=True)
class CardFacts:
    gid: TaskGid
    name: str
    url: str
    completed: bool
    assignee: AsanaUserGid | None = None
    assignee_name: str | None = None
    due: str | None = None  # "due in 2 days", "3 working days overdue"
    overdue: bool = False
    priority: str | None = None
    sla: SlaLeft | None = None
    requester: SlackUserId | None = None


def card_ts(tracked: TrackedTask) -> MessageTs | None:
    """Where the task's card is; None for a task followed before cards were kept (see `services.cards`)."""
    found = tracked.snapshot.get(CARD_TS)
    return MessageTs(str(found)) if found else None


def card_facts(tracked: TrackedTask, *, policy: Policy, priority_field: str | None, now: datetime) -> CardFacts:
    snapshot = tracked.snapshot
    clock = clock_for(policy.business_hours)
    assignee = snapshot.get("assignee") or {}
    field = custom_field(snapshot, priority_field) if priority_field else None
    priority = ((field or {}).get("enum_value") or {}).get("name")
    completed = tracked.completed or bool(snapshot.get("completed"))
    due_on = iso_day(snapshot.get("due_on"))
    due_at = iso_moment(snapshot.get("due_at"))
    day = clock.local_date(due_at) if due_at else due_on
    today = clock.local_date(now)
    sla = None
    target = target_for(policy.sla, priority)
    if target is not None and not completed and priority:
        created = tracked.created_at
        if tracked.first_response_at is None and policy.capture.acknowledge:
            sla = SlaLeft("first response", priority, _left(clock, now, first_response_due(clock, created, target)))
        else:
            sla = SlaLeft("resolution", priority, _left(clock, now, resolution_due(clock, created, target)))
    return CardFacts(
        gid=tracked.task_gid,
        name=str(snapshot.get("name") or tracked.name),
        url=str(snapshot.get("permalink_url") or tracked.permalink_url),
        completed=completed,
        assignee=AsanaUserGid(str(assignee["gid"])) if assignee.get("gid") else None,
        assignee_name=str(assignee["name"]) if assignee.get("name") else None,
        due=None if day is None or completed else due_phrase(day, today, clock),
        overdue=day is not None and day < today and not completed,
        priority=str(priority) if priority else None,
        sla=sla,
        requester=tracked.requester,
    )


def _left(clock: BusinessClock, now: datetime, deadline: datetime) -> timedelta:
    return clock.elapsed(now, deadline)


def due_phrase(day: date, today: date, clock: BusinessClock) -> str:
    """A due date relative to today: "due today", "due tomorrow", "due in 4 days", "due yesterday",
    "3 working days overdue". A small helper, meant to give way to the team's shared time formatter."""
    if day == today:
        return "due today"
    if day == today + _DAY:
        return "due tomorrow"
    if day > today:
        return f"due in {(day - today).days} days"
    late = working_days_between(day, today, clock)
    if late == 0:
        return "overdue (since the last working day)"
    return f"{late} working day{'' if late == 1 else 's'} overdue"


def working_days_between(start: date, end: date, clock: BusinessClock) -> int:
    """The working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    count = 0
    day = start + _DAY
    for _ in range(min((end - start).days, _MAX_DAYS_COUNTED)):
        if clock.elapsed(clock.day_start(day), clock.day_start(day + _DAY)) > timedelta(0):
            count += 1
        day += _DAY
    return count


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment told relative to now, in the team's calendar: "by 15:00 today", "passed 2 working days ago"."""

    local: datetime  # on the team's wall clock
    today: bool
    left: timedelta  # working time until it; negative once passed
    days_late: int  # working days since it passed (0 while it has not, or it passed today)


def deadline_of(moment: datetime, now: datetime, clock: BusinessClock) -> Deadline:
    day, today = clock.local_date(moment), clock.local_date(now)
    return Deadline(
        local=clock.to_local(moment),
        today=day == today,
        left=clock.elapsed(now, moment),
        days_late=working_days_between(day, today, clock) if day < today else 0,
    )
