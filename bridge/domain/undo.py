"""Whether a /task may be undone: by the person who made it, for a few minutes after. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

UNDO_WINDOW = timedelta(minutes=5)


class UndoRefusal(Enum):
    GONE = "gone"  # undone already, or never followed by the bridge
    NOT_YOURS = "not_yours"
    TOO_LATE = "too_late"


def undo_refusal(
    *, made_by: str | None, made_at: datetime | None, by: str, now: datetime, window: timedelta = UNDO_WINDOW
) -> UndoRefusal | None:
    """Why `by` may not undo a task made by `made_by` at `made_at` (None of either: no such task), or None."""
    if made_at is None:
        return UndoRefusal.GONE
    if made_by != by:
        return UndoRefusal.NOT_YOURS
    if now - made_at > window:
        return UndoRefusal.TOO_LATE
    return None
