"""Nags (reminders, triage, the SLA warning, missing fields), their buttons, and what a click did: said on the nag
itself, to the clicker alone, and in Asana.

Every action_id starts with "nag_" (the listener routes by that prefix); the actions block's block_id carries the
task gid, so a click names its task without the bridge remembering anything about the message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bridge.domain.access import Refusal
from bridge.domain.cards import Deadline
from bridge.domain.durations import Span
from bridge.domain.nag_clicks import Action, Decision, Why
from bridge.wording import when
from bridge.wording.kit import Blocks, _button, _date, _day, _mrkdwn_section, _plain_text, _select, escape
from bridge.wording.unfurls import completed_from_slack

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


NAG_TASK_UNKNOWN = (
    "I don't follow that task any more (its channel may have been unlinked), so nothing was changed. "
    "Change it in Asana instead."
)
NAG_NO_DUE = (
    "The task has no due date to push, so nothing was changed. Set one in Asana, or pick a priority to get one "
    "from the SLA."
)
_NAG_LABELS = {
    Action.DONE: "Done",
    Action.SNOOZE: "Snooze 1 day",
    Action.PUSH: "Push due +1 week",
    Action.REASSIGN: "Reassign",
    Action.PRIORITY: "Priority",
}


def nag_not_allowed(user_id: str, project_name: str, why: Refusal, *, team: str | None = None) -> str:
    """Why someone may not act on a task from Slack, and who may, as Asana's project privacy says."""
    project = f"*{escape(project_name)}*"
    if why is Refusal.GUEST:
        reason = f"you are a guest of the Asana workspace, and {project} is not shared with you"
    elif why is Refusal.NOT_IN_TEAM:
        team_name = f"*{escape(team)}*" if team else "its team"
        reason = f"the Asana project {project} is private to {team_name}, and you are not a member of it"
    else:
        reason = f"the Asana project {project} is private, and you are not one of its members"
    return (
        f"<@{user_id}>, {reason}, so nothing was changed. The task's assignee, the person who asked for it, the "
        "triager and those Asana lets into the project can act on it; ask one of them, or to be added in Asana."
    )


def nag_assignee_unknown(user_id: str) -> str:
    return (
        f"I couldn't find <@{user_id}> in Asana: their Slack email matches no Asana user of this workspace, so the "
        "task was not reassigned. Pick someone with an Asana account."
    )


def nag_acted_line(
    decision: Decision,
    *,
    who: str,
    assignee: str | None = None,
    moved_to: str | None = None,
    timezone: str = "UTC",
) -> str:
    """The line under a nag someone acted on (`who` and `assignee` are <@U…> mentions; moments shown to each
    reader in their own timezone, `timezone` the team's for the fallback)."""
    if decision.action is Action.DONE:
        return f"✅ Marked done by {who}."
    if decision.action is Action.SNOOZE:
        until = f", until {when.slack_moment(decision.snooze_until, timezone)}" if decision.snooze_until else ""
        return f"💤 Snoozed for a day by {who}{until}."
    if decision.action is Action.PUSH:
        return f"📅 Due date pushed a week, to {_date(decision.due_on)}, by {who}."
    if decision.action is Action.REASSIGN:
        return f"👤 Reassigned to {assignee or 'someone'} by {who}."
    if decision.action is Action.FIELD and not decision.section:
        return f"🏷️ {escape(decision.field_name or 'Field')} set to {escape(decision.choice or '')} by {who}."
    extra = f"; moved to {escape(moved_to)}" if moved_to else ""
    if decision.due_from_sla:
        extra += f"; due {_date(decision.due_on)} (from the SLA)"
    return f"🚩 {escape(decision.field_name or 'Priority')} set to {escape(decision.choice or '')} by {who}{extra}."


def nag_outdated_line(decision: Decision, *, who: str) -> str:
    """The line under a nag that was out of date when someone clicked it: nothing changed."""
    label = _NAG_LABELS.get(decision.action) or decision.field_name or "a button"
    return f"🤷 {who} clicked {escape(label)}, but nothing changed: {_outdated_reason(decision)}."


def nag_outdated_note(decision: Decision) -> str:
    """What the clicker of an outdated nag is told, privately."""
    return f"This nag was out of date: {_outdated_reason(decision)}. Nothing was changed, and the nag now says so."


def home_outdated(decision: Decision) -> str:
    """What the clicker in the App Home is told when the task moved on since the Home was published."""
    return f"🤷 Nothing was changed: {_outdated_reason(decision)}. Here is how things stand now."


def _outdated_reason(decision: Decision) -> str:
    if decision.why is Why.COMPLETED:
        return "the task was completed in Asana already"
    if decision.why is Why.DUE_MOVED:
        if decision.current:
            return f"its due date moved to {_day(decision.current)} since this reminder"
        return "its due date was removed since this reminder"
    field, value = escape(decision.field_name or "the field"), escape(decision.current or "a value")
    return f"{field} was set to {value} in Asana already"


def nag_unchanged(decision: Decision) -> str:
    """What the clicker is told when the task already is as they asked (the nag stays as it is)."""
    if decision.why is Why.SAME_ASSIGNEE:
        return f"The task is already assigned to {escape(decision.current or 'them')}; nothing changed."
    if decision.why is Why.SAME_OPTION:
        field, value = escape(decision.field_name or "That field"), escape(decision.current or "set so")
        return f"{field} is {value} already; nothing changed."
    if decision.why is Why.NO_DUE:
        return NAG_NO_DUE
    field = escape(decision.field_name) if decision.field_name else "that field"
    return f"That option is not one of {field}'s options in Asana any more, so nothing was changed. Set it in Asana."


def nag_already_handled(outcome: str) -> str:
    if not outcome:
        return "Already handled; nothing changed."
    return f"Already handled, so nothing more was changed: {outcome}"


def nag_comment(decision: Decision, *, who: str, assignee: str | None = None, moved_to: str | None = None) -> str:
    """The Asana comment recording a change made with a nag's button (plain text, `who` is the Slack name)."""
    if decision.action is Action.DONE:
        return completed_from_slack(who)
    if decision.action is Action.SNOOZE:
        return f"Nags snoozed for a day by {who} from Slack"
    if decision.action is Action.PUSH:
        return f"Due date pushed a week to {_date(decision.due_on)} by {who} from Slack"
    if decision.action is Action.REASSIGN:
        return f"Reassigned to {assignee or 'someone'} by {who} from Slack"
    text = f"{decision.field_name or 'Priority'} set to {decision.choice} by {who} from Slack"
    if moved_to:
        text += f"; moved to section {moved_to}"
    if decision.due_from_sla:
        text += f"; due date set to {_date(decision.due_on)} from the SLA"
    return text
