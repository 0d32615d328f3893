"""What a click on a nag does to its task, decided from the task as Asana has it now (domain.nag_clicks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bridge.domain.durations import parse_duration
from bridge.domain.model import NagKey, TaskGid
from bridge.domain.nag_clicks import Action, Click, Decision, Verdict, Why, decide, remembered
from bridge.domain.policy import Policy, Sla, SlaTarget
from bridge.domain.relay import DUE_PUSHES, SECTION_SINCE
from bridge.domain.sla import DUE_SET_BY_BRIDGE, sla_due_on

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # a Monday
CREATED = NOW - timedelta(hours=1)
PRIORITY, TEAM = "900", "910"
P1, P2, BACKEND = "901", "902", "911"
POLICY = Policy(sla=Sla(targets={"P1": SlaTarget(parse_duration("4h"), parse_duration("2d"))}))
T = TaskGid("1")


def _task(**fields: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "gid": T,
        "completed": False,
        "assignee": None,
        "due_on": None,
        "due_at": None,
        "created_at": CREATED.isoformat(),
        "custom_fields": [
            _field(PRIORITY, "Priority", [(P1, "P1"), (P2, "P2")]),
            _field(TEAM, "Team", [(BACKEND, "Backend")]),
        ],
    }
    task.update(fields)
    return task


def _field(gid: str, name: str, options: list[tuple[str, str]], value: str | None = None) -> dict[str, Any]:
    by_gid = dict(options)
    return {
        "gid": gid,
        "name": name,
        "resource_subtype": "enum",
        "enum_options": [{"gid": g, "name": n, "enabled": True} for g, n in options],
        "enum_value": {"gid": value, "name": by_gid[value]} if value else None,
    }


def _with_value(task: dict[str, Any], field_gid: str, value: str) -> dict[str, Any]:
    for entry in task["custom_fields"]:
        if entry["gid"] == field_gid:
            names = {o["gid"]: o["name"] for o in entry["enum_options"]}
            entry["enum_value"] = {"gid": value, "name": names[value]}
    return task


def _decide(click: Click, task: dict[str, Any], *, kind: str | None = None, period: str = "", **kw: Any) -> Decision:
    nag = NagKey(T, kind, "upcoming", period) if kind else None
    return decide(
        click,
        task,
        nag=nag,
        priority_field=PRIORITY,
        policy=POLICY,
        snapshot=kw.get("snapshot", {}),
        created_at=CREATED,
        now=NOW,
    )


@pytest.mark.parametrize("action", list(Action))
def test_every_button_of_a_nag_about_a_completed_task_is_outdated(action: Action) -> None:
    decision = _decide(Click(action, value=P1, field_gid=TEAM), _task(completed=True), kind="reminder")
    assert (decision.verdict, decision.why, decision.changes) == (Verdict.OUTDATED, Why.COMPLETED, {})


def test_done_snooze_and_reassign() -> None:
    assert _decide(Click(Action.DONE), _task()).changes == {"completed": True}
    snooze = _decide(Click(Action.SNOOZE), _task())
    assert snooze.verdict is Verdict.APPLY and snooze.changes == {} and snooze.snooze_until == NOW + timedelta(days=1)
    assert _decide(Click(Action.REASSIGN, value="7"), _task()).changes == {"assignee": "7"}
    same = _decide(Click(Action.REASSIGN, value="7"), _task(assignee={"gid": "7", "name": "Bo"}))
    assert (same.verdict, same.why, same.current) == (Verdict.UNCHANGED, Why.SAME_ASSIGNEE, "Bo")


def test_push_moves_the_due_date_a_week_unless_the_reminder_is_about_another_one() -> None:
    task = _task(due_on="2026-12-04")
    pushed = _decide(Click(Action.PUSH), task, kind="reminder", period="2026-12-04#2")
    assert pushed.changes == {"due_on": "2026-12-11"} and pushed.due_on == date(2026, 12, 11)
    moved = _decide(Click(Action.PUSH), task, kind="reminder", period="2026-12-01")
    assert (moved.verdict, moved.why, moved.current) == (Verdict.OUTDATED, Why.DUE_MOVED, "2026-12-04")
    cleared = _decide(Click(Action.PUSH), _task(), kind="reminder", period="2026-12-04")
    assert (cleared.verdict, cleared.current) == (Verdict.OUTDATED, None)
    assert _decide(Click(Action.PUSH), _task(), kind="triage").why is Why.NO_DUE  # nothing to push
    timed = _task(due_on="2026-12-04", due_at="2026-12-04T17:00:00.000Z")
    pushed = _decide(Click(Action.PUSH), timed, kind="reminder", period="2026-12-04T17:00:00+00:00")
    assert pushed.changes == {"due_at": "2026-12-11T17:00:00.000Z"}


def test_a_priority_sets_the_field_asks_for_its_section_and_the_sla_due_date() -> None:
    decision = _decide(Click(Action.PRIORITY, value=P1), _task(), kind="triage")
    due = sla_due_on(POLICY, "P1", CREATED)
    assert due is not None
    assert decision.changes == {"custom_fields": {PRIORITY: P1}, "due_on": due.isoformat()}
    assert (decision.section, decision.choice, decision.due_on, decision.due_from_sla) == ("P1", "P1", due, True)
    # A due date a person chose stands; one the bridge set moves with the priority.
    by_hand = _decide(Click(Action.PRIORITY, value=P1), _task(due_on="2027-01-04"))
    assert by_hand.changes == {"custom_fields": {PRIORITY: P1}} and not by_hand.due_from_sla
    ours = _decide(
        Click(Action.PRIORITY, value=P1), _task(due_on="2027-01-04"), snapshot={DUE_SET_BY_BRIDGE: "2027-01-04"}
    )
    assert ours.changes["due_on"] == due.isoformat()
    # P2 has no SLA target: the field and the section, no due date.
    assert _decide(Click(Action.PRIORITY, value=P2), _task()).changes == {"custom_fields": {PRIORITY: P2}}


def test_a_choice_the_task_has_is_unchanged_and_an_answered_nag_is_outdated() -> None:
    set_p1 = _with_value(_task(), PRIORITY, P1)
    assert _decide(Click(Action.PRIORITY, value=P1), set_p1, kind="triage").why is Why.SAME_OPTION
    answered = _decide(Click(Action.PRIORITY, value=P2), set_p1, kind="triage")
    assert (answered.verdict, answered.why, answered.current) == (Verdict.OUTDATED, Why.ALREADY_SET, "P1")
    # A reminder's priority select is a plain change; so is one on a nag that asked for another field.
    assert _decide(Click(Action.PRIORITY, value=P2), set_p1, kind="reminder").verdict is Verdict.APPLY
    assert _decide(Click(Action.PRIORITY, value=P2), set_p1, kind="missing_fields").verdict is Verdict.APPLY
    team_set = _with_value(_task(), TEAM, BACKEND)
    field = Click(Action.FIELD, value=P1, field_gid=TEAM)
    assert _decide(field, team_set, kind="missing_fields").why is Why.NO_OPTION  # P1 is no Team option
    assert _decide(Click(Action.PRIORITY, value="999"), _task()).why is Why.NO_OPTION


def test_a_missing_field_select_sets_that_field_only() -> None:
    decision = _decide(Click(Action.FIELD, value=BACKEND, field_gid=TEAM), _task(), kind="missing_fields")
    assert decision.changes == {"custom_fields": {TEAM: BACKEND}}
    assert (decision.field_name, decision.choice, decision.section, decision.due_on) == ("Team", "Backend", None, None)
    # The priority field asked for as a missing field is a priority: section and SLA too.
    as_priority = _decide(Click(Action.FIELD, value=P1, field_gid=PRIORITY), _task(), kind="missing_fields")
    assert as_priority.section == "P1" and as_priority.due_from_sla


def test_the_snapshot_takes_only_what_the_bridge_changed() -> None:
    before = {**_task(due_on="2026-12-04", name="Old name"), DUE_PUSHES: 1}
    after = {**_task(due_on="2026-12-11", name="Renamed meanwhile", assignee={"gid": "7", "name": "Bo"})}
    decision = _decide(Click(Action.PUSH), before, kind="reminder", period="2026-12-04")
    snapshot = remembered(before, after, decision, now=NOW, moved=False)
    assert snapshot["due_on"] == "2026-12-11" and snapshot[DUE_PUSHES] == 2
    assert snapshot["name"] == "Old name" and snapshot["assignee"] is None  # still news for the relay

    chosen = _decide(Click(Action.PRIORITY, value=P1), _task(), kind="triage")
    answer = _with_value(_task(due_on=chosen.changes["due_on"]), PRIORITY, P1)
    answer["memberships"] = [{"project": {"gid": "5"}, "section": {"gid": "6", "name": "P1"}}]
    snapshot = remembered(_task(), answer, chosen, now=NOW, moved=True)
    assert snapshot["custom_fields"][0]["enum_value"]["gid"] == P1 and snapshot["custom_fields"][1]["gid"] == TEAM
    assert snapshot[DUE_SET_BY_BRIDGE] == chosen.changes["due_on"] == snapshot["due_on"]
    assert snapshot["memberships"] == answer["memberships"] and snapshot[SECTION_SINCE] == NOW.isoformat()
