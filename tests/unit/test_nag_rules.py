"""Which nags are due when: reminders, triage, the first-response warning, missing fields, and quiet hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.config import load_policy
from bridge.domain.business_time import clock_for
from bridge.domain.durations import parse_duration
from bridge.domain.model import (
    AsanaUserGid,
    ChannelId,
    MessageTs,
    NagKey,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
)
from bridge.domain.nag_rules import due_for_all, due_nags, quiet_until
from bridge.domain.nags import Mention, Nag, Role, TaskView, task_view
from bridge.domain.policy import Policy
from tests.support import examples

REPO = Path(__file__).resolve().parents[2]
# America/New_York, Mon-Fri 09:00-17:00, 2026-12-25 off. Reminders: lead 24h (a workday), overdue every workday.
# Triage: "Needs triage", grace 4h, repeat 2d, triager lead@example.com. SLA P0 1h, P1 4h first response; warn 75%.
POLICY = load_policy(REPO / "bridge.example.toml")
GID = TaskGid("1")
ANA = AsanaUserGid("42")
REQUESTER = SlackUserId("U1")
TRIAGER = Mention(Role.TRIAGER, "lead@example.com")


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/New_York"))


def task(**changes: Any) -> TaskView:
    return TaskView(gid=GID, created_at=ny("2026-03-02 09:00"))._replace(**changes)


def key(kind: str, stage: str, period: str) -> NagKey:
    return NagKey(GID, kind, stage, period)


def due(view: TaskView, now: str, sent: Iterable[NagKey] = (), policy: Policy = POLICY) -> list[Nag]:
    return due_nags(view, policy, ny(now), set(sent))


def stages(nags: list[Nag]) -> list[tuple[str, str, str]]:
    return [(n.kind, n.stage, n.period) for n in nags]


# --- reminders ------------------------------------------------------------------------------------------------

WED = task(due_on=date(2026, 3, 11), assignee=ANA)
UPCOMING = key("reminder", "upcoming", "2026-03-11")
TODAY = key("reminder", "due_today", "2026-03-11")
OVERDUE_1, OVERDUE_2 = key("reminder", "overdue", "2026-03-11#1"), key("reminder", "overdue", "2026-03-11#2")


@pytest.mark.parametrize(
    ("now", "sent", "expected", "due_at"),
    [
        pytest.param("2026-03-09 16:59", [], None, None, id="two-workdays-before-nothing"),
        pytest.param("2026-03-10 09:00", [], UPCOMING, "2026-03-10 09:00", id="upcoming-from-the-workday-before"),
        pytest.param("2026-03-10 12:00", [UPCOMING], None, None, id="upcoming-once"),
        pytest.param("2026-03-11 09:00", [UPCOMING], TODAY, "2026-03-11 09:00", id="due-today-at-opening"),
        pytest.param("2026-03-11 16:59", [UPCOMING], TODAY, "2026-03-11 09:00", id="due-today-until-closing"),
        pytest.param("2026-03-11 18:00", [UPCOMING], None, None, id="quiet-in-the-evening"),
        pytest.param("2026-03-12 09:00", [TODAY], OVERDUE_1, "2026-03-12 09:00", id="overdue-the-next-morning"),
        pytest.param("2026-03-12 16:59", [OVERDUE_1], None, None, id="overdue-once-per-period"),
        pytest.param("2026-03-13 09:00", [OVERDUE_1], OVERDUE_2, "2026-03-13 09:00", id="overdue-a-workday-later"),
        pytest.param(
            "2026-03-16 09:00",
            [OVERDUE_2],
            key("reminder", "overdue", "2026-03-11#3"),
            "2026-03-16 09:00",
            id="overdue-skips-the-weekend",
        ),
        pytest.param("2026-03-12 10:00", [], OVERDUE_1, "2026-03-12 09:00", id="missed-stages-are-not-sent-late"),
    ],
)
def test_reminder_stages(now: str, sent: list[NagKey], expected: NagKey | None, due_at: str | None) -> None:
    nags = due(WED, now, sent)
    assert [n.key for n in nags] == ([expected] if expected else [])
    if due_at:
        assert nags[0].due_at == ny(due_at)
        assert nags[0].mention == Mention(Role.ASSIGNEE, ANA)


@pytest.mark.parametrize(
    ("due_on", "now", "stage", "period", "due_at"),
    [
        pytest.param("2026-03-14", "2026-03-13 09:00", "upcoming", "2026-03-14", "2026-03-13 09:00", id="sat-due-fri"),
        pytest.param("2026-03-14", "2026-03-16 09:00", "overdue", "2026-03-14#1", "2026-03-16 09:00", id="sat-due-mon"),
        pytest.param("2026-12-25", "2026-12-24 09:00", "upcoming", "2026-12-25", "2026-12-24 09:00", id="holiday-due"),
        pytest.param(
            "2026-12-25", "2026-12-28 09:00", "overdue", "2026-12-25#1", "2026-12-28 09:00", id="holiday-late"
        ),
        pytest.param("2026-03-09", "2026-03-06 09:00", "upcoming", "2026-03-09", "2026-03-06 09:00", id="dst-upcoming"),
        pytest.param(
            "2026-03-09", "2026-03-09 09:00", "due_today", "2026-03-09", "2026-03-09 09:00", id="dst-due-today"
        ),
        pytest.param("2026-03-09", "2026-03-10 09:00", "overdue", "2026-03-09#1", "2026-03-10 09:00", id="dst-overdue"),
        pytest.param("2026-11-02", "2026-11-02 09:00", "due_today", "2026-11-02", "2026-11-02 09:00", id="fall-back"),
    ],
)
def test_reminders_around_weekends_holidays_and_dst(
    due_on: str, now: str, stage: str, period: str, due_at: str
) -> None:
    nags = due(task(due_on=date.fromisoformat(due_on)), now)
    assert stages(nags) == [("reminder", stage, period)]
    assert nags[0].due_at == ny(due_at)


@pytest.mark.parametrize(
    ("due_on", "now_utc", "stage"),
    [
        pytest.param("2026-03-30", "2026-03-30 07:00", "due_today", id="monday-after-spring-forward-09:00-cest"),
        pytest.param("2026-03-30", "2026-03-30 06:59", None, id="08:59-cest-is-quiet"),
        pytest.param("2026-03-30", "2026-03-27 08:00", "upcoming", id="friday-before-09:00-cet"),
        pytest.param("2026-10-26", "2026-10-27 08:00", "overdue", id="tuesday-after-fall-back-09:00-cet"),
    ],
)
def test_reminders_in_berlin(due_on: str, now_utc: str, stage: str | None) -> None:
    berlin = replace(POLICY, business_hours=replace(POLICY.business_hours, timezone="Europe/Berlin"))
    now = datetime.fromisoformat(now_utc).replace(tzinfo=UTC)
    nags = due_nags(task(due_on=date.fromisoformat(due_on)), berlin, now, set())
    assert [n.stage for n in nags] == ([stage] if stage else [])


LONG_LEAD = replace(
    POLICY, reminders=replace(POLICY.reminders, lead=parse_duration("2d"), overdue_repeat=parse_duration("4h"))
)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2026-03-06 16:59", None, id="three-workdays-before"),
        pytest.param("2026-03-09 09:00", ("upcoming", "2026-03-11"), id="two-workdays-before"),
        pytest.param("2026-03-12 12:59", ("overdue", "2026-03-11#1"), id="first-half-day-late"),
        pytest.param("2026-03-12 13:00", ("overdue", "2026-03-11#2"), id="second-half-day-late"),
        pytest.param("2026-03-13 09:00", ("overdue", "2026-03-11#3"), id="third-half-day-late"),
    ],
)
def test_reminders_follow_the_policys_lead_and_repeat(now: str, expected: tuple[str, str] | None) -> None:
    nags = due(WED, now, policy=LONG_LEAD)
    assert [(n.stage, n.period) for n in nags] == ([expected] if expected else [])


AT_THREE = ny("2026-03-11 15:00")  # due_at: a deadline with a time of day
STAMP = "2026-03-11T19:00:00+00:00"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2026-03-10 14:59", None, id="before-the-lead"),
        pytest.param("2026-03-10 15:00", ("upcoming", STAMP), id="a-workday-before-the-time"),
        pytest.param("2026-03-11 09:00", ("due_today", STAMP), id="the-day-of"),
        pytest.param("2026-03-11 14:59", ("due_today", STAMP), id="a-minute-before"),
        pytest.param("2026-03-11 15:00", ("overdue", f"{STAMP}#1"), id="exactly-at-the-time"),
        pytest.param("2026-03-12 15:00", ("overdue", f"{STAMP}#2"), id="a-workday-after-the-time"),
    ],
)
def test_reminders_for_a_due_time(now: str, expected: tuple[str, str] | None) -> None:
    nags = due(task(due_at=AT_THREE, due_on=date(2026, 3, 11)), now)
    assert [(n.stage, n.period) for n in nags] == ([expected] if expected else [])


def test_a_moved_due_date_is_reminded_again() -> None:
    sent = [UPCOMING, TODAY, OVERDUE_1]
    assert stages(due(WED._replace(due_on=date(2026, 3, 18)), "2026-03-17 09:00", sent)) == [
        ("reminder", "upcoming", "2026-03-18")
    ]


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(WED._replace(completed=True), id="completed"),
        pytest.param(WED._replace(due_on=None), id="no-due-date"),
    ],
)
def test_no_reminder(view: TaskView) -> None:
    assert due(view, "2026-03-12 10:00") == []


def test_an_unassigned_reminder_mentions_nobody() -> None:
    assert [n.mention for n in due(WED._replace(assignee=None), "2026-03-12 10:00")] == [None]


# --- triage ---------------------------------------------------------------------------------------------------

IN_TRIAGE = task(section="Needs triage", section_since=ny("2026-03-10 10:00"))
SINCE = "2026-03-10T14:00:00+00:00"
WAITING_1, WAITING_2 = key("triage", "waiting", f"{SINCE}#1"), key("triage", "waiting", f"{SINCE}#2")


@pytest.mark.parametrize(
    ("view", "now", "sent", "expected", "due_at"),
    [
        pytest.param(IN_TRIAGE, "2026-03-10 13:59", [], None, None, id="within-grace"),
        pytest.param(IN_TRIAGE, "2026-03-10 14:00", [], WAITING_1, "2026-03-10 14:00", id="exactly-at-grace"),
        pytest.param(IN_TRIAGE, "2026-03-11 10:00", [WAITING_1], None, None, id="once-per-period"),
        pytest.param(IN_TRIAGE, "2026-03-12 13:59", [WAITING_1], None, None, id="a-minute-before-repeat"),
        pytest.param(IN_TRIAGE, "2026-03-12 14:00", [WAITING_1], WAITING_2, "2026-03-12 14:00", id="repeat"),
        pytest.param(
            IN_TRIAGE._replace(section_since=ny("2026-03-13 15:00")),
            "2026-03-16 11:00",
            [],
            key("triage", "waiting", "2026-03-13T19:00:00+00:00#1"),
            "2026-03-16 11:00",
            id="grace-runs-over-the-weekend",
        ),
        pytest.param(
            IN_TRIAGE._replace(section=" needs TRIAGE "), "2026-03-10 14:00", [], WAITING_1, None, id="any-case"
        ),
        pytest.param(
            IN_TRIAGE._replace(section_since=None, created_at=ny("2026-03-10 10:00")),
            "2026-03-10 14:00",
            [],
            WAITING_1,
            None,
            id="no-record-of-entering-counts-from-creation",
        ),
        pytest.param(IN_TRIAGE._replace(section="Doing"), "2026-03-12 14:00", [], None, None, id="left-triage"),
        pytest.param(IN_TRIAGE._replace(section=None), "2026-03-12 14:00", [], None, None, id="no-section"),
        pytest.param(IN_TRIAGE._replace(completed=True), "2026-03-12 14:00", [], None, None, id="completed"),
        pytest.param(
            IN_TRIAGE._replace(section_since=ny("2026-03-12 10:00")),
            "2026-03-12 14:00",
            [WAITING_1, WAITING_2],
            key("triage", "waiting", "2026-03-12T14:00:00+00:00#1"),
            None,
            id="back-in-triage-starts-over",
        ),
    ],
)
def test_triage(view: TaskView, now: str, sent: list[NagKey], expected: NagKey | None, due_at: str | None) -> None:
    nags = due(view, now, sent)
    assert [n.key for n in nags] == ([expected] if expected else [])
    if nags:
        assert nags[0].mention == TRIAGER
    if due_at:
        assert nags[0].due_at == ny(due_at)


def test_triage_without_a_triager_mentions_nobody() -> None:
    policy = replace(POLICY, triage=replace(POLICY.triage, triager=None))
    assert [n.mention for n in due(IN_TRIAGE, "2026-03-10 14:00", policy=policy)] == [None]


# --- first-response warning -----------------------------------------------------------------------------------

P0 = task(priority="P0", created_at=ny("2026-03-10 10:00"))
WARN = key("first_response", "warn", "")


@pytest.mark.parametrize(
    ("view", "now", "sent", "warned", "due_at"),
    [
        pytest.param(P0, "2026-03-10 10:44", [], False, None, id="before-75-percent"),
        pytest.param(P0, "2026-03-10 10:45", [], True, "2026-03-10 10:45", id="at-75-percent"),
        pytest.param(P0, "2026-03-10 16:00", [WARN], False, None, id="once"),
        pytest.param(
            P0._replace(first_response_at=ny("2026-03-10 10:30")), "2026-03-10 10:45", [], False, None, id="answered"
        ),
        pytest.param(P0._replace(priority=None), "2026-03-10 16:00", [], False, None, id="no-priority"),
        pytest.param(P0._replace(priority="P9"), "2026-03-10 16:00", [], False, None, id="no-target"),
        pytest.param(P0._replace(priority="p0 "), "2026-03-10 10:45", [], True, None, id="any-case"),
        pytest.param(P0._replace(priority="P1"), "2026-03-10 12:59", [], False, None, id="p1-before-3h"),
        pytest.param(P0._replace(priority="P1"), "2026-03-10 13:00", [], True, None, id="p1-at-3h"),
        pytest.param(P0._replace(completed=True), "2026-03-10 16:00", [], False, None, id="completed"),
        pytest.param(
            P0._replace(created_at=ny("2026-03-13 16:30")), "2026-03-16 09:15", [], True, "2026-03-16 09:15", id="fri"
        ),
    ],
)
def test_first_response_warning(view: TaskView, now: str, sent: list[NagKey], warned: bool, due_at: str | None) -> None:
    nags = due(view, now, sent)
    assert [n.key for n in nags] == ([WARN] if warned else [])
    if due_at:
        assert nags[0].due_at == ny(due_at)


@pytest.mark.parametrize(
    ("assignee", "mention"),
    [
        pytest.param(ANA, Mention(Role.ASSIGNEE, ANA), id="the-assignee"),
        pytest.param(None, TRIAGER, id="else-the-triager"),
    ],
)
def test_first_response_warning_mentions(assignee: AsanaUserGid | None, mention: Mention) -> None:
    assert [n.mention for n in due(P0._replace(assignee=assignee), "2026-03-10 10:45")] == [mention]


def test_no_warning_where_first_responses_are_not_tracked() -> None:
    policy = replace(POLICY, capture=replace(POLICY.capture, acknowledge=False))
    assert due(P0, "2026-03-10 16:00", policy=policy) == []


# --- missing fields -------------------------------------------------------------------------------------------

LACKING = task(created_at=ny("2026-03-10 10:00"), missing_fields=("Priority", "Component"), assignee=ANA)


@pytest.mark.parametrize(
    ("view", "now", "sent", "period"),
    [
        pytest.param(LACKING, "2026-03-11 09:59", [], None, id="within-a-workday"),
        pytest.param(LACKING, "2026-03-11 10:00", [], "1", id="after-a-workday"),
        pytest.param(LACKING, "2026-03-11 16:00", [key("missing_fields", "missing", "1")], None, id="once-per-period"),
        pytest.param(LACKING, "2026-03-12 10:00", [key("missing_fields", "missing", "1")], "2", id="repeats"),
        pytest.param(LACKING, "2026-03-16 10:00", [], "4", id="workdays-only"),
        pytest.param(LACKING._replace(missing_fields=()), "2026-03-12 10:00", [], None, id="all-set"),
        pytest.param(LACKING._replace(completed=True), "2026-03-12 10:00", [], None, id="completed"),
    ],
)
def test_missing_fields(view: TaskView, now: str, sent: list[NagKey], period: str | None) -> None:
    nags = due(view, now, sent)
    assert stages(nags) == ([("missing_fields", "missing", period)] if period else [])
    if nags:
        assert nags[0].missing == ("Priority", "Component")


@pytest.mark.parametrize(
    ("assignee", "requester", "mention"),
    [
        pytest.param(ANA, REQUESTER, Mention(Role.ASSIGNEE, ANA), id="the-assignee"),
        pytest.param(None, REQUESTER, Mention(Role.REQUESTER, REQUESTER), id="else-the-requester"),
        pytest.param(None, None, None, id="else-nobody"),
    ],
)
def test_missing_fields_mention(
    assignee: AsanaUserGid | None, requester: SlackUserId | None, mention: Mention | None
) -> None:
    view = LACKING._replace(assignee=assignee, requester=requester)
    assert [n.mention for n in due(view, "2026-03-11 10:00")] == [mention]


# --- together, and quiet --------------------------------------------------------------------------------------

EVERYTHING = task(
    created_at=ny("2026-03-10 10:00"),
    due_on=date(2026, 3, 11),
    section="Needs triage",
    priority="P0",
    missing_fields=("Component",),
)


def test_every_kind_due_at_once_in_a_stable_order() -> None:
    assert stages(due(EVERYTHING, "2026-03-12 10:00")) == [
        ("reminder", "overdue", "2026-03-11#1"),
        ("triage", "waiting", f"{SINCE}#1"),
        ("first_response", "warn", ""),
        ("missing_fields", "missing", "2"),
    ]


@pytest.mark.parametrize(
    ("now", "next_at"),
    [
        pytest.param("2026-03-12 08:59", "2026-03-12 09:00", id="before-opening"),
        pytest.param("2026-03-12 17:00", "2026-03-13 09:00", id="at-closing"),
        pytest.param("2026-03-14 10:00", "2026-03-16 09:00", id="weekend"),
        pytest.param("2026-12-25 10:00", "2026-12-28 09:00", id="holiday"),
        pytest.param("2026-03-08 02:30", "2026-03-09 09:00", id="the-hour-that-never-was"),
    ],
)
def test_quiet_outside_business_hours(now: str, next_at: str) -> None:
    assert due(EVERYTHING, now) == []
    assert quiet_until(POLICY, ny(now)) == ny(next_at)


def test_not_quiet_in_business_hours() -> None:
    assert quiet_until(POLICY, ny("2026-03-12 09:00")) is None


# --- a scheduler's life: every tick, every kind --------------------------------------------------------------

TICK = timedelta(minutes=15)
CLOCK = clock_for(POLICY.business_hours)


@settings(deadline=None, max_examples=examples(60))
@given(
    created=st.datetimes(datetime(2026, 2, 23), datetime(2026, 3, 13), timezones=st.just(UTC)),
    due_in=st.one_of(st.none(), st.integers(-3, 12)),
    in_triage=st.booleans(),
    priority=st.sampled_from([None, "P0", "P1", "P2"]),
    missing=st.booleans(),
)
def test_a_fortnight_of_ticks(
    created: datetime, due_in: int | None, in_triage: bool, priority: str | None, missing: bool
) -> None:
    view = TaskView(
        gid=GID,
        created_at=created,
        due_on=None if due_in is None else created.date() + timedelta(days=due_in),
        section="Needs triage" if in_triage else "Doing",
        priority=priority,
        missing_fields=("Component",) if missing else (),
        assignee=ANA,
    )
    sent: dict[NagKey, Nag] = {}
    now = created
    while now < created + timedelta(days=15):
        nags = due_nags(view, POLICY, now, sent.keys())
        for nag in nags:
            assert CLOCK.is_open(now), "never outside business hours"
            assert CLOCK.is_open(nag.due_at) and nag.due_at <= now
            # At the first tick in business hours once due (or once tracked, for what was due before that).
            assert CLOCK.elapsed(max(nag.due_at, created), now) < TICK
            sent[nag.key] = nag
        assert len({n.key for n in nags}) == len(nags)
        assert due_nags(view, POLICY, now, sent.keys()) == [], "a second replica sharing the log sends nothing"
        now += TICK
    for stage, every in (("overdue", POLICY.reminders.overdue_repeat), ("waiting", POLICY.triage.repeat)):
        repeats = sorted((n for n in sent.values() if n.stage == stage), key=lambda n: n.count)
        for earlier, later in pairwise(repeats):
            assert CLOCK.elapsed(earlier.due_at, later.due_at) == CLOCK.span(every) * (later.count - earlier.count)


# --- reading a task view from a tracked task's snapshot --------------------------------------------------------

SNAPSHOT = {
    "gid": "1",
    "completed": False,
    "created_at": "2026-03-10T14:00:00.000Z",
    "due_on": "2026-03-11",
    "due_at": "2026-03-11T19:00:00.000Z",
    "assignee": {"gid": "42", "name": "Ana"},
    "memberships": [
        {"project": {"gid": "100"}, "section": {"gid": "s1", "name": "Needs triage"}},
        {"project": {"gid": "200"}, "section": {"gid": "s2", "name": "Inbox"}},
    ],
    "custom_fields": [
        {"gid": "cf1", "name": "Priority", "enum_value": {"name": "P1"}},
        {"gid": "cf2", "name": "Component", "enum_value": None, "display_value": None},
        {"gid": "cf3", "name": "Effort", "number_value": 0},
        {"gid": "cf4", "name": "Notes", "text_value": ""},
        {"gid": "cf5", "name": "Area", "display_value": "Webhooks"},
    ],
    "_bridge_section_since": "2026-03-10T15:00:00+00:00",
    "_bridge_due_set": "2026-03-11",
}


def tracked(snapshot: dict[str, object], *, project: str = "100", completed: bool = False) -> TrackedTask:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    return TrackedTask(
        task_gid=GID,
        project_gid=ProjectGid(project),
        team_id=TeamId("T1"),
        channel_id=ChannelId("C1"),
        thread_ts=MessageTs("1.0"),
        permalink_url="https://app.asana.com/0/100/1",
        name="Webhook 403",
        created_at=when,
        updated_at=when,
        snapshot=snapshot,
        requester=REQUESTER,
        completed=completed,
        first_response_at=when,
    )


def test_task_view_reads_the_snapshot() -> None:
    required = ("Component", "Effort", "Notes", "Area", "Severity")
    view = task_view(tracked(SNAPSHOT), priority_field="Priority", required_fields=required)
    assert view == TaskView(
        gid=GID,
        created_at=datetime(2026, 3, 10, 14, tzinfo=UTC),
        due_on=date(2026, 3, 11),
        due_at=datetime(2026, 3, 11, 19, tzinfo=UTC),
        priority="P1",
        section="Needs triage",
        section_since=datetime(2026, 3, 10, 15, tzinfo=UTC),
        assignee=ANA,
        requester=REQUESTER,
        first_response_at=datetime(2026, 3, 1, tzinfo=UTC),
        missing_fields=("Component", "Notes", "Severity"),
        due_set_by_bridge=date(2026, 3, 11),
    )


@pytest.mark.parametrize(
    ("priority_field", "priority"),
    [
        pytest.param("cf1", "P1", id="by-gid"),
        pytest.param("priority", "P1", id="by-name-any-case"),
        pytest.param("Severity", None, id="no-such-field"),
        pytest.param(None, None, id="no-priority-field"),
    ],
)
def test_task_view_priority(priority_field: str | None, priority: str | None) -> None:
    assert task_view(tracked(SNAPSHOT), priority_field=priority_field).priority == priority


def test_task_view_section_is_the_tracked_projects() -> None:
    assert task_view(tracked(SNAPSHOT, project="200")).section == "Inbox"
    assert task_view(tracked(SNAPSHOT, project="300")).section is None


def test_task_view_of_a_bare_snapshot_falls_back_to_the_tracked_task() -> None:
    view = task_view(tracked({}, completed=True), required_fields=("Priority",))
    assert view.created_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert view.completed and view.missing_fields == ("Priority",)
    assert (view.due_on, view.due_at, view.assignee, view.section, view.due_set_by_bridge) == (None,) * 5


@pytest.mark.parametrize("now", ["2026-03-10 10:00", "2026-03-11 10:00", "2026-03-12 16:30", "2026-03-14 12:00"])
def test_due_for_all_finds_what_due_nags_finds_for_each_task(now: str) -> None:
    views = [WED, IN_TRIAGE, task(completed=True, due_on=date(2026, 3, 11)), task(priority="P1"), task()]
    sent = {UPCOMING}
    one_by_one = [(view, nag) for view in views for nag in due(view, now, sent)]
    together = [(view, nag) for _, view, nag in due_for_all(views, lambda v: v, POLICY, ny(now), sent)]
    assert together == one_by_one


# --- what people are told: the how-manyth reminder they see, and the deadlines behind the figures -------------------

OVERDUE_3 = key("reminder", "overdue", "2026-03-11#3")


@pytest.mark.parametrize(
    ("now", "sent", "period", "shown"),
    [
        pytest.param("2026-03-12 09:00", [], "2026-03-11#1", 1, id="first-overdue"),
        pytest.param("2026-03-13 09:00", [OVERDUE_1], "2026-03-11#2", 2, id="second-after-the-first"),
        pytest.param("2026-03-18 09:00", [], "2026-03-11#5", 1, id="after-a-gap-still-the-first-people-see"),
        pytest.param("2026-03-18 09:00", [OVERDUE_1, OVERDUE_3], "2026-03-11#5", 3, id="counts-what-was-sent"),
    ],
)
def test_reminders_are_numbered_by_what_people_saw_not_by_periods_slept_through(
    now: str, sent: list[NagKey], period: str, shown: int
) -> None:
    [nag] = [n for n in due(WED, now, sent) if n.kind == "reminder"]
    assert (nag.period, nag.shown) == (period, shown)
    assert nag.deadline == ny("2026-03-11 00:00")  # the due date's start: days late count from the due day


def test_the_sla_warning_carries_its_first_response_target_and_triage_when_it_began() -> None:
    view = task(priority="P1", section="Needs triage")
    nags = {n.kind: n for n in due(view, "2026-03-02 16:00")}
    assert nags["first_response"].deadline == ny("2026-03-02 13:00")  # P1: 4h of working time from 09:00
    assert nags["triage"].since == ny("2026-03-02 09:00")
