"""The policy from bridge.toml's tables (`parse_policy`): each section read over its defaults, per project too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.domain import policy_values as read
from bridge.domain.durations import Span
from bridge.domain.model import CaptureMode
from bridge.domain.policy import (
    PRIORITIES,
    RELAY_KINDS,
    WEEKDAYS,
    BusinessHours,
    CapturePolicy,
    IdentityPolicy,
    Policy,
    PolicyError,
    RelayPolicy,
    Reminders,
    Sla,
    SlaTarget,
    SuggestPolicy,
    Triage,
)
from bridge.domain.policy_routing import read_routing

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
    read.no_unknown_keys("", data, _SECTIONS)
    base = _parse_sections(data, Policy(), prefix="", calendars=calendars)
    projects = read.table(data, "projects", "")
    overrides: dict[str, Policy] = {}
    for gid, table in projects.items():
        prefix = f'projects."{gid}".'
        if not str(gid).isdigit():
            raise PolicyError(prefix.rstrip("."), "expected a project gid (the digits in the project's Asana URL)")
        if not isinstance(table, Mapping):
            raise PolicyError(prefix.rstrip("."), "expected a table")
        read.no_unknown_keys(prefix, table, _SECTIONS[:-1])
        overrides[str(gid)] = _parse_sections(table, base, prefix=prefix, calendars=calendars)
    return replace(base, projects=overrides)


def _parse_sections(data: Mapping[str, Any], base: Policy, *, prefix: str, calendars: Calendars) -> Policy:
    return Policy(
        business_hours=_business_hours(
            read.table(data, "business_hours", prefix), base.business_hours, prefix, calendars
        ),
        sla=_sla(read.table(data, "sla", prefix), base.sla, prefix),
        triage=_triage(read.table(data, "triage", prefix), base.triage, prefix),
        reminders=_reminders(read.table(data, "reminders", prefix), base.reminders, prefix),
        capture=_capture(read.table(data, "capture", prefix), base.capture, prefix),
        routing=read_routing(read.table(data, "routing", prefix), base.routing, prefix),
        relay=_relay(read.table(data, "relay", prefix), base.relay, prefix),
        identity=_identity(read.table(data, "identity", prefix), base.identity, prefix),
        suggest=_suggest(read.table(data, "suggest", prefix), base.suggest, prefix),
    )


def _business_hours(data: Mapping[str, Any], base: BusinessHours, prefix: str, calendars: Calendars) -> BusinessHours:
    prefix += "business_hours."
    read.no_unknown_keys(prefix, data, ("timezone", "days", "start", "end", "holidays", "holiday_calendar"))
    timezone = base.timezone
    if "timezone" in data:
        timezone = read.get(data, "timezone", str, prefix, 'expected an IANA timezone like "America/New_York"')
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(prefix + "timezone", f"unknown timezone {timezone!r}") from None
    days = base.days
    if "days" in data:
        names = read.get(data, "days", list, prefix, f"expected a list of day names from {', '.join(WEEKDAYS)}")
        if not names or any(name not in WEEKDAYS for name in names):
            raise PolicyError(prefix + "days", f"expected a list of day names from {', '.join(WEEKDAYS)}")
        days = tuple(sorted({WEEKDAYS.index(name) for name in names}))
    start = read.clock(data, "start", base.start, prefix)
    end = read.clock(data, "end", base.end, prefix)
    if end <= start:
        raise PolicyError(prefix + "end", "expected a time after start")
    holidays = base.holidays
    if "holidays" in data:
        raw = read.get(data, "holidays", list, prefix, 'expected a list of dates like "2026-12-25"')
        try:
            holidays = frozenset(value if isinstance(value, date) else date.fromisoformat(value) for value in raw)
        except (TypeError, ValueError):
            raise PolicyError(prefix + "holidays", 'expected a list of dates like "2026-12-25"') from None
    calendar, calendar_days = base.holiday_calendar, base.calendar_days
    if "holiday_calendar" in data:
        calendar = read.get(
            data, "holiday_calendar", str, prefix, 'expected a country code like "US" or "US-NY"'
        ).strip()
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
    read.no_unknown_keys(prefix, data, (*PRIORITIES, "warn_at"))
    targets = dict(base.targets)
    for priority in PRIORITIES:
        if priority not in data:
            continue
        table = read.get(data, priority, Mapping, prefix, "expected a table with first_response and resolution")
        key = prefix + priority + "."
        read.no_unknown_keys(key, table, ("first_response", "resolution"))
        for needed in ("first_response", "resolution"):
            if needed not in table:
                raise PolicyError(key + needed, 'missing; expected a duration like "4h"')
        targets[priority] = SlaTarget(
            first_response=read.duration(table, "first_response", Span(), key),
            resolution=read.duration(table, "resolution", Span(), key),
        )
    warn_at = base.warn_at
    if "warn_at" in data:
        warn_at = float(read.get(data, "warn_at", (int, float), prefix, "expected a number between 0 and 1"))
        if not 0 < warn_at < 1:
            raise PolicyError(prefix + "warn_at", "expected a number between 0 and 1")
    return Sla(targets=targets, warn_at=warn_at)


def _triage(data: Mapping[str, Any], base: Triage, prefix: str) -> Triage:
    prefix += "triage."
    read.no_unknown_keys(prefix, data, ("section", "grace", "repeat", "triager", "priority_field"))
    return Triage(
        section=read.name(data, "section", prefix, "expected a section name") if "section" in data else base.section,
        grace=read.duration(data, "grace", base.grace, prefix, zero=True),
        repeat=read.duration(data, "repeat", base.repeat, prefix),
        triager=read.email(data, "triager", prefix) if "triager" in data else base.triager,
        priority_field=(
            read.name(data, "priority_field", prefix, "expected a custom field name")
            if "priority_field" in data
            else base.priority_field
        ),
    )


def _reminders(data: Mapping[str, Any], base: Reminders, prefix: str) -> Reminders:
    prefix += "reminders."
    read.no_unknown_keys(prefix, data, ("lead", "overdue_repeat", "dm_assignee", "required_fields"))
    required = base.required_fields
    if "required_fields" in data:
        names = read.get(
            data, "required_fields", list, prefix, 'expected a list of custom field names like ["Priority"]'
        )
        if not all(isinstance(name, str) and name.strip() for name in names):
            raise PolicyError(prefix + "required_fields", 'expected a list of custom field names like ["Priority"]')
        required = tuple(name.strip() for name in names)
    return Reminders(
        required_fields=required,
        lead=read.duration(data, "lead", base.lead, prefix, zero=True),
        overdue_repeat=read.duration(data, "overdue_repeat", base.overdue_repeat, prefix),
        dm_assignee=(
            read.get(data, "dm_assignee", bool, prefix, "expected true or false")
            if "dm_assignee" in data
            else base.dm_assignee
        ),
    )


def _capture(data: Mapping[str, Any], base: CapturePolicy, prefix: str) -> CapturePolicy:
    prefix += "capture."
    read.no_unknown_keys(prefix, data, ("mode", "reaction", "combined_projects", "acknowledge"))
    mode = base.mode
    if "mode" in data:
        raw = read.get(data, "mode", str, prefix, 'expected "off", "all" or "reaction"')
        try:
            mode = CaptureMode(raw)
        except ValueError:
            raise PolicyError(prefix + "mode", f'expected "off", "all" or "reaction", got {raw!r}') from None
    combined = base.combined_projects
    if "combined_projects" in data:
        raw_list = read.get(data, "combined_projects", list, prefix, "expected a list of project gids")
        if not all(isinstance(gid, str) and gid.isdigit() for gid in raw_list):
            raise PolicyError(prefix + "combined_projects", 'expected a list of project gids like ["1204..."]')
        combined = tuple(raw_list)
    reaction = base.reaction
    if "reaction" in data:
        reaction = read.get(data, "reaction", str, prefix, 'expected an emoji name like "ticket"').strip(":")
    acknowledge = (
        read.get(data, "acknowledge", bool, prefix, "expected true or false")
        if "acknowledge" in data
        else base.acknowledge
    )
    return CapturePolicy(mode=mode, reaction=reaction, combined_projects=combined, acknowledge=acknowledge)


def _relay(data: Mapping[str, Any], base: RelayPolicy, prefix: str) -> RelayPolicy:
    prefix += "relay."
    read.no_unknown_keys(prefix, data, ("kinds", "quiet"))
    kinds = base.kinds
    if "kinds" in data:
        raw = read.get(data, "kinds", list, prefix, f"expected a list of kinds from {', '.join(RELAY_KINDS)}")
        if not all(isinstance(kind, str) and kind in RELAY_KINDS for kind in raw):
            raise PolicyError(prefix + "kinds", f"expected a list of kinds from {', '.join(RELAY_KINDS)}")
        kinds = frozenset(raw)
    quiet = read.get(data, "quiet", bool, prefix, "expected true or false") if "quiet" in data else base.quiet
    return RelayPolicy(kinds=kinds, quiet=quiet)


def _identity(data: Mapping[str, Any], base: IdentityPolicy, prefix: str) -> IdentityPolicy:
    prefix += "identity."
    read.no_unknown_keys(prefix, data, ("require_connected",))
    if "require_connected" not in data:
        return base
    return IdentityPolicy(require_connected=read.get(data, "require_connected", bool, prefix, "expected true or false"))


def _suggest(data: Mapping[str, Any], base: SuggestPolicy, prefix: str) -> SuggestPolicy:
    prefix += "suggest."
    read.no_unknown_keys(prefix, data, ("enabled", "min_score", "max_results"))
    enabled = read.get(data, "enabled", bool, prefix, "expected true or false") if "enabled" in data else base.enabled
    min_score = base.min_score
    if "min_score" in data:
        min_score = float(read.get(data, "min_score", (int, float), prefix, "expected a number like 0.7"))
        if min_score < 0:
            raise PolicyError(prefix + "min_score", "expected a number of 0 or more")
    max_results = base.max_results
    if "max_results" in data:
        max_results = read.get(data, "max_results", int, prefix, "expected a whole number from 1 to 3")
        if not 1 <= max_results <= 3:
            raise PolicyError(prefix + "max_results", "expected a whole number from 1 to 3")
    return SuggestPolicy(enabled=enabled, min_score=min_score, max_results=max_results)
