"""The words of nags: their kinds, stages and roles, the nag itself, and the view of a tracked task the rules read
(`task_view`, from its stored snapshot). The rules are in nag_rules, the next moments in nag_moments. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from bridge.domain.model import AsanaUserGid, NagKey, SlackUserId, TaskGid, TrackedTask
from bridge.domain.relay import SECTION_SINCE as SECTION_SINCE  # the snapshot key the relay keeps; read here
from bridge.domain.sla import DUE_SET_BY_BRIDGE
from bridge.domain.work import iso_day, iso_moment

SNOOZED_UNTIL = "_bridge_snoozed_until"  # snapshot key: no nags about the task before this moment (ISO, UTC)

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
