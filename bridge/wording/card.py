"""A task's card: its one live post in the channel, drawn again from the task's state whatever changed it.

Its buttons are the nag buttons (same action ids, same block_id), so one listener and one service act on both."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bridge.domain.cards import CardFacts, SlaLeft
from bridge.wording import when
from bridge.wording.kit import Blocks, _button, _plain_text, _select, escape, person
from bridge.wording.nags import (
    NAG_ACTIONS_BLOCK,
    NAG_ASSIGN_ME,
    NAG_DONE,
    NAG_MORE,
    NAG_MORE_PUSH,
    NAG_MORE_SNOOZE,
    NAG_PRIORITY,
    NAG_REASSIGN,
)

CARD_BLOCK = "task:"  # + the task gid: the card's section
CARD_THREAD_NOTE = "Tracked in Asana. Replies in this thread become comments on the task."


def task_card(
    facts: CardFacts,
    *,
    assignee: str | None,
    priority_options: list[tuple[str, str]] | None = None,
    in_thread: bool = False,
) -> tuple[str, Blocks]:
    """The card: title linked to Asana, status, assignee, due, priority, SLA and who asked; compact actions while
    open (`assignee` is their Slack user id, when they are in Slack). `in_thread`: the card is the bridge's reply
    to a captured message."""
    name = escape(facts.name) or "Untitled task"
    title = f"<{facts.url}|{name}>" if facts.url else name
    headline = f"✅ ~{title}~" if facts.completed else f"*{title}*"
    status = "✅ Done" if facts.completed else "Open"
    parts = [status]
    if facts.assignee or facts.assignee_name:
        parts.append(f"Assignee: {person(assignee, facts.assignee_name)}")
    elif not facts.completed:
        parts.append("Unassigned")
    if facts.due:
        parts.append(("⚠️ " if facts.overdue else "📅 ") + facts.due)
    if facts.priority:
        parts.append(f"Priority: {escape(facts.priority)}")
    if facts.sla is not None:
        parts.append(_sla(facts.sla))
    if facts.requester:
        parts.append(f"Requested by <@{facts.requester}>")
    text = f"{headline}\n" + " · ".join(parts)
    card: Blocks = [{"type": "section", "block_id": CARD_BLOCK + facts.gid, "text": {"type": "mrkdwn", "text": text}}]
    if in_thread:
        card.append({"type": "context", "elements": [{"type": "mrkdwn", "text": CARD_THREAD_NOTE}]})
    if not facts.completed:
        card.append(_card_actions(facts.gid, priority_options))
    return _plain_text(text), card


def _sla(sla: SlaLeft) -> str:
    target = f"{sla.stage} ({escape(sla.priority)})"
    if sla.left < timedelta(0):
        return f"🔴 SLA: {target} target passed {when.duration(-sla.left, days=False)} ago"
    return f"⏱️ SLA: {target} due in {when.duration(sla.left, days=False)}"


def _card_actions(task_gid: str, priority_options: list[tuple[str, str]] | None) -> dict[str, Any]:
    elements: Blocks = [
        _button(NAG_DONE, "Done", task_gid, style="primary"),
        _button(NAG_ASSIGN_ME, "Assign to me", task_gid),
        {"type": "users_select", "action_id": NAG_REASSIGN, "placeholder": {"type": "plain_text", "text": "Reassign"}},
    ]
    if priority_options:
        elements.append(_select(NAG_PRIORITY, "Priority", priority_options))
    elements.append(
        {
            "type": "overflow",
            "action_id": NAG_MORE,
            "options": [
                {"text": {"type": "plain_text", "text": "Snooze nags 1 day"}, "value": NAG_MORE_SNOOZE},
                {"text": {"type": "plain_text", "text": "Push due +1 week"}, "value": NAG_MORE_PUSH},
            ],
        }
    )
    return {"type": "actions", "block_id": NAG_ACTIONS_BLOCK + task_gid, "elements": elements}
