"""The relay's pure rules: what changed between snapshots, what a snapshot carries forward, when a listing is news."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.domain.relay import DUE_PUSHES, SECTION_SINCE, diff, next_snapshot, same_facts

P = "111"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def task(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Rotate keys",
        "completed": False,
        "assignee": None,
        "due_on": "2026-12-04",
        "memberships": [{"project": {"gid": P}, "section": {"gid": "s1", "name": "Needs triage"}}],
        "custom_fields": [{"gid": "f1", "name": "Priority", "enum_value": None}],
    }
    return base | fields


def in_section(name: str, project: str = P) -> list[dict[str, Any]]:
    return [{"project": {"gid": project}, "section": {"gid": name.lower(), "name": name}}]


@pytest.mark.parametrize(
    ("new", "kinds"),
    [
        pytest.param(task(), [], id="nothing"),
        pytest.param(task(completed=True, completed_by={"name": "Bo"}), ["completed"], id="completed"),
        pytest.param(task(assignee={"gid": "7", "name": "Bo"}), ["assigned"], id="assigned"),
        pytest.param(task(due_on="2026-12-09"), ["due"], id="due pushed"),
        pytest.param(task(memberships=in_section("P1")), ["section"], id="section"),
        pytest.param(task(name="Rotate all keys"), ["renamed"], id="renamed"),
        pytest.param(
            task(custom_fields=[{"gid": "f1", "name": "Priority", "enum_value": {"name": "P1"}}]),
            ["priority"],
            id="priority",
        ),
        pytest.param(task(memberships=in_section("Elsewhere", "999")), [], id="section of another project"),
    ],
)
def test_diff(new: dict[str, Any], kinds: list[str]) -> None:
    assert [c.kind for c in diff(task(), new, project_gid=P, priority_field="f1")] == kinds


@pytest.mark.parametrize(
    ("old", "new", "since"),
    [
        pytest.param(task(), task(memberships=in_section("P1")), NOW.isoformat(), id="moved: dated now"),
        pytest.param(task(), task(name="Renamed"), None, id="same section: not dated"),
        pytest.param({}, task(), None, id="first snapshot: not dated"),
        pytest.param(
            task(),
            task(memberships=[*in_section("Needs triage"), *in_section("X", "999")]),
            None,
            id="another project's section: not dated",
        ),
        pytest.param(
            task(**{SECTION_SINCE: "2026-11-30T10:00:00+00:00"}),
            task(),
            "2026-11-30T10:00:00+00:00",
            id="carried forward",
        ),
    ],
)
def test_next_snapshot_dates_a_move_to_another_section(
    old: dict[str, Any], new: dict[str, Any], since: str | None
) -> None:
    assert next_snapshot(old, new, now=NOW, project_gid=P).get(SECTION_SINCE) == since


def test_next_snapshot_counts_due_pushes_and_keeps_the_bridges_keys() -> None:
    first = next_snapshot(task(), task(due_on="2026-12-09"))
    assert first[DUE_PUSHES] == 1
    second = next_snapshot(first | {"_bridge_due_set": "2026-12-09"}, task(due_on="2026-12-08"))
    assert second[DUE_PUSHES] == 1  # moved earlier: not a push
    assert second["_bridge_due_set"] == "2026-12-09"


@pytest.mark.parametrize(
    ("listed", "same"),
    [
        pytest.param(task(modified_at="2026-12-01T10:00:00Z", followers=[{"gid": "9"}]), True, id="own changes only"),
        pytest.param(task(completed=True), False, id="completed"),
        pytest.param(task(assignee={"gid": "7"}), False, id="assigned"),
        pytest.param(task(due_on=None), False, id="due removed"),
        pytest.param(task(memberships=in_section("P2")), False, id="moved"),
        pytest.param(
            task(custom_fields=[{"gid": "f1", "name": "Priority", "enum_value": {"name": "P0"}}]), False, id="priority"
        ),
    ],
)
def test_same_facts(listed: dict[str, Any], same: bool) -> None:
    assert same_facts(task(), listed, project_gid=P) is same
