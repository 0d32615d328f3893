"""Which nags are due for a tracked task: reminders, triage, the first-response warning and missing fields. Pure.

Every nag has a key (task, kind, stage, period), so a store keyed by it sends each one once, across restarts and
replicas. What a period is, per kind:
- reminder: `upcoming` (within `reminders.lead` of the due date) and `due_today` once per due date (period =
  the due date), `overdue` every `reminders.overdue_repeat` of business time after the deadline (period =
  "<due>#<n>"); a new due date starts over;
- triage: every `triage.repeat` after `triage.grace` in the triage section (period = "<entered>#<n>", so a
  task that comes back to triage starts over);
- first_response: once per task, at `sla.warn_at` of its priority's first-response target (period = "");
- missing_fields: every `reminders.overdue_repeat` after the task was created (period = "<n>").
Durations count business time (`BusinessClock.span`). Only the current stage and period of each kind is due:
after a gap (a restart, a weekend) a task gets where it stands, not every step it missed. Nothing is due for a
completed task, nor outside business hours: `quiet_until` says when nags may go again.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TypeVar

from bridge.domain.business_time import clock_for
from bridge.domain.model import NagKey
from bridge.domain.nags import Mention, Nag, NagKind, Role, Stage, TaskView, period_stamp
from bridge.domain.policy import Policy

T = TypeVar("T")
_DAY = timedelta(days=1)
_ZERO = timedelta(0)


def due_nags(task: TaskView, policy: Policy, now: datetime, already_sent: Container[NagKey]) -> list[Nag]:
    """The nags due for `task` at `now` that are not in `already_sent`: at most one per kind, in a stable order."""
    rules = rules_for(policy).at(now)
    if task.completed or not rules.clock.is_open(now):
        return []
    due = []
    for rule in rules.kinds:
        nag = rule(task, now, already_sent)
        if nag is not None:
            due.append(nag)
    return due


def due_for_all(
    tasks: Iterable[T], view_of: Callable[[T], TaskView], policy: Policy, now: datetime, already_sent: Container[NagKey]
) -> Iterator[tuple[T, TaskView, Nag]]:
    """`due_nags` over many tasks of one policy, with the per-moment work done once rather than once per task."""
    rules = rules_for(policy).at(now)
    if not rules.clock.is_open(now):
        return
    kinds = rules.kinds
    for item in tasks:
        task = view_of(item)
        if task.completed:
            continue
        for rule in kinds:
            nag = rule(task, now, already_sent)
            if nag is not None:
                yield item, task, nag


def quiet_until(policy: Policy, now: datetime) -> datetime | None:
    """None when nags may go now; otherwise the next business moment, before which none will be due."""
    clock = rules_for(policy).clock
    return None if clock.is_open(now) else clock.next_open(now)


_Rule = Callable[[TaskView, datetime, Container[NagKey]], Nag | None]
_Change = Callable[[TaskView, datetime], datetime | None]  # when a rule's key next changes after a moment


class _Rules:
    """One policy's rules with its durations turned into business time once, not once per task."""

    def __init__(self, policy: Policy) -> None:
        self.clock = clock = clock_for(policy.business_hours)
        self.lead = clock.span(policy.reminders.lead)
        self.cadence = clock.span(policy.reminders.overdue_repeat)
        self.grace = clock.span(policy.triage.grace)
        self.triage_every = clock.span(policy.triage.repeat)
        self.triage_section = policy.triage.section.strip().casefold()
        self.triager = Mention(Role.TRIAGER, policy.triage.triager) if policy.triage.triager else None
        # No acknowledgement subtask, no first response recorded: a warning would fire on every task.
        self.first_response_after = {p: clock.span(t.first_response) for p, t in policy.sla.targets.items()}
        self.warn_after = (
            {p: after * policy.sla.warn_at for p, after in self.first_response_after.items()}
            if policy.capture.acknowledge
            else {}
        )
        # Answers by the names as Asana spells them, worked out once per name rather than once per task.
        self._triage_names: dict[str, bool] = {}
        self._warn_names: dict[str, timedelta | None] = {}
        self.kinds: tuple[_Rule, ...] = (self.reminder, self.triage, self.first_response, self.missing_fields)
        self.changes: tuple[_Change, ...] = (
            self.reminder_changes,
            self.triage_changes,
            self.first_response_changes,
            self.missing_fields_changes,
        )
        # Business time between the same two moments, asked again and again in one tick (tasks share due dates,
        # and two rules measure from a task's creation): worked out once per pair.
        self._elapsed: dict[tuple[datetime, datetime], timedelta] = {}

        self._moment: datetime | None = None

    def at(self, now: datetime) -> _Rules:
        """Judge at `now`: pairs measured at another moment will not be asked again."""
        if now != self._moment:
            self._moment = now
            self._elapsed.clear()
        return self

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        pair = (start, end)
        found = self._elapsed.get(pair)
        if found is None:
            found = self._elapsed[pair] = self.clock.elapsed(start, end)
        return found

    def reminder(self, task: TaskView, now: datetime, sent: Container[NagKey]) -> Nag | None:
        clock = self.clock
        if task.due_at is not None:
            due = deadline = task.due_at
            day, label = clock.local_date(due), period_stamp(due)
        elif task.due_on is not None:
            day, label = task.due_on, task.due_on.isoformat()
            due, deadline = clock.day_start(day), clock.day_start(day + _DAY)
        else:
            return None
        count = 1
        if now >= deadline:
            count = self.elapsed(deadline, now) // self.cadence + 1
            key = NagKey(task.gid, NagKind.REMINDER, Stage.OVERDUE, f"{label}#{count}")
        elif now >= clock.day_start(day):
            key = NagKey(task.gid, NagKind.REMINDER, Stage.DUE_TODAY, label)
        elif self.elapsed(now, due) <= self.lead:
            key = NagKey(task.gid, NagKind.REMINDER, Stage.UPCOMING, label)
        else:
            return None
        if key in sent:
            return None
        if key.stage == Stage.OVERDUE:
            start = clock.add(deadline, self.cadence * (count - 1))
        elif key.stage == Stage.DUE_TODAY:
            start = clock.day_start(day)
        else:
            start = clock.add(due, -self.lead)
        mention = Mention(Role.ASSIGNEE, task.assignee) if task.assignee else None
        shown = _seen(sent, key, count, lambda n: f"{label}#{n}") + 1 if key.stage == Stage.OVERDUE else 1
        return Nag(key, clock.next_open(start), mention, count, shown=shown, deadline=due)

    def triage(self, task: TaskView, now: datetime, sent: Container[NagKey]) -> Nag | None:
        if task.section is None or not self._is_triage(task.section):
            return None
        clock = self.clock
        since = task.section_since or task.created_at
        waited = self.elapsed(since, now) - self.grace
        if waited < _ZERO:
            return None
        count = waited // self.triage_every + 1
        key = NagKey(task.gid, NagKind.TRIAGE, Stage.WAITING, f"{period_stamp(since)}#{count}")
        if key in sent:
            return None
        start = clock.add(since, self.grace + self.triage_every * (count - 1))
        shown = _seen(sent, key, count, lambda n: f"{period_stamp(since)}#{n}") + 1
        return Nag(key, clock.next_open(start), self.triager, count, shown=shown, since=since)

    def first_response(self, task: TaskView, now: datetime, sent: Container[NagKey]) -> Nag | None:
        if task.first_response_at is not None or task.priority is None:
            return None
        after = self._warn_after(task.priority)
        clock = self.clock
        if after is None or self.elapsed(task.created_at, now) < after:
            return None
        key = NagKey(task.gid, NagKind.FIRST_RESPONSE, Stage.WARN, "")
        if key in sent:
            return None
        mention = Mention(Role.ASSIGNEE, task.assignee) if task.assignee else self.triager
        target = clock.add(task.created_at, self.first_response_after[task.priority.strip().upper()])
        return Nag(key, clock.next_open(clock.add(task.created_at, after)), mention, deadline=target)

    def missing_fields(self, task: TaskView, now: datetime, sent: Container[NagKey]) -> Nag | None:
        if not task.missing_fields:
            return None
        clock = self.clock
        count = self.elapsed(task.created_at, now) // self.cadence
        if count < 1:
            return None
        key = NagKey(task.gid, NagKind.MISSING_FIELDS, Stage.MISSING, str(count))
        if key in sent:
            return None
        if task.assignee:
            mention: Mention | None = Mention(Role.ASSIGNEE, task.assignee)
        else:
            mention = Mention(Role.REQUESTER, task.requester) if task.requester else None
        start = clock.add(task.created_at, self.cadence * count)
        shown = _seen(sent, key, count, str) + 1
        return Nag(key, clock.next_open(start), mention, count, task.missing_fields, shown=shown)

    # When each rule's key next changes after `now` (the boundaries of the stages and periods above).

    def reminder_changes(self, task: TaskView, now: datetime) -> datetime | None:
        clock = self.clock
        if task.due_at is not None:
            due = deadline = task.due_at
            day = clock.local_date(due)
        elif task.due_on is not None:
            day = task.due_on
            due, deadline = clock.day_start(day), clock.day_start(day + _DAY)
        else:
            return None
        if now >= deadline:
            count = self.elapsed(deadline, now) // self.cadence + 1
            return clock.add(deadline, self.cadence * count)
        today = clock.day_start(day)
        if now >= today:
            return deadline
        upcoming = clock.add(due, -self.lead)
        return upcoming if now < upcoming < today else today

    def triage_changes(self, task: TaskView, now: datetime) -> datetime | None:
        if task.section is None or not self._is_triage(task.section):
            return None
        since = task.section_since or task.created_at
        waited = self.elapsed(since, now) - self.grace
        if waited < _ZERO:
            return self.clock.add(since, self.grace)
        return self.clock.add(since, self.grace + self.triage_every * (waited // self.triage_every + 1))

    def first_response_changes(self, task: TaskView, now: datetime) -> datetime | None:
        if task.first_response_at is not None or task.priority is None:
            return None
        after = self._warn_after(task.priority)
        if after is None:
            return None
        at = self.clock.add(task.created_at, after)
        return at if at > now else None

    def missing_fields_changes(self, task: TaskView, now: datetime) -> datetime | None:
        if not task.missing_fields:
            return None
        count = self.elapsed(task.created_at, now) // self.cadence
        return self.clock.add(task.created_at, self.cadence * (count + 1))

    def _is_triage(self, section: str) -> bool:
        found = self._triage_names.get(section)
        if found is None:
            found = self._triage_names[section] = section.strip().casefold() == self.triage_section
        return found

    def _warn_after(self, priority: str) -> timedelta | None:
        if priority not in self._warn_names:
            self._warn_names[priority] = self.warn_after.get(priority.strip().upper())
        return self._warn_names[priority]


_SEEN_LOOKBACK = 64  # how many earlier periods of a repeating nag are looked up to number the next one


def _seen(sent: Container[NagKey], key: NagKey, count: int, period: Callable[[int], str]) -> int:
    """How many earlier periods of this nag's stage were sent: the next one people see is that plus one."""
    first = max(1, count - _SEEN_LOOKBACK)
    return sum(NagKey(key.task_gid, key.kind, key.stage, period(n)) in sent for n in range(first, count))


# Policies are few (one per linked project) and unhashable; remember each one's rules by identity. Holding the
# policy keeps its id from being reused by another object.
_RULES: dict[int, tuple[Policy, _Rules]] = {}


def rules_for(policy: Policy) -> _Rules:
    found = _RULES.get(id(policy))
    if found is not None and found[0] is policy:
        return found[1]
    if len(_RULES) >= 256:
        _RULES.clear()
    rules = _Rules(policy)
    _RULES[id(policy)] = (policy, rules)
    return rules
