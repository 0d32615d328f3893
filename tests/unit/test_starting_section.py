"""Where a new task starts: in triage, unless it was given a priority (then it is triaged already). Table-driven."""

from __future__ import annotations

import pytest

from bridge.domain.work import Section, starting_section

TRIAGE, P1, LATER = Section("1", "Needs triage"), Section("2", " p1 "), Section("3", "Later")


@pytest.mark.parametrize(
    ("sections", "priority", "expected"),
    [
        ([TRIAGE, P1, LATER], None, "1"),
        ([TRIAGE, P1, LATER], "P1", "2"),  # named like the priority, whatever the case and spaces
        ([TRIAGE, P1, LATER], "P2", "3"),  # no P2 section: the first neither for triage nor another priority
        ([TRIAGE, P1], "P2", "1"),  # nowhere else to go
        ([], "P1", "1"),
    ],
)
def test_starting_section(sections: list[Section], priority: str | None, expected: str) -> None:
    assert starting_section(sections, triage_gid="1", priority=priority, priorities=("P0", "P1", "P2")) == expected
