"""The team's policy from bridge.toml: business hours, SLA, triage, reminders, capture and routing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.domain.durations import Span, parse_duration
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


_SECTIONS = (
    "business_hours",
    "sla",
    "triage",
    "reminders",
    "capture",
    "routing",
    "relay",
    "identity",
    "suggest",
    "projects",
)


# A public holiday calendar's days from its code ("US-NY"); raises ValueError for a code it does not know.
Calendars = Callable[[str], frozenset[date]]


def _no_calendars(code: str) -> frozenset[date]:
    raise ValueError("no holiday calendars are available here")


def parse_policy(data: Mapping[str, Any], *, calendars: Calendars = _no_calendars) -> Policy:
    """Build the policy from parsed TOML; raise PolicyError naming the first bad key.

    `calendars` looks up `holiday_calendar` codes (the `holidays` package, given by the config loader).
    """
    _no_unknown_keys("", data, _SECTIONS)
    base = _parse_sections(data, Policy(), prefix="", calendars=calendars)
    projects = _table(data, "projects", "")
    overrides: dict[str, Policy] = {}
    for gid, table in projects.items():
        prefix = f'projects."{gid}".'
        if not str(gid).isdigit():
            raise PolicyError(prefix.rstrip("."), "expected a project gid (the digits in the project's Asana URL)")
        if not isinstance(table, Mapping):
            raise PolicyError(prefix.rstrip("."), "expected a table")
        _no_unknown_keys(prefix, table, _SECTIONS[:-1])
        overrides[str(gid)] = _parse_sections(table, base, prefix=prefix, calendars=calendars)
    return replace(base, projects=overrides)


def _parse_sections(data: Mapping[str, Any], base: Policy, *, prefix: str, calendars: Calendars) -> Policy:
    return Policy(
        business_hours=_business_hours(_table(data, "business_hours", prefix), base.business_hours, prefix, calendars),
        sla=_sla(_table(data, "sla", prefix), base.sla, prefix),
        triage=_triage(_table(data, "triage", prefix), base.triage, prefix),
        reminders=_reminders(_table(data, "reminders", prefix), base.reminders, prefix),
        capture=_capture(_table(data, "capture", prefix), base.capture, prefix),
        routing=_routing(_table(data, "routing", prefix), base.routing, prefix),
        relay=_relay(_table(data, "relay", prefix), base.relay, prefix),
        identity=_identity(_table(data, "identity", prefix), base.identity, prefix),
        suggest=_suggest(_table(data, "suggest", prefix), base.suggest, prefix),
    )


def _table(data: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PolicyError(prefix + key, "expected a table")
    return value


def _no_unknown_keys(prefix: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise PolicyError(prefix + str(key), f"unknown key; expected one of {', '.join(allowed)}")


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], prefix: str, expected: str) -> Any:
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # TOML booleans are ints to isinstance(); a `true` where a number belongs is still a mistake.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise PolicyError(prefix + key, expected)
    return value


def _duration(data: Mapping[str, Any], key: str, default: Span, prefix: str, *, zero: bool = False) -> Span:
    """`zero`: "0m" means "at once" for this key; elsewhere a zero duration could never work and is refused."""
    if key not in data:
        return default
    text = _get(data, key, str, prefix, 'expected a duration string like "4h" or "2d"')
    try:
        return parse_duration(text, zero=zero)
    except ValueError as exc:
        raise PolicyError(prefix + key, str(exc)) from None


def _clock(data: Mapping[str, Any], key: str, default: time, prefix: str) -> time:
    if key not in data:
        return default
    text = _get(data, key, str, prefix, 'expected a time like "09:00"')
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise PolicyError(prefix + key, f'expected a time like "09:00", got {text!r}') from None


def _business_hours(data: Mapping[str, Any], base: BusinessHours, prefix: str, calendars: Calendars) -> BusinessHours:
    prefix += "business_hours."
    _no_unknown_keys(prefix, data, ("timezone", "days", "start", "end", "holidays", "holiday_calendar"))
    timezone = base.timezone
    if "timezone" in data:
        timezone = _get(data, "timezone", str, prefix, 'expected an IANA timezone like "America/New_York"')
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(prefix + "timezone", f"unknown timezone {timezone!r}") from None
    days = base.days
    if "days" in data:
        names = _get(data, "days", list, prefix, f"expected a list of day names from {', '.join(WEEKDAYS)}")
        if not names or any(name not in WEEKDAYS for name in names):
            raise PolicyError(prefix + "days", f"expected a list of day names from {', '.join(WEEKDAYS)}")
        days = tuple(sorted({WEEKDAYS.index(name) for name in names}))
    start = _clock(data, "start", base.start, prefix)
    end = _clock(data, "end", base.end, prefix)
    if end <= start:
        raise PolicyError(prefix + "end", "expected a time after start")
    holidays = base.holidays
    if "holidays" in data:
        raw = _get(data, "holidays", list, prefix, 'expected a list of dates like "2026-12-25"')
        try:
            holidays = frozenset(value if isinstance(value, date) else date.fromisoformat(value) for value in raw)
        except (TypeError, ValueError):
            raise PolicyError(prefix + "holidays", 'expected a list of dates like "2026-12-25"') from None
    calendar, calendar_days = base.holiday_calendar, base.calendar_days
    if "holiday_calendar" in data:
        calendar = _get(data, "holiday_calendar", str, prefix, 'expected a country code like "US" or "US-NY"').strip()
        try:
            calendar_days = calendars(calendar) if calendar else frozenset()
        except ValueError as exc:
            raise PolicyError(prefix + "holiday_calendar", str(exc)) from None
        calendar = calendar or None
    return BusinessHours(
        timezone=timezone,
        days=days,
        start=start,
        end=end,
        holidays=holidays,
        holiday_calendar=calendar,
        calendar_days=calendar_days,
    )


def _sla(data: Mapping[str, Any], base: Sla, prefix: str) -> Sla:
    prefix += "sla."
    _no_unknown_keys(prefix, data, (*PRIORITIES, "warn_at"))
    targets = dict(base.targets)
    for priority in PRIORITIES:
        if priority not in data:
            continue
        table = _get(data, priority, Mapping, prefix, "expected a table with first_response and resolution")
        key = prefix + priority + "."
        _no_unknown_keys(key, table, ("first_response", "resolution"))
        for needed in ("first_response", "resolution"):
            if needed not in table:
                raise PolicyError(key + needed, 'missing; expected a duration like "4h"')
        targets[priority] = SlaTarget(
            first_response=_duration(table, "first_response", Span(), key),
            resolution=_duration(table, "resolution", Span(), key),
        )
    warn_at = base.warn_at
    if "warn_at" in data:
        warn_at = float(_get(data, "warn_at", (int, float), prefix, "expected a number between 0 and 1"))
        if not 0 < warn_at < 1:
            raise PolicyError(prefix + "warn_at", "expected a number between 0 and 1")
    return Sla(targets=targets, warn_at=warn_at)


def _triage(data: Mapping[str, Any], base: Triage, prefix: str) -> Triage:
    prefix += "triage."
    _no_unknown_keys(prefix, data, ("section", "grace", "repeat", "triager", "priority_field"))
    return Triage(
        section=_name(data, "section", prefix, "expected a section name") if "section" in data else base.section,
        grace=_duration(data, "grace", base.grace, prefix, zero=True),
        repeat=_duration(data, "repeat", base.repeat, prefix),
        triager=_email(data, "triager", prefix) if "triager" in data else base.triager,
        priority_field=(
            _name(data, "priority_field", prefix, "expected a custom field name")
            if "priority_field" in data
            else base.priority_field
        ),
    )


def _email(data: Mapping[str, Any], key: str, prefix: str) -> str:
    value = str(_get(data, key, str, prefix, "expected an email address"))
    local, at, domain = value.partition("@")
    # People are found by email in Slack and Asana: a Slack handle ("@lead") or a bare name would find nobody.
    if not (local and at and "." in domain.strip(".") and not any(c.isspace() or c == "@" for c in local + domain)):
        raise PolicyError(prefix + key, f"expected an email address like lead@example.com, got {value!r}")
    return value


def _name(data: Mapping[str, Any], key: str, prefix: str, expected: str) -> str:
    value = str(_get(data, key, str, prefix, expected))
    if not value.strip():
        raise PolicyError(prefix + key, f"{expected}, got an empty one")
    return value


def _reminders(data: Mapping[str, Any], base: Reminders, prefix: str) -> Reminders:
    prefix += "reminders."
    _no_unknown_keys(prefix, data, ("lead", "overdue_repeat", "dm_assignee", "required_fields"))
    required = base.required_fields
    if "required_fields" in data:
        names = _get(data, "required_fields", list, prefix, 'expected a list of custom field names like ["Priority"]')
        if not all(isinstance(name, str) and name.strip() for name in names):
            raise PolicyError(prefix + "required_fields", 'expected a list of custom field names like ["Priority"]')
        required = tuple(name.strip() for name in names)
    return Reminders(
        required_fields=required,
        lead=_duration(data, "lead", base.lead, prefix, zero=True),
        overdue_repeat=_duration(data, "overdue_repeat", base.overdue_repeat, prefix),
        dm_assignee=(
            _get(data, "dm_assignee", bool, prefix, "expected true or false")
            if "dm_assignee" in data
            else base.dm_assignee
        ),
    )


def _capture(data: Mapping[str, Any], base: CapturePolicy, prefix: str) -> CapturePolicy:
    prefix += "capture."
    _no_unknown_keys(prefix, data, ("mode", "reaction", "combined_projects", "acknowledge"))
    mode = base.mode
    if "mode" in data:
        raw = _get(data, "mode", str, prefix, 'expected "off", "all" or "reaction"')
        try:
            mode = CaptureMode(raw)
        except ValueError:
            raise PolicyError(prefix + "mode", f'expected "off", "all" or "reaction", got {raw!r}') from None
    combined = base.combined_projects
    if "combined_projects" in data:
        raw_list = _get(data, "combined_projects", list, prefix, "expected a list of project gids")
        if not all(isinstance(gid, str) and gid.isdigit() for gid in raw_list):
            raise PolicyError(prefix + "combined_projects", 'expected a list of project gids like ["1204..."]')
        combined = tuple(raw_list)
    reaction = base.reaction
    if "reaction" in data:
        reaction = _get(data, "reaction", str, prefix, 'expected an emoji name like "ticket"').strip(":")
    acknowledge = (
        _get(data, "acknowledge", bool, prefix, "expected true or false") if "acknowledge" in data else base.acknowledge
    )
    return CapturePolicy(mode=mode, reaction=reaction, combined_projects=combined, acknowledge=acknowledge)


def _routing(data: Mapping[str, Any], base: Routing, prefix: str) -> Routing:
    prefix += "routing."
    _no_unknown_keys(prefix, data, ("reassign_after", "pool", "wait_for", "short_sla", "followers"))
    pool = base.pool
    if "pool" in data:
        raw = _get(data, "pool", list, prefix, "expected a list of {email, skills, capacity, hours} tables")
        pool = tuple(_pool_member(entry, f"{prefix}pool[{index}].") for index, entry in enumerate(raw))
    wait_for = base.wait_for
    if "wait_for" in data:
        wait_for = _get(data, "wait_for", str, prefix, f"expected one of {', '.join(WAIT_FOR)}")
        if wait_for not in WAIT_FOR:
            raise PolicyError(prefix + "wait_for", f"expected one of {', '.join(WAIT_FOR)}")
    followers = base.followers
    if "followers" in data:
        table = _get(data, "followers", Mapping, prefix, 'expected a table like { security = ["lead@example.com"] }')
        followers = {}
        for keyword, emails in table.items():
            key = f"{prefix}followers.{keyword}"
            if not isinstance(emails, list) or not emails or not all(isinstance(e, str) and "@" in e for e in emails):
                raise PolicyError(key, "expected a list of email addresses")
            followers[str(keyword).lower()] = tuple(emails)
    return Routing(
        reassign_after=_duration(data, "reassign_after", base.reassign_after, prefix),
        pool=pool,
        wait_for=wait_for,
        short_sla=_duration(data, "short_sla", base.short_sla, prefix),
        followers=followers,
    )


def _pool_member(entry: Any, key: str) -> PoolMember:
    if not isinstance(entry, Mapping):
        raise PolicyError(key.rstrip("."), "expected a table with email, skills and capacity")
    _no_unknown_keys(key, entry, ("email", "skills", "capacity", "hours"))
    if "email" not in entry:
        raise PolicyError(key + "email", "missing; expected an email address")
    skills = entry.get("skills", [])
    if not isinstance(skills, list) or not all(isinstance(skill, str) for skill in skills):
        raise PolicyError(key + "skills", "expected a list of words")
    capacity = entry.get("capacity", 5)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise PolicyError(key + "capacity", "expected a whole number of at least 1")
    hours = None
    if "hours" in entry:
        text = _get(entry, "hours", str, key, 'expected working hours like "08:00-16:00"')
        start, _, end = text.partition("-")
        try:
            hours = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        except ValueError:
            raise PolicyError(key + "hours", f'expected working hours like "08:00-16:00", got {text!r}') from None
        if hours[0] >= hours[1]:
            raise PolicyError(key + "hours", f'expected a start before the end, like "08:00-16:00", got {text!r}')
    return PoolMember(
        email=_email(entry, "email", key), skills=tuple(s.lower() for s in skills), capacity=capacity, hours=hours
    )


def _relay(data: Mapping[str, Any], base: RelayPolicy, prefix: str) -> RelayPolicy:
    prefix += "relay."
    _no_unknown_keys(prefix, data, ("kinds", "quiet"))
    kinds = base.kinds
    if "kinds" in data:
        raw = _get(data, "kinds", list, prefix, f"expected a list of kinds from {', '.join(RELAY_KINDS)}")
        if not all(isinstance(kind, str) and kind in RELAY_KINDS for kind in raw):
            raise PolicyError(prefix + "kinds", f"expected a list of kinds from {', '.join(RELAY_KINDS)}")
        kinds = frozenset(raw)
    quiet = _get(data, "quiet", bool, prefix, "expected true or false") if "quiet" in data else base.quiet
    return RelayPolicy(kinds=kinds, quiet=quiet)


def _identity(data: Mapping[str, Any], base: IdentityPolicy, prefix: str) -> IdentityPolicy:
    prefix += "identity."
    _no_unknown_keys(prefix, data, ("require_connected",))
    if "require_connected" not in data:
        return base
    return IdentityPolicy(require_connected=_get(data, "require_connected", bool, prefix, "expected true or false"))


def _suggest(data: Mapping[str, Any], base: SuggestPolicy, prefix: str) -> SuggestPolicy:
    prefix += "suggest."
    _no_unknown_keys(prefix, data, ("enabled", "min_score", "max_results"))
    enabled = _get(data, "enabled", bool, prefix, "expected true or false") if "enabled" in data else base.enabled
    min_score = base.min_score
    if "min_score" in data:
        min_score = float(_get(data, "min_score", (int, float), prefix, "expected a number like 0.7"))
        if min_score < 0:
            raise PolicyError(prefix + "min_score", "expected a number of 0 or more")
    max_results = base.max_results
    if "max_results" in data:
        max_results = _get(data, "max_results", int, prefix, "expected a whole number from 1 to 3")
        if not 1 <= max_results <= 3:
            raise PolicyError(prefix + "max_results", "expected a whole number from 1 to 3")
    return SuggestPolicy(enabled=enabled, min_score=min_score, max_results=max_results)
