"""The team's policy from bridge.toml: business hours, SLA, triage, reminders, capture and routing.

Read from its tables by policy_parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time

from bridge.domain.durations import Span
from bridge.domain.model import CaptureMode

# The kinds of change the relay can tell in a task's thread (`[relay] kinds`, `/asana relay`).
RELAY_KINDS = (
    "completed",
    "assigned",
    "due",
    "priority",
    "section",
    "renamed",
    "comments",
    "deleted",
    "new_tasks",
    "subtasks",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("P0", "P1", "P2", "P3")


# Defaults of the business durations (immutable, so shared).
_HOURS_4 = Span.of(hours=4)
_DAYS_2 = Span(days=2)
_DAYS_1 = Span(days=1)
_DAYS_3 = Span(days=3)


class PolicyError(ValueError):
    """A bridge.toml key is missing or malformed; the message names the key and what is expected."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"{key}: {expected}")
        self.key = key


@dataclass(frozen=True)
class BusinessHours:
    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0, as datetime.weekday()
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: frozenset[date] = frozenset()  # the company's own days off (`holidays = [...]`)
    holiday_calendar: str | None = None  # a public calendar like "US-NY", whose days are `calendar_days`
    calendar_days: frozenset[date] = frozenset()

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or day in self.calendar_days


@dataclass(frozen=True)
class SlaTarget:
    first_response: Span
    resolution: Span


@dataclass(frozen=True)
class Sla:
    targets: Mapping[str, SlaTarget] = field(default_factory=dict)
    warn_at: float = 0.75


@dataclass(frozen=True)
class Triage:
    section: str = "Needs triage"
    grace: Span = _HOURS_4  # zero: nag at once
    repeat: Span = _DAYS_2
    triager: str | None = None
    priority_field: str = "Priority"


@dataclass(frozen=True)
class Reminders:
    lead: Span = _DAYS_1  # zero: remind on the deadline itself
    overdue_repeat: Span = _DAYS_1
    dm_assignee: bool = False
    required_fields: tuple[str, ...] = ()  # custom field names every task must have set ("before work begins")


@dataclass(frozen=True)
class CapturePolicy:
    mode: CaptureMode = CaptureMode.OFF
    reaction: str = "ticket"
    combined_projects: tuple[str, ...] = ()
    acknowledge: bool = True


@dataclass(frozen=True)
class PoolMember:
    email: str
    skills: tuple[str, ...] = ()
    capacity: int = 5
    hours: tuple[time, time] | None = None  # their own working hours, in their own timezone; None: business hours


WAIT_FOR = ("completion", "acknowledgement")


@dataclass(frozen=True)
class Routing:
    reassign_after: Span = _DAYS_3
    pool: tuple[PoolMember, ...] = ()
    wait_for: str = "completion"  # what an assignee must do within reassign_after to keep a routed task
    short_sla: Span = _HOURS_4  # a first-response target this short skips people outside their hours
    followers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # keyword or phrase -> emails to follow


@dataclass(frozen=True)
class RelayPolicy:
    kinds: frozenset[str] | None = None  # None: every kind
    quiet: bool = False


@dataclass(frozen=True)
class IdentityPolicy:
    require_connected: bool = False  # true: people must connect Asana before acting from Slack


@dataclass(frozen=True)
class SuggestPolicy:
    enabled: bool = True
    min_score: float | None = None  # None: the engine's own threshold (bridge.example.toml says which)
    max_results: int = 3


@dataclass(frozen=True)
class Policy:
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    sla: Sla = field(default_factory=Sla)
    triage: Triage = field(default_factory=Triage)
    reminders: Reminders = field(default_factory=Reminders)
    capture: CapturePolicy = field(default_factory=CapturePolicy)
    routing: Routing = field(default_factory=Routing)
    relay: RelayPolicy = field(default_factory=RelayPolicy)
    identity: IdentityPolicy = field(default_factory=IdentityPolicy)
    suggest: SuggestPolicy = field(default_factory=SuggestPolicy)
    projects: Mapping[str, Policy] = field(default_factory=dict)

    def for_project(self, project_gid: str) -> Policy:
        """The policy with the `[projects."<gid>"]` overrides applied."""
        return self.projects.get(project_gid, self)
