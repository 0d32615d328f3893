"""The identity rules (issue #20): PKCE, when a token is renewed, and which changes are the bridge's own writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.domain.identity import (
    Connection,
    OwnWrite,
    challenge,
    digest,
    new_verifier,
    own_change_kinds,
    pending,
    writes_of_update,
    wrote_comment,
)
from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, TeamId

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TASK = TaskGid("1")
PROJECT = "10"
PRIORITY = "20"


def test_the_s256_challenge_is_rfc_7636s_example() -> None:
    # RFC 7636 appendix B.
    assert challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier = new_verifier()
    assert 43 <= len(verifier) <= 128 and new_verifier() != verifier


def test_a_pending_connect_keeps_the_digest_of_its_state_and_hides_the_verifier() -> None:
    connect = pending("the-state", TeamId("T"), SlackUserId("U"), "the-verifier", now=NOW)
    assert connect.state_digest == digest("the-state") and "the-state" not in connect.state_digest
    assert connect.expires_at == NOW + timedelta(minutes=10)
    assert "the-verifier" not in repr(connect)


@pytest.mark.parametrize(
    ("expires_in", "renew"),
    [(timedelta(hours=1), False), (timedelta(minutes=6), False), (timedelta(minutes=5), True), (-timedelta(1), True)],
)
def test_a_token_is_renewed_five_minutes_before_it_ends(expires_in: timedelta, renew: bool) -> None:
    connection = Connection(TeamId("T"), SlackUserId("U"), AsanaUserGid("7"), "Ana", "a", "r", NOW + expires_in, NOW)
    assert connection.needs_refresh(NOW) is renew
    assert "a" not in repr(connection).split("as 7")[1]


def test_an_update_is_remembered_field_by_field() -> None:
    writes = writes_of_update(TASK, {"completed": True, "custom_fields": {PRIORITY: "30"}, "due_on": None}, now=NOW)
    assert [(w.field, w.value_digest) for w in writes] == [
        ("completed", digest("true")),
        (f"custom_fields.{PRIORITY}", digest("30")),
        ("due_on", digest("")),
    ]


def _task(**fields: Any) -> dict[str, Any]:
    return {
        "completed": False,
        "assignee": None,
        "due_on": None,
        "name": "Ship it",
        "custom_fields": [{"gid": PRIORITY, "enum_value": None}],
        "memberships": [{"project": {"gid": PROJECT}, "section": {"gid": "40"}}],
        **fields,
    }


@pytest.mark.parametrize(
    ("writes", "task", "echoed"),
    [
        ({"completed": True}, _task(completed=True), {"completed", "reopened"}),
        ({"completed": True}, _task(completed=False), set()),  # someone reopened it since: that is news
        ({"assignee": "7"}, _task(assignee={"gid": "7"}), {"assigned", "unassigned"}),
        ({"assignee": "7"}, _task(assignee={"gid": "8"}), set()),
        ({"assignee": None}, _task(), {"assigned", "unassigned"}),
        ({"due_on": "2026-12-09"}, _task(due_on="2026-12-09"), {"due"}),
        ({"name": "Ship it"}, _task(), {"renamed"}),
        (
            {"custom_fields": {PRIORITY: "30"}},
            _task(custom_fields=[{"gid": PRIORITY, "enum_value": {"gid": "30"}}]),
            {"priority"},
        ),
        ({"custom_fields": {"99": "30"}}, _task(custom_fields=[{"gid": PRIORITY, "enum_value": {"gid": "30"}}]), set()),
        ({}, _task(completed=True), set()),
    ],
)
def test_own_change_kinds(writes: dict[str, Any], task: dict[str, Any], echoed: set[str]) -> None:
    own = writes_of_update(TASK, writes, now=NOW)
    assert own_change_kinds(own, task, project_gid=PROJECT, priority_field=PRIORITY, now=NOW) == echoed


def test_a_section_move_and_old_writes() -> None:
    moved = [OwnWrite(TASK, "section", digest("40"), NOW)]
    assert own_change_kinds(moved, _task(), project_gid=PROJECT, priority_field=None, now=NOW) == {"section"}
    later = NOW + timedelta(minutes=11)  # too long ago to be the echo of this event
    assert own_change_kinds(moved, _task(), project_gid=PROJECT, priority_field=None, now=later) == set()


def test_wrote_comment() -> None:
    own = [OwnWrite(TASK, "comment", digest("Completed by ana from Slack"), NOW)]
    assert wrote_comment(own, "Completed by ana from Slack", now=NOW + timedelta(minutes=1))
    assert not wrote_comment(own, "Completed by bo from Slack", now=NOW)
    assert not wrote_comment(own, "Completed by ana from Slack", now=NOW + timedelta(hours=1))
