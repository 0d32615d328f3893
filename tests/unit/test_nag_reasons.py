"""What a nag says for each reason it is due, with its figures (the words live in bridge/wording/nags.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bridge import wording
from bridge.domain.cards import Deadline
from bridge.domain.durations import Span

WED = date(2026, 12, 9)
AT_3PM = datetime(2026, 12, 9, 15, 0)


def when(*, today: bool = True, left: timedelta = timedelta(hours=2), days_late: int = 0) -> Deadline:
    return Deadline(local=AT_3PM, today=today, left=left, days_late=days_late)


@pytest.mark.parametrize(
    ("kind", "stage", "figures", "said"),
    [
        ("reminder", "upcoming", {"due": WED}, "⏰ It is due Wed 09 Dec."),
        ("reminder", "due_today", {"due": WED}, "⏰ It is due today."),
        (
            "reminder",
            "overdue",
            {"due": WED, "deadline": when(days_late=3, left=-timedelta(hours=20))},
            "⚠️ It is overdue: it was due Wed 09 Dec, 3 working days ago.",
        ),
        (
            "reminder",
            "overdue",
            {"due": WED, "deadline": when(days_late=1), "shown": 2},
            "⚠️ It is overdue: it was due Wed 09 Dec, 1 working day ago (reminder 2).",
        ),
        (
            "triage",
            "waiting",
            {"waited": timedelta(hours=5), "since": AT_3PM},
            "🧭 It is waiting for triage for 5h, since Wed 09 Dec 15:00. Please set a priority.",
        ),
        (
            "triage",
            "waiting",
            {"waited": timedelta(hours=20), "waited_days": 2},
            "🧭 It is waiting for triage for 2 working days. Please set a priority.",
        ),
        (
            "first_response",
            "warn",
            {"deadline": when(), "priority": "P1", "target": Span.of(hours=4)},
            "⏱️ SLA at risk: no first response yet; first response due by 15:00 today (P1, 4 working hours).",
        ),
        (
            "first_response",
            "warn",
            {"deadline": when(today=False), "priority": "P2", "target": Span.of(days=1)},
            "⏱️ SLA at risk: no first response yet; first response due by Wed 09 Dec 15:00 (P2, 1 working day).",
        ),
        (
            "first_response",
            "warn",
            {"deadline": when(left=-timedelta(hours=2)), "priority": "P1", "target": Span.of(hours=4)},
            "🚨 SLA missed: no first response yet, and the target (P1, 4 working hours) passed 2h ago.",
        ),
        (
            "first_response",
            "warn",
            {"deadline": when(left=-timedelta(hours=20), days_late=2), "priority": "<P1>"},
            "🚨 SLA missed: no first response yet, and the target (&lt;P1&gt;) passed 2 working days ago.",
        ),
        (
            "missing_fields",
            "missing",
            {"missing": ["Team", "<b>"]},
            "📝 It is missing Team, &lt;b&gt;. Please set them before work begins.",
        ),
    ],
)
def test_each_reason_with_its_figures(kind: str, stage: str, figures: dict[str, object], said: str) -> None:
    assert wording.nag_reason(kind, stage, **figures) == said  # type: ignore[arg-type]


def test_the_nag_names_everyone_once_and_escapes_the_task() -> None:
    about = wording.nag_about(["<@U1>", "<@U2>", "<@U1>"], name="<!here> x", url="https://app.asana.com/0/1/2")
    assert about == "🔔 <@U1>, <@U2>: *<https://app.asana.com/0/1/2|&lt;!here&gt; x>*"
