"""What a click on a nag (or a task's buttons in the App Home) did, or why it did nothing: said on the nag, to the
clicker alone, and in Asana's comment."""

from __future__ import annotations

from bridge.domain.access import Refusal
from bridge.domain.nag_clicks import Action, Decision, Why
from bridge.wording import when
from bridge.wording.kit import _date, _day, escape
from bridge.wording.unfurls import completed_from_slack

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
