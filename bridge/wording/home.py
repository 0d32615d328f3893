"""The App Home: the person's open tasks with the nag buttons, the DM switch, and the DM itself."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from bridge.domain.home import Group, HomeList
from bridge.domain.report import OpenItem, Status
from bridge.domain.report_tasks import channel_of
from bridge.domain.work import Task
from bridge.wording import when
from bridge.wording.kit import Blocks, _date, _day, _mrkdwn_section, _title, escape, first_line
from bridge.wording.nags import _nag_actions

HOME_ASSIGNMENT_DMS = "home_assignment_dms"
HOME_NO_ASANA_USER = (
    "I can't find your Asana account: your Slack email matches nobody in the Asana workspace. "
    "Ask your Asana admin to invite that email, then try again."
)


HOME_EMPTY = "🎉 Nothing open in Asana is assigned to you. Enjoy the quiet."
HOME_NOT_LINKED = "No channel of this workspace is linked to an Asana project yet, so there are no tasks to show."
_HOME_GROUPS = {
    Group.AT_RISK: "🚨 SLAs at risk",
    Group.DUE_SOON: "📅 Due soon",
    Group.OTHER: "🗂️ Your other open tasks",
}
_HOME_STATUS = {
    Status.BREACHED: ":red_circle: SLA breached",
    Status.AT_RISK: ":large_yellow_circle: SLA at risk",
    Status.ON_TRACK: ":large_green_circle: SLA on track",
    Status.NO_SLA: ":white_circle: No SLA",
}


def home_view(
    *,
    assignment_dms: bool,
    note: str | None = None,
    listing: HomeList | None = None,
    priorities: Mapping[str, list[tuple[str, str]]] | None = None,
    linked: bool = True,
) -> dict[str, Any]:
    """The App Home tab: the person's open tasks with the nag buttons, then the DM switch. `note` is mrkdwn made
    here (what a click just did, or why it did nothing); `priorities` are each link's priority options; `linked`
    is false when no channel of the workspace is linked (so there is nothing to list)."""
    state = "on" if assignment_dms else "off"
    switch: dict[str, Any] = {
        "type": "button",
        "action_id": HOME_ASSIGNMENT_DMS,
        "text": {"type": "plain_text", "text": "Turn off" if assignment_dms else "Turn on"},
        "value": "off" if assignment_dms else "on",
    }
    if not assignment_dms:
        switch["style"] = "primary"
    view_blocks: Blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Asana bridge"}}]
    if note:
        view_blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note[:3000]}]})
    if listing is not None:
        view_blocks.extend(_home_tasks(listing, priorities or {}))
    elif not linked:
        view_blocks.append(_mrkdwn_section(HOME_NOT_LINKED))
    view_blocks += [
        {"type": "divider"},
        {
            "type": "section",
            "block_id": "home_assignment_dms",
            "text": {
                "type": "mrkdwn",
                "text": f"*Direct message when a task is assigned to me in Asana:* {state}",
            },
            "accessory": switch,
        },
    ]
    return {"type": "home", "blocks": view_blocks}


def _home_tasks(listing: HomeList, priorities: Mapping[str, list[tuple[str, str]]]) -> Blocks:
    """The person's open tasks, a heading per group, each task with its facts and the nag buttons."""
    if not listing.total:
        return [_mrkdwn_section(HOME_EMPTY)]
    counts = listing.counts
    open_word = "open task" if listing.total == 1 else "open tasks"
    summary = f"You have *{listing.total}* {open_word} in Asana: *{counts[Group.AT_RISK]}* with an SLA at risk"
    summary += f" or breached, *{counts[Group.DUE_SOON]}* more due soon."
    out: Blocks = [_mrkdwn_section(summary)]
    for group, items in listing.groups:
        out.append({"type": "header", "text": {"type": "plain_text", "text": _HOME_GROUPS[group]}})
        for item in items:
            out.append(_mrkdwn_section(_home_task_line(item, listing.today, listing.workday)))
            out.append(_nag_actions(item.gid, priorities.get(item.link)))
    if listing.more:
        more = f"…and {listing.more} more open task{'' if listing.more == 1 else 's'}, less urgent; see them in Asana."
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return out


def _home_task_line(item: OpenItem, today: date, workday: timedelta | None) -> str:
    """The task's name linked to Asana, then "<#C1> · Due today · P1 · 🔴 SLA breached, 1 working day 3h over"."""
    name = escape(first_line(item.name)) or "Untitled task"
    title = f"*<{item.permalink_url}|{name}>*" if item.permalink_url else f"*{name}*"
    sla = _HOME_STATUS[item.status]
    if item.left is not None:
        left = when.working(abs(item.left), workday=workday)
        sla += f", {left} over" if item.left < timedelta(0) else f", {left} left"
    facts = [f"<#{channel_of(item.link)}>", _home_due(item.due_on, today), escape(item.priority or "No priority"), sla]
    return f"{title}\n" + " · ".join(facts)


def _home_due(due: date | None, today: date) -> str:
    if due is None:
        return "No due date"
    if due < today:
        return f"Overdue (due {_date(due)})"
    if due == today:
        return "Due today"
    if due == today + timedelta(days=1):
        return "Due tomorrow"
    return f"Due {_date(due)}"


def assignment_dm(task: Task, *, channel: str, thread_url: str | None) -> tuple[str, Blocks]:
    """The DM to someone a task was just assigned to in Asana (they asked for it in the App Home)."""
    where = f"<{thread_url}|its thread> in <#{channel}>" if thread_url else f"<#{channel}>"
    due = f" · due {_day(task.due_on.isoformat())}" if task.due_on else ""
    text = f"👤 You were assigned {_title(task)} in Asana{due} ({where})."
    return f"You were assigned {escape(task.name)} in Asana", [_mrkdwn_section(text)]
