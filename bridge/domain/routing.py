"""Whom a new or stalled task goes to: keyword match, then load, then fairness; who was skipped and why.

Pure: the caller gathers each pool member's state (open tasks, past assignments from this link, Asana
`ooo_entries`, whether their working hours are open now) and formats the reason; this module only decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from bridge.domain.business_time import BusinessClock, clock_for
from bridge.domain.policy import BusinessHours, Policy, PoolMember
from bridge.domain.presence import Person, own_hours
from bridge.domain.sla import target_for

PING_AT = 0.75  # of the reassignment window: the holder is asked to act or hand the task back


class SkipReason(StrEnum):
    OUT_OF_OFFICE = "out_of_office"
    AT_CAPACITY = "at_capacity"
    OUTSIDE_HOURS = "outside_hours"  # only when the SLA is short
    HAD_TASK = "had_task"  # reassignment: never bounce back while someone new is eligible


class Unassigned(StrEnum):
    NO_POOL = "no_pool"  # the link has no routing pool
    NOBODY_ELIGIBLE = "nobody_eligible"  # everyone was skipped; `Choice.skipped` says why


@dataclass(frozen=True)
class Candidate:
    """One pool member as routing sees them right now."""

    email: str
    skills: tuple[str, ...] = ()
    capacity: int = 5
    open_tasks: int = 0
    past_assignments: int = 0  # tasks routed to them from this link, ever
    out_of_office: tuple[tuple[date, date], ...] = ()  # (start, end), both days out
    in_hours: bool = True

    @classmethod
    def of(
        cls,
        member: PoolMember,
        *,
        open_tasks: int = 0,
        past_assignments: int = 0,
        out_of_office: Iterable[tuple[date, date]] = (),
        in_hours: bool = True,
    ) -> Candidate:
        return cls(
            email=member.email,
            skills=member.skills,
            capacity=member.capacity,
            open_tasks=open_tasks,
            past_assignments=past_assignments,
            out_of_office=tuple(out_of_office),
            in_hours=in_hours,
        )


@dataclass(frozen=True)
class Skip:
    """Someone routing passed over; `back_on` is the first day they are in again (out of office only)."""

    email: str
    reason: SkipReason
    back_on: date | None = None


@dataclass(frozen=True)
class Choice:
    """The decision and the parts of its reason ("→ Bo: matches "oauth"; 2 open tasks; Cy is out of office")."""

    assignee: str | None
    matched: tuple[str, ...] = ()  # the assignee's skills found in the task
    open_tasks: int | None = None  # the assignee's open tasks before this one
    fewest: bool = False  # no other eligible person had fewer open tasks
    skipped: tuple[Skip, ...] = ()
    followers: tuple[str, ...] = ()  # added by keyword rules; never the assignee
    unassigned: Unassigned | None = None  # why nobody was chosen


def routing_allowed(manually_assigned: bool) -> bool:
    """A person's assignment turns auto-routing (and auto-reassignment) off for that task."""
    return not manually_assigned


@lru_cache(maxsize=1024)
def _pattern(phrase: str) -> re.Pattern[str] | None:
    words = phrase.split()
    if not words:
        return None
    *first, last = words
    forms = "|".join(re.escape(form) for form in _number_forms(last))
    # Lookarounds rather than \b so that skills ending in symbols ("c++", "node.js") still need a boundary.
    return re.compile(r"(?<!\w)" + r"".join(re.escape(w) + r"\s+" for w in first) + f"(?:{forms})" + r"(?!\w)", re.I)


def _number_forms(word: str) -> list[str]:
    """A skill's last word in the singular and the plural ("webhooks" matches "webhook" and the other way round;
    "query", "queries"); words that are not plain letters ("c++", "node.js") only as written."""
    lowered = word.lower()
    if not lowered.isalpha() or len(lowered) < 3:
        return [word]
    if lowered.endswith("ies"):
        stems = [lowered[:-3] + "y"]
    elif lowered.endswith(("ses", "xes", "zes", "ches", "shes")):
        stems = [lowered[:-2]]
    elif lowered.endswith("s") and not lowered.endswith("ss"):
        stems = [lowered[:-1]]
    else:
        stems = [lowered]
    forms = [lowered]
    for stem in stems:
        if stem.endswith("y") and stem[-2:-1] not in "aeiou":
            plural = stem[:-1] + "ies"
        elif stem.endswith(("s", "x", "z", "ch", "sh")):
            plural = stem + "es"
        else:
            plural = stem + "s"
        forms += [stem, plural]
    return sorted(set(forms), key=len, reverse=True)  # the longest first, so "webhooks" is matched whole


def match_keywords(text: str, skills: Iterable[str]) -> list[str]:
    """The skills found in `text` as whole words or phrases, case-insensitive and in the singular or the plural, in
    the skills' order, once each."""
    found: list[str] = []
    for skill in skills:
        pattern = _pattern(skill)
        if pattern is not None and skill not in found and pattern.search(text):
            found.append(skill)
    return found


def out_of_office(candidate: Candidate, today: date) -> date | None:
    """The first day back when `today` is in an out-of-office range (adjacent ranges chained), else None."""
    day = today
    while True:
        ends = [end for start, end in candidate.out_of_office if start <= day <= end]
        if not ends:
            return day if day != today else None
        day = max(ends) + timedelta(days=1)


def choose(
    title: str,
    notes: str,
    candidates: Sequence[Candidate],
    *,
    today: date,
    previously_assigned: Sequence[str] = (),
    short_sla: bool = False,
    last_chosen: str | None = None,
    follow_rules: Mapping[str, Sequence[str]] | None = None,
) -> Choice:
    """Choose an assignee among `candidates` for a task.

    Skipped: out of office today, at capacity, outside working hours when `short_sla`, and anyone in
    `previously_assigned` (oldest first) unless every otherwise eligible person has had the task — even then
    not the latest holder while someone else is eligible. Ranked: most matched skills, fewest open tasks,
    fewest past assignments from this link, then round robin by email after `last_chosen`.
    `follow_rules` maps a keyword or phrase to the emails it adds as followers.
    """
    text = f"{title}\n{notes}"
    followers = _followers(text, follow_rules or {})
    if not candidates:
        return Choice(None, followers=followers, unassigned=Unassigned.NO_POOL)
    skipped: list[Skip] = []
    eligible: list[Candidate] = []
    for candidate in candidates:
        back_on = out_of_office(candidate, today)
        if back_on is not None:
            skipped.append(Skip(candidate.email, SkipReason.OUT_OF_OFFICE, back_on))
        elif candidate.open_tasks >= candidate.capacity:
            skipped.append(Skip(candidate.email, SkipReason.AT_CAPACITY))
        elif short_sla and not candidate.in_hours:
            skipped.append(Skip(candidate.email, SkipReason.OUTSIDE_HOURS))
        else:
            eligible.append(candidate)
    had = _had_task(eligible, previously_assigned)
    skipped.extend(Skip(email, SkipReason.HAD_TASK) for email in had)
    eligible = [candidate for candidate in eligible if candidate.email not in had]
    if not eligible:
        return Choice(None, skipped=tuple(skipped), followers=followers, unassigned=Unassigned.NOBODY_ELIGIBLE)
    matches = {candidate.email: match_keywords(text, candidate.skills) for candidate in eligible}
    last = last_chosen.casefold() if last_chosen is not None else None

    def rank(candidate: Candidate) -> tuple[int, int, int, bool, str]:
        email = candidate.email.casefold()
        after_last = last is None or email > last
        return (-len(matches[candidate.email]), candidate.open_tasks, candidate.past_assignments, not after_last, email)

    best = min(eligible, key=rank)
    return Choice(
        best.email,
        matched=tuple(matches[best.email]),
        open_tasks=best.open_tasks,
        fewest=all(best.open_tasks <= candidate.open_tasks for candidate in eligible),
        skipped=tuple(skipped),
        followers=tuple(email for email in followers if email != best.email),
    )


def _had_task(eligible: Sequence[Candidate], previously_assigned: Sequence[str]) -> list[str]:
    """Who to skip as having had the task already, in the order they appear among the eligible."""
    had = {email.casefold() for email in previously_assigned}
    emails = [candidate.email for candidate in eligible]
    if any(email.casefold() not in had for email in emails) or not emails:
        return [email for email in emails if email.casefold() in had]
    # Everyone has had it: start the rotation again, but do not hand it straight back to its latest holder.
    latest = previously_assigned[-1].casefold()
    return [email for email in emails if email.casefold() == latest] if len(emails) > 1 else []


def _followers(text: str, rules: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    found: list[str] = []
    for keyword in match_keywords(text, rules):
        found.extend(email for email in rules[keyword] if email not in found)
    return tuple(found)


class Stage(StrEnum):
    PING = "ping"  # ask the holder once to act on it or hand it back
    REASSIGN = "reassign"  # give it to the next eligible person


def stage(
    clock: BusinessClock, window: timedelta, *, assigned_at: datetime, pinged_at: datetime | None, now: datetime
) -> Stage | None:
    """Where a routed task the holder has not acted on stands, in business time.

    The holder is pinged at PING_AT of the window and the task moves on at its end; a ping that came late (the
    bridge was down, or the holder kept the task) still leaves them the rest of a window's quarter to answer.
    """
    if pinged_at is None:
        return Stage.PING if clock.elapsed(assigned_at, now) >= window * PING_AT else None
    return Stage.REASSIGN if now >= moves_on(clock, window, assigned_at=assigned_at, pinged_at=pinged_at) else None


def moves_on(clock: BusinessClock, window: timedelta, *, assigned_at: datetime, pinged_at: datetime) -> datetime:
    """When a pinged task moves on if nobody acts: the window's end, or a quarter of a window after a ping that came
    late (held for the holder's working hours), so the ping never names a past moment."""
    return max(clock.add(assigned_at, window), clock.add(pinged_at, window * (1 - PING_AT)))


def in_hours(member: PoolMember, hours: BusinessHours, now: datetime, *, timezone: str | None = None) -> bool:
    """Whether `now` is within the member's own working hours on a working day: their `hours` (else the team's)
    on their own clock (`timezone` from Slack, else the team's)."""
    return clock_for(own_hours(hours, Person(timezone=timezone, hours=member.hours))).is_open(now)


def short_sla(policy: Policy, priority: str | None) -> bool:
    """A first-response target so short that someone off work now cannot meet it."""
    target = target_for(policy.sla, priority)
    if target is None:
        return False
    clock = clock_for(policy.business_hours)
    return clock.span(target.first_response) <= clock.span(policy.routing.short_sla)
