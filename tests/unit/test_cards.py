"""A task's card: its facts from the snapshot, the relative due date, and the SLA left, from plain data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge import wording
from bridge.config import load_policy
from bridge.domain.business_time import clock_for
from bridge.domain.cards import CARD_TS, card_facts, card_ts, due_phrase, working_days_between
from bridge.domain.model import ChannelId, MessageTs, ProjectGid, SlackUserId, TaskGid, TeamId, TrackedTask

REPO = Path(__file__).resolve().parents[2]
# America/New_York, Mon-Fri 09:00-17:00, New York's holidays and 2026-12-25 off; P1: first response 4h, resolution 2d.
POLICY = load_policy(REPO / "bridge.example.toml")
CLOCK = clock_for(POLICY.business_hours)
MON = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


@pytest.mark.parametrize(
    ("due", "today", "said"),
    [
        (MON, MON, "due today"),
        (MON + timedelta(days=1), MON, "due tomorrow"),
        (MON + timedelta(days=4), MON, "due in 4 days"),
        (MON, MON + timedelta(days=1), "1 working day overdue"),
        (MON, MON + timedelta(days=3), "3 working days overdue"),
        (date(2026, 12, 4), date(2026, 12, 7), "1 working day overdue"),  # Fri → Mon: the weekend is not counted
        (date(2026, 12, 24), date(2026, 12, 28), "1 working day overdue"),  # nor Christmas
        (date(2026, 12, 5), date(2026, 12, 6), "overdue (since the last working day)"),  # Sat → Sun
    ],
)
def test_due_dates_are_told_relative_to_today_in_working_days_once_past(due: date, today: date, said: str) -> None:
    assert due_phrase(due, today, CLOCK) == said


def test_working_days_between_counts_the_days_after_the_start_up_to_the_end() -> None:
    assert working_days_between(MON, MON, CLOCK) == 0
    assert working_days_between(MON, MON + timedelta(days=7), CLOCK) == 5
    assert working_days_between(MON + timedelta(days=7), MON, CLOCK) == 0


def _tracked(snapshot: dict[str, Any], **fields: Any) -> TrackedTask:
    return TrackedTask(
        task_gid=TaskGid("7"),
        project_gid=ProjectGid("9"),
        team_id=TeamId("T1"),
        channel_id=ChannelId("C1"),
        thread_ts=MessageTs("1.1"),
        permalink_url="https://app.asana.com/0/9/7",
        name="Old name",
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW,
        snapshot=snapshot,
        **fields,
    )


PRIORITY = {"gid": "55", "name": "Priority", "enum_value": {"gid": "551", "name": "P1"}}


def test_the_card_reads_the_current_snapshot() -> None:
    snapshot = {
        "name": "Rotate the keys",
        "assignee": {"gid": "42", "name": "Bo Chen"},
        "due_on": "2026-12-02",
        "custom_fields": [PRIORITY],
    }
    facts = card_facts(_tracked(snapshot, requester=SlackUserId("U1")), policy=POLICY, priority_field="55", now=NOW)
    assert (facts.name, facts.assignee, facts.assignee_name, facts.due) == (
        "Rotate the keys",
        "42",
        "Bo Chen",
        "due in 2 days",
    )
    assert facts.priority == "P1" and not facts.overdue and not facts.completed
    assert facts.sla is not None and facts.sla.stage == "first response"
    assert facts.sla.left == timedelta(hours=3)  # asked at 08:00, before opening: due 13:00, and it is 10:00


def test_a_responded_task_counts_down_to_its_resolution_and_a_completed_one_has_no_figures() -> None:
    snapshot = {"name": "X", "due_on": "2026-11-25", "custom_fields": [PRIORITY]}
    responded = card_facts(_tracked(snapshot, first_response_at=NOW), policy=POLICY, priority_field="Priority", now=NOW)
    assert responded.sla is not None and responded.sla.stage == "resolution"
    assert responded.overdue and responded.due == "2 working days overdue"  # Thanksgiving is off (US-NY calendar)
    done = card_facts(_tracked(snapshot, completed=True), policy=POLICY, priority_field="55", now=NOW)
    assert done.completed and done.due is None and done.sla is None


def test_the_card_is_drawn_with_mentions_and_escapes_what_others_wrote() -> None:
    snapshot = {"name": "<!channel> fix", "assignee": {"gid": "42", "name": "<@U0EVIL>"}, CARD_TS: "2.2"}
    tracked = _tracked(snapshot)
    assert card_ts(tracked) == "2.2"
    facts = card_facts(tracked, policy=POLICY, priority_field=None, now=NOW)
    text, card = wording.task_card(facts, assignee=None)
    assert "<!channel>" not in text and "&lt;@U0EVIL&gt;" in str(card)
    text, card = wording.task_card(facts, assignee="U42", in_thread=True)
    assert "Assignee: <@U42>" in str(card) and wording.CARD_THREAD_NOTE in str(card)
    assert card[-1]["block_id"] == wording.NAG_ACTIONS_BLOCK + "7"
