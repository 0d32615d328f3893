"""Who may undo a /task, and until when: table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.domain.undo import UNDO_WINDOW, UndoRefusal, undo_refusal

MADE = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("made_by", "made_at", "by", "later", "expected"),
    [
        ("U1", MADE, "U1", timedelta(seconds=5), None),
        ("U1", MADE, "U1", UNDO_WINDOW, None),
        ("U1", MADE, "U1", UNDO_WINDOW + timedelta(seconds=1), UndoRefusal.TOO_LATE),
        ("U1", MADE, "U2", timedelta(seconds=5), UndoRefusal.NOT_YOURS),
        (None, MADE, "U2", timedelta(seconds=5), UndoRefusal.NOT_YOURS),  # captured with no requester known
        (None, None, "U1", timedelta(0), UndoRefusal.GONE),
    ],
)
def test_undo_refusal(
    made_by: str | None, made_at: datetime | None, by: str, later: timedelta, expected: UndoRefusal | None
) -> None:
    assert undo_refusal(made_by=made_by, made_at=made_at, by=by, now=MADE + later) == expected
