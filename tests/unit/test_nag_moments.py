"""When a task's nags can next change (`next_check`): what the scheduler indexes so a tick reads only what is due."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.config import load_policy
from bridge.domain.model import AsanaUserGid, NagKey, TaskGid
from bridge.domain.nag_moments import next_check
from bridge.domain.nag_rules import due_nags
from bridge.domain.nags import TaskView
from bridge.domain.policy import Policy

REPO = Path(__file__).resolve().parents[2]
# America/New_York, Mon-Fri 09:00-17:00, 2026-12-25 off. Reminders: lead 1d (8 working hours), overdue every 1d.
# Triage: grace 4h, repeat 2d (16 working hours). SLA P1 first response 4h, warned at 75% (3h).
POLICY = load_policy(REPO / "bridge.example.toml")
REQUIRED = replace(POLICY, reminders=replace(POLICY.reminders, required_fields=("Priority",)))
NO_ACK = replace(POLICY, capture=replace(POLICY.capture, acknowledge=False))
GID = TaskGid("1")


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/New_York"))


def task(**changes: Any) -> TaskView:
    # Created Monday 2 March 2026 at the opening.
    return TaskView(gid=GID, created_at=ny("2026-03-02 09:00"))._replace(**changes)


def key(kind: str, stage: str, period: str) -> NagKey:
    return NagKey(GID, kind, stage, period)


WED = task(due_on=date(2026, 3, 11), assignee=AsanaUserGid("42"))
UPCOMING = key("reminder", "upcoming", "2026-03-11")
TODAY = key("reminder", "due_today", "2026-03-11")
OVERDUE_1, OVERDUE_2 = key("reminder", "overdue", "2026-03-11#1"), key("reminder", "overdue", "2026-03-11#2")
TRIAGE = task(section="Needs triage")
TRIAGE_1 = key("triage", "waiting", "2026-03-02T14:00:00+00:00#1")
P1 = task(priority="P1")
TIMED = task(due_at=ny("2026-03-11 15:00"))
TIMED_UP = key("reminder", "upcoming", "2026-03-11T19:00:00+00:00")
TIMED_TODAY = key("reminder", "due_today", "2026-03-11T19:00:00+00:00")


@pytest.mark.parametrize(
    ("view", "now", "sent", "snoozed", "policy", "expected"),
    [
        # Reminders: the day before (upcoming), the day (due today), the day after and every workday on (overdue).
        pytest.param(WED, "2026-03-09 12:00", [], None, POLICY, "2026-03-10 09:00", id="reminder-upcoming-next"),
        pytest.param(WED, "2026-03-10 10:00", [UPCOMING], None, POLICY, "2026-03-11 09:00", id="then-due-today"),
        pytest.param(WED, "2026-03-10 10:00", [], None, POLICY, "2026-03-11 09:00", id="unsent-is-not-a-change"),
        pytest.param(WED, "2026-03-11 12:00", [UPCOMING, TODAY], None, POLICY, "2026-03-12 09:00", id="then-overdue"),
        pytest.param(WED, "2026-03-12 10:00", [OVERDUE_1], None, POLICY, "2026-03-13 09:00", id="overdue-repeats"),
        pytest.param(WED, "2026-03-13 10:00", [OVERDUE_2], None, POLICY, "2026-03-16 09:00", id="over-the-weekend"),
        pytest.param(WED, "2026-03-10 20:00", [], None, POLICY, "2026-03-11 09:00", id="evening-unsent-waits-opening"),
        pytest.param(WED, "2026-03-07 12:00", [], None, POLICY, "2026-03-10 09:00", id="saturday"),
        pytest.param(
            task(due_on=date(2026, 12, 24)), "2026-12-24 10:00", [], None, POLICY, "2026-12-28 09:00", id="holiday"
        ),
        pytest.param(TIMED, "2026-03-10 10:00", [], None, POLICY, "2026-03-10 15:00", id="timed-upcoming"),
        pytest.param(TIMED, "2026-03-10 16:00", [TIMED_UP], None, POLICY, "2026-03-11 09:00", id="timed-today"),
        pytest.param(
            TIMED, "2026-03-11 10:00", [TIMED_UP, TIMED_TODAY], None, POLICY, "2026-03-11 15:00", id="timed-overdue"
        ),
        # Triage: after the grace, then every repeat, in working hours.
        pytest.param(TRIAGE, "2026-03-02 10:00", [], None, POLICY, "2026-03-02 13:00", id="triage-after-grace"),
        pytest.param(TRIAGE, "2026-03-02 14:00", [TRIAGE_1], None, POLICY, "2026-03-04 13:00", id="triage-repeat"),
        pytest.param(
            task(section="Needs triage", section_since=ny("2026-03-06 15:00")),
            "2026-03-06 16:00",
            [],
            None,
            POLICY,
            "2026-03-09 11:00",
            id="triage-grace-over-the-weekend",
        ),
        pytest.param(task(section="P1"), "2026-03-02 10:00", [], None, POLICY, None, id="not-in-triage"),
        # The SLA warning: once, at 75% of the first-response target.
        pytest.param(P1, "2026-03-02 10:00", [], None, POLICY, "2026-03-02 12:00", id="sla-warning"),
        pytest.param(P1, "2026-03-02 13:00", [], None, POLICY, None, id="sla-warning-due-is-not-a-change"),
        pytest.param(
            P1._replace(first_response_at=ny("2026-03-02 09:30")),
            "2026-03-02 10:00",
            [],
            None,
            POLICY,
            None,
            id="answered",
        ),
        pytest.param(P1, "2026-03-02 10:00", [], None, NO_ACK, None, id="no-acknowledgement-no-warning"),
        # Missing fields: every overdue_repeat after creation.
        pytest.param(
            task(missing_fields=("Priority",)),
            "2026-03-02 10:00",
            [],
            None,
            REQUIRED,
            "2026-03-03 09:00",
            id="missing-fields",
        ),
        pytest.param(
            task(missing_fields=("Priority",)),
            "2026-03-05 10:00",
            [],
            None,
            REQUIRED,
            "2026-03-06 09:00",
            id="missing-fields-repeat",
        ),
        # A snooze holds everything until it ends; one that ended holds nothing.
        pytest.param(WED, "2026-03-10 10:00", [UPCOMING], "2026-03-12 12:00", POLICY, "2026-03-12 12:00", id="snooze"),
        pytest.param(WED, "2026-03-10 10:00", [], "2026-03-10 11:00", POLICY, "2026-03-10 11:00", id="snooze-short"),
        pytest.param(WED, "2026-03-10 10:00", [], "2026-03-10 09:00", POLICY, "2026-03-11 09:00", id="snooze-ended"),
        pytest.param(WED, "2026-03-10 10:00", [], "2026-03-10 18:00", POLICY, "2026-03-11 09:00", id="snooze-evening"),
        # Nothing ever again.
        pytest.param(WED._replace(completed=True), "2026-03-10 10:00", [], None, POLICY, None, id="completed"),
        pytest.param(task(), "2026-03-10 10:00", [], None, POLICY, None, id="nothing-to-nag"),
    ],
)
def test_next_check(
    view: TaskView, now: str, sent: list[NagKey], snoozed: str | None, policy: Policy, expected: str | None
) -> None:
    found = next_check(view, policy, ny(now), set(sent), snoozed_until=ny(snoozed) if snoozed else None)
    assert found == (ny(expected) if expected else None)


# --- never later than a change: checked against the rules themselves --------------------------------------------

START = ny("2026-03-02 00:00")
HORIZON = timedelta(days=21)


@settings(deadline=None, max_examples=150)
@given(
    due_day=st.one_of(st.none(), st.integers(min_value=0, max_value=20)),
    timed=st.booleans(),
    triage=st.booleans(),
    priority=st.sampled_from([None, "P0", "P1", "P2"]),
    missing=st.booleans(),
    created=st.integers(min_value=0, max_value=7 * 24 * 60),
    now=st.integers(min_value=0, max_value=14 * 24 * 60),
    sent_share=st.integers(min_value=0, max_value=3),
    probes=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=20, max_size=20),
)
def test_no_new_nag_before_the_next_check(
    due_day: int | None,
    timed: bool,
    triage: bool,
    priority: str | None,
    missing: bool,
    created: int,
    now: int,
    sent_share: int,
    probes: list[float],
) -> None:
    """Between `now` and the moment given (or three weeks on, when none is), the rules find no nag they did not
    find at `now`: a tick that judges the task only at that moment misses nothing."""
    created_at = START + timedelta(minutes=created)
    at = created_at + timedelta(minutes=now)
    due_on = date(2026, 3, 2) + timedelta(days=due_day) if due_day is not None else None
    view = TaskView(
        gid=GID,
        created_at=created_at,
        due_on=None if timed else due_on,
        due_at=datetime.combine(due_on, datetime.min.time(), ZoneInfo("America/New_York")) + timedelta(hours=14)
        if timed and due_on
        else None,
        section="Needs triage" if triage else "Doing",
        priority=priority,
        missing_fields=("Priority",) if missing else (),
    )
    # Some of what was due at `now` or before was sent: walk from creation, recording every `sent_share`-th nag.
    sent: set[NagKey] = set()
    step = created_at
    n = 0
    while step <= at:
        for nag in due_nags(view, REQUIRED, step, sent):
            n += 1
            if sent_share and n % sent_share == 0:
                sent.add(nag.key)
        step += timedelta(hours=1)
    found = next_check(view, REQUIRED, at, sent)
    assert found is None or found > at
    before = {nag.key for nag in due_nags(view, REQUIRED, at, sent)}
    end = found if found is not None else at + HORIZON
    for share in probes:
        moment = at + (end - at) * share
        if not at < moment < end:  # a float share may round onto either end
            continue
        later = {nag.key for nag in due_nags(view, REQUIRED, moment, sent)}
        assert later <= before, (moment, later - before)
    if found is not None:
        just_before = found - timedelta(microseconds=1)
        if just_before > at:
            assert {nag.key for nag in due_nags(view, REQUIRED, just_before, sent)} <= before
