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

import hashlib
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from bridge.domain.business_time import clock_for
from bridge.domain.model import AsanaUserGid, NagKey, SlackUserId, TaskGid, TrackedTask
from bridge.domain.policy import Policy
from bridge.domain.relay import SECTION_SINCE as SECTION_SINCE  # the snapshot key the relay keeps; read here
from bridge.domain.sla import DUE_SET_BY_BRIDGE
from bridge.domain.work import iso_day, iso_moment

SNOOZED_UNTIL = "_bridge_snoozed_until"  # snapshot key: no nags about the task before this moment (ISO, UTC)

T = TypeVar("T")
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# Where a custom field keeps its value, by type; display_value covers them all when it was asked for.
_VALUE_KEYS = ("enum_value", "multi_enum_values", "text_value", "number_value", "date_value", "people_value")


class NagKind(StrEnum):
    REMINDER = "reminder"
    TRIAGE = "triage"
    FIRST_RESPONSE = "first_response"
    MISSING_FIELDS = "missing_fields"


class Stage(StrEnum):
    UPCOMING = "upcoming"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    WAITING = "waiting"  # in the triage section
    WARN = "warn"  # of the first-response target
    MISSING = "missing"


class Role(StrEnum):
    """Whom a nag is for, which also says what kind of id `Mention.who` is."""

    ASSIGNEE = "assignee"  # an Asana user gid
    REQUESTER = "requester"  # a Slack user id
    TRIAGER = "triager"  # an email address from bridge.toml


@dataclass(frozen=True, slots=True)
class Mention:
    role: Role
    who: str


class TaskView(NamedTuple):
    """What the nag rules need of a tracked task, read from its stored snapshot (see `task_view`).

    A NamedTuple rather than a frozen dataclass: the scheduler may build ten thousand of these a tick, and a
    frozen dataclass took longer to build than the rules take to run.
    """

    gid: TaskGid
    created_at: datetime
    completed: bool = False
    due_on: date | None = None
    due_at: datetime | None = None  # a due date with a time of day; it wins over due_on
    priority: str | None = None
    section: str | None = None  # in the tracked project
    section_since: datetime | None = None  # None: since the task was created
    assignee: AsanaUserGid | None = None
    requester: SlackUserId | None = None
    first_response_at: datetime | None = None
    missing_fields: tuple[str, ...] = ()
    due_set_by_bridge: date | None = None


@dataclass(frozen=True, slots=True)
class Nag:
    """A nag to send: its key, whom to mention, and the first business moment it was due (UTC)."""

    key: NagKey
    due_at: datetime
    mention: Mention | None = None
    count: int = 1  # the how-manyth period of a repeating nag (its key counts these)
    missing: tuple[str, ...] = ()  # the fields a MISSING_FIELDS nag asks for
    shown: int = 1  # the how-manyth of its stage people see: periods slept through (a gap, a snooze) do not count
    deadline: datetime | None = None  # a reminder's due moment (a due date's start); an SLA warning's target
    since: datetime | None = None  # when a triage nag's task entered triage

    @property
    def kind(self) -> str:
        return self.key.kind

    @property
    def stage(self) -> str:
        return self.key.stage

    @property
    def period(self) -> str:
        return self.key.period


def due_nags(task: TaskView, policy: Policy, now: datetime, already_sent: Container[NagKey]) -> list[Nag]:
    """The nags due for `task` at `now` that are not in `already_sent`: at most one per kind, in a stable order."""
    rules = _rules_for(policy).at(now)
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
    rules = _rules_for(policy).at(now)
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
    clock = _rules_for(policy).clock
    return None if clock.is_open(now) else clock.next_open(now)


def next_check(
    task: TaskView,
    policy: Policy,
    now: datetime,
    already_sent: Container[NagKey],
    *,
    snoozed_until: datetime | None = None,
) -> datetime | None:
    """The first moment after `now` at which `due_nags` may find a nag it does not find at `now`; None: never,
    unless the task changes (or a nag is recorded, or the policy changes).

    What the scheduler indexes, so that a tick reads only the tasks whose moment has come. Never later than the
    real moment (a stage, period or target reached, the team's next opening, the snooze's end); it may be earlier
    (a stage whose nag was sent already): the task is then judged for nothing and given its next moment.
    A nag due at `now` and not sent is not counted here: whoever could not send it says when to try again.
    """
    if task.completed:
        return None
    rules = _rules_for(policy).at(now)
    clock = rules.clock
    moments = [m for change in rules.changes if (m := change(task, now)) is not None]
    held = snoozed_until is not None and snoozed_until > now
    # Nothing goes while the team is away or the task is snoozed: what is due stays due until then.
    if (held or not clock.is_open(now)) and any(rule(task, now, already_sent) for rule in rules.kinds):
        moments.append(now)
    if not moments:
        return None
    earliest = min(moments)
    if held:
        assert snoozed_until is not None
        earliest = max(earliest, snoozed_until)
    return clock.next_open(earliest)  # later than `now`: every change is, and `now` is added only when closed


def rules_digest(policy: Policy, priority_field: str | None) -> str:
    """A digest of what the nag rules read from a link's policy (and the priority field its tasks are read with):
    when it changes, every task's next moment must be worked out again."""
    read = (
        policy.business_hours,
        policy.sla,
        policy.triage,
        policy.reminders,
        policy.capture.acknowledge,
        priority_field,
    )
    return hashlib.sha256(_canonical(read).encode()).hexdigest()


def _canonical(value: object) -> str:
    """The same text for the same value in every process (sets and mappings in order; no hash seeds)."""
    if is_dataclass(value) and not isinstance(value, type):
        return _canonical({f.name: getattr(value, f.name) for f in fields(value)})
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in sorted(value.items(), key=str)) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return repr(value)


def task_view(
    tracked: TrackedTask, *, priority_field: str | None = None, required_fields: Sequence[str] = ()
) -> TaskView:
    """Read a TaskView from a tracked task's snapshot. Custom fields are matched by gid or by name (any case)."""
    snapshot = tracked.snapshot
    fields = _fields(snapshot)
    priority = _field(fields, priority_field) if priority_field else None
    return TaskView(
        gid=tracked.task_gid,
        created_at=iso_moment(snapshot.get("created_at")) or tracked.created_at,
        completed=tracked.completed or bool(snapshot.get("completed")),
        due_on=iso_day(snapshot.get("due_on")),
        due_at=iso_moment(snapshot.get("due_at")),
        priority=((priority or {}).get("enum_value") or {}).get("name"),
        section=_section(snapshot, tracked.project_gid),
        section_since=iso_moment(snapshot.get(SECTION_SINCE)),
        assignee=AsanaUserGid(str(assignee["gid"])) if (assignee := snapshot.get("assignee")) else None,
        requester=tracked.requester,
        first_response_at=tracked.first_response_at,
        missing_fields=tuple([name for name in required_fields if not _has_value(_field(fields, name))]),
        due_set_by_bridge=iso_day(snapshot.get(DUE_SET_BY_BRIDGE)),
    )


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


def _rules_for(policy: Policy) -> _Rules:
    found = _RULES.get(id(policy))
    if found is not None and found[0] is policy:
        return found[1]
    if len(_RULES) >= 256:
        _RULES.clear()
    rules = _Rules(policy)
    _RULES[id(policy)] = (policy, rules)
    return rules


def period_stamp(moment: datetime) -> str:
    """How a moment is written into a nag's period (a timed due date, when a task entered triage)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _fields(snapshot: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The task's custom fields by gid and by name folded to lower case."""
    found: dict[str, Mapping[str, Any]] = {}
    for field in snapshot.get("custom_fields") or []:
        if field.get("name"):
            found[str(field["name"]).strip().casefold()] = field
        if field.get("gid"):
            found[str(field["gid"])] = field
    return found


def _field(fields: Mapping[str, Mapping[str, Any]], wanted: str) -> Mapping[str, Any] | None:
    return fields.get(wanted) or fields.get(wanted.strip().casefold())


def _has_value(field: Mapping[str, Any] | None) -> bool:
    if field is None:
        return False
    if field.get("display_value"):
        return True
    for key in _VALUE_KEYS:
        value = field.get(key)
        if value or type(value) in (int, float):  # a number_value of 0 is set
            return True
    return False


def _section(snapshot: Mapping[str, Any], project_gid: str) -> str | None:
    for membership in snapshot.get("memberships") or []:
        if (membership.get("project") or {}).get("gid") == project_gid:
            name = (membership.get("section") or {}).get("name")
            return str(name) if name else None
    return None
