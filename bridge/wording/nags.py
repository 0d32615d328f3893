"""Nags (reminders, triage, the SLA warning, missing fields) and their buttons; what a click did is in nag_clicks.

Every action_id starts with "nag_" (the listener routes by that prefix); the actions block's block_id carries the
task gid, so a click names its task without the bridge remembering anything about the message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bridge.domain.cards import Deadline
from bridge.domain.durations import Span
from bridge.wording import when
from bridge.wording.kit import Blocks, _button, _date, _mrkdwn_section, _plain_text, _select, escape

NAG_DONE = "nag_done"
NAG_SNOOZE = "nag_snooze"
NAG_PUSH = "nag_push"
NAG_REASSIGN = "nag_reassign"
NAG_PRIORITY = "nag_priority"
NAG_ASSIGN_ME = "nag_assign_me"  # the card's "Assign to me"
NAG_MORE = "nag_more"  # the card's overflow menu; its options' values say which
NAG_MORE_SNOOZE, NAG_MORE_PUSH = "snooze", "push"
NAG_FIELD = "nag_field_"  # + the custom field gid: a select of that enum field's options
NAG_ACTIONS_BLOCK = "nag_actions:"  # + the task gid
NAG_ACTION_PATTERN = r"^nag_"


NAG_ABOUT_BLOCK = "nag_about"  # the nag's first line: whom it is for and which task
NAG_REASONS_BLOCK = "nag_reasons"  # why it is due, and what it asks: replaced by what was done once someone acts
NAG_DONE_BLOCK = "nag_outcome"  # what was done with it, one line per action


def nag_post(
    headline: str,
    *,
    task_gid: str,
    priority_options: list[tuple[str, str]] | None = None,
    field_selects: Sequence[tuple[str, str, list[tuple[str, str]]]] = (),
    reasons: Sequence[str] = (),
) -> tuple[str, Blocks]:
    """A nag with its buttons: Done, Snooze 1 day, Push due +1 week, Reassign, Priority (options: gid, name).
    `headline` says whom it is for and which task; `reasons` (one line each) why it is due and what it asks."""
    body: Blocks = [{"type": "section", "block_id": NAG_ABOUT_BLOCK, "text": {"type": "mrkdwn", "text": headline}}]
    if reasons:
        text = "\n".join(reasons)[:3000]
        body.append({"type": "section", "block_id": NAG_REASONS_BLOCK, "text": {"type": "mrkdwn", "text": text}})
    body.append(_nag_actions(task_gid, priority_options, field_selects))
    return _plain_text("\n".join([headline, *reasons])), body


def nag_after(message: Sequence[dict[str, Any]], line: str, *, keep_actions: bool) -> tuple[str, Blocks]:
    """A nag once someone acted on it: what it was about, what was done and by whom instead of what it asked, and
    its buttons still there unless the task is done (so a new assignee can still click Done). `message` is the
    nag's blocks as Slack sent them with the click."""
    about = next((b for b in message if b.get("block_id") == NAG_ABOUT_BLOCK), None)
    if about is None:  # a nag posted before nags had named blocks: its first section says it all
        about = next((b for b in message if b.get("type") == "section"), _mrkdwn_section(""))
    done = next((b for b in message if b.get("block_id") == NAG_DONE_BLOCK), None)
    lines = [str(e.get("text") or "") for e in (done or {}).get("elements") or ()][-8:]  # Slack allows 10
    out: Blocks = [
        about,
        {
            "type": "context",
            "block_id": NAG_DONE_BLOCK,
            "elements": [{"type": "mrkdwn", "text": text} for text in [*lines, line]],
        },
    ]
    actions = next((b for b in message if str(b.get("block_id") or "").startswith(NAG_ACTIONS_BLOCK)), None)
    if keep_actions and actions is not None:
        out.append(actions)
    return _plain_text(f"{(about.get('text') or {}).get('text', '')}\n{line}"), out


def _nag_actions(
    task_gid: str,
    priority_options: list[tuple[str, str]] | None,
    field_selects: Sequence[tuple[str, str, list[tuple[str, str]]]] = (),
) -> dict[str, Any]:
    """The buttons of a nag (and of a task in the App Home): the block_id names the task they act on."""
    elements: Blocks = [
        _button(NAG_DONE, "Done", task_gid, style="primary"),
        _button(NAG_SNOOZE, "Snooze 1 day", task_gid),
        _button(NAG_PUSH, "Push due +1 week", task_gid),
        {
            "type": "users_select",
            "action_id": NAG_REASSIGN,
            "placeholder": {"type": "plain_text", "text": "Reassign"},
        },
    ]
    if priority_options:
        elements.append(_select(NAG_PRIORITY, "Priority", priority_options))
    for field_gid, field_name, options in field_selects:
        elements.append(_select(NAG_FIELD + field_gid, field_name[:150], options))
    return {"type": "actions", "block_id": NAG_ACTIONS_BLOCK + task_gid, "elements": elements[:25]}


def nag_outcome(headline: str, outcome: str) -> tuple[str, Blocks]:
    """The nag once someone acted on it: what it said, what was done and by whom; no buttons left to click."""
    return _plain_text(f"{headline}\n{outcome}"), [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": outcome}]},
    ]


def nag_about(mentions: Sequence[str], *, name: str, url: str) -> str:
    """A nag's first line: whom it is for (ready <@U…> mentions or escaped names) and which task."""
    who = f"{', '.join(dict.fromkeys(mentions))}: " if mentions else ""
    title = f"*<{url}|{escape(name)}>*" if url else f"*{escape(name)}*"
    return f"🔔 {who}{title}"


def nag_reason(
    kind: str,
    stage: str,
    *,
    due: date | None = None,
    deadline: Deadline | None = None,
    shown: int = 1,
    priority: str | None = None,
    target: Span | None = None,
    waited: timedelta | None = None,
    waited_days: int = 0,
    since: datetime | None = None,
    missing: Sequence[str] = (),
) -> str:
    """One reason a nag is due, with its figures (kind and stage as in domain.nags): `deadline` is the due moment of a
    reminder or the first-response target, `shown` the how-manyth reminder of its stage people see; a task waits in
    triage `waited` (working time) over `waited_days` working days."""
    again = f" (reminder {shown})" if shown > 1 else ""
    day = _date(due) if due else "its due date"
    if kind == "reminder" and stage == "upcoming":
        return f"⏰ It is due {day}."
    if kind == "reminder" and stage == "due_today":
        return "⏰ It is due today."
    if kind == "reminder":
        late = f", {_days_ago(deadline.days_late)}" if deadline is not None and deadline.days_late else ""
        return f"⚠️ It is overdue: it was due {day}{late}{again}."
    if kind == "triage":
        waiting = f" for {when.duration(waited, days=False)}" if waited is not None else ""
        if waited_days:
            waiting = f" for {waited_days} working day{'' if waited_days == 1 else 's'}"
        entered = f", since {since:%a %d %b %H:%M}" if since is not None else ""
        return f"🧭 It is waiting for triage{waiting}{entered}{again}. Please set a priority."
    if kind == "first_response":
        figures = ", ".join(
            part for part in (escape(priority) if priority else "", when.span(target) if target else "") if part
        )
        figures = f" ({figures})" if figures else ""
        if deadline is None:
            return f"⏱️ SLA at risk: no first response yet{figures}."
        if deadline.left < timedelta(0):
            ago = (
                _days_ago(deadline.days_late)
                if deadline.days_late
                else f"{when.duration(-deadline.left, days=False)} ago"
            )
            return f"🚨 SLA missed: no first response yet, and the target{figures} passed {ago}."
        by = f"{deadline.local:%H:%M} today" if deadline.today else f"{deadline.local:%a %d %b %H:%M}"
        return f"⏱️ SLA at risk: no first response yet; first response due by {by}{figures}."
    if kind == "missing_fields":
        fields = ", ".join(escape(f) for f in missing)
        return f"📝 It is missing {fields}{again}. Please set them before work begins."
    return "🔔 It needs attention."


def _days_ago(days: int) -> str:
    return f"{days} working day{'' if days == 1 else 's'} ago"


def sla_warning_comment(priority: str | None) -> str:
    """The Asana comment left when a task nears its first-response target without an answer."""
    target = f" {priority}" if priority else ""
    return f"SLA warning: no first response yet; this task is close to its{target} first-response target."
