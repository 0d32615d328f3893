"""Every word the bridge says in Slack, and the Block Kit it says it with. One place for wording."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from bridge.domain.durations import describe_duration
from bridge.domain.home import Group, HomeList
from bridge.domain.model import Link
from bridge.domain.nag_clicks import Action, Decision, Why
from bridge.domain.relay import Change
from bridge.domain.report import OpenItem, Report, Status
from bridge.domain.report_tasks import channel_of
from bridge.domain.work import Task

Blocks = list[dict[str, Any]]

HELP = (
    "*Asana bridge*\n"
    "• `/asana link <project link or gid>`: link this channel to an Asana project\n"
    "• `/asana unlink`: stop linking this channel\n"
    "• `/asana status`: show this channel's link and webhook health\n"
    "• `/asana capture off|all|reaction`: turn every new message (or each :ticket: reaction) into a task\n"
    "• `/asana relay all|quiet|<kinds>`: which Asana changes are told in task threads\n"
    "• `/asana routing`: who new tasks are routed to, their open tasks, and who is out\n"
    "• `/asana report`: this channel's SLA summary, with a link to the full report\n"
    "• `/task <title> [@person] [due:<when>] [p0|p1|p2|p3]`: create a task in the linked project\n"
    "   due words: today, tomorrow, fri, next week, in 3 days, 2026-12-03"
)
NOT_LINKED = "This channel isn't linked to an Asana project yet. Link it with `/asana link <project link>`."
WORKING_ON_TASK = "Creating the task in Asana…"
WORKING_ON_LINK = "Linking this channel to Asana…"
UNKNOWN_SUBCOMMAND = "I don't know `/asana {word}`. " + HELP
ASANA_BUSY = "Asana is not answering right now ({reason}). Nothing was changed; please try again in a minute."
ACKNOWLEDGE_SUBTASK = "Acknowledge"
UNTITLED = "Question from Slack"
ASANA_RETRYING = (
    "Asana is not answering right now ({reason}). I'll keep trying in the background and tell you when the task lands."
)
CAPTURE_GAVE_UP = "I could not reach Asana for a while, so “{title}” was not created. Please try again later."
INTERNAL_ERROR = "Something went wrong on my side and nothing was changed. The operator can find details in the logs."


def escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped so that user text cannot become a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def project_not_visible(ref: str) -> str:
    return (
        f"I can't see the Asana project {ref}. Check the link, and share the project with the bridge's "
        "Asana user (or make it public to its team), then try again."
    )


def wrong_workspace(project_name: str) -> str:
    return f"“{escape(project_name)}” is in another Asana workspace than the bridge's; link a project of its workspace."


def linked(link: Link, *, webhook: str, triage_created: bool) -> str:
    lines = [f"Linked this channel to the Asana project *{escape(link.project_name)}*."]
    if link.triage_section_gid:
        verb = "created" if triage_created else "found"
        lines.append(f"• Triage section: {verb}.")
    lines.append("• Priority field: found." if link.priority_field_gid else "• Priority field: none on this project.")
    lines.append(f"• Updates from Asana: {webhook}")
    lines.append("Create tasks here with `/task <title>`.")
    return "\n".join(lines)


WEBHOOK_ACTIVE = "webhook registered, changes appear in each task's thread."
WEBHOOK_POLLING = "polled from Asana's Events API (no public URL is configured)."


def webhook_failed(reason: str) -> str:
    return f"the webhook could not be registered ({reason}); falling back to polling Asana's Events API."


def unlinked(project_name: str) -> str:
    return f"Unlinked this channel from *{escape(project_name)}*. Tasks stay in Asana."


def status(link: Link, *, webhook: str, pending: int = 0, parked: int = 0) -> str:
    text = (
        f"This channel is linked to *{escape(link.project_name)}* (gid {link.project_gid}).\n"
        f"• Capture: {link.capture_mode.value}\n"
        f"• Updates from Asana: {webhook}\n"
        f"• Waiting to be relayed: {pending}"
    )
    if parked:
        text += f"\n• Set aside after repeated failures: {parked} (the operator can see why in the logs and /metrics)"
    return text


def unknown_person(user_id: str) -> str:
    return (
        f"I couldn't find <@{user_id}> in Asana: their Slack email matches no Asana user of this workspace. "
        "Nothing was created; try again without them or ask them to join Asana."
    )


def task_message(
    task: Task, *, requester: str | None, assignee: str | None, priority: str | None
) -> tuple[str, Blocks]:
    """The channel post that stands for a task; its thread is the task's thread."""
    facts = []
    if assignee:
        facts.append(f"Assignee: <@{assignee}>" if assignee.startswith(("U", "W")) else f"Assignee: {escape(assignee)}")
    if task.due_on:
        facts.append(f"Due: {task.due_on.strftime('%a %d %b %Y')}")
    if priority:
        facts.append(f"Priority: {priority}")
    if requester:
        facts.append(f"Requested by <@{requester}>")
    return f"New task: {task.name}", _task_post(task, f"*{_title(task)}*", facts)


def _title(task: Task) -> str:
    """A task's name, linked to it in Asana when the link is known."""
    return f"<{task.permalink_url}|{escape(task.name)}>" if task.permalink_url else escape(task.name)


def _task_post(task: Task, headline: str, facts: list[str]) -> Blocks:
    text = headline + ("\n" + " · ".join(facts) if facts else "")
    return [{"type": "section", "block_id": f"task:{task.gid}", "text": {"type": "mrkdwn", "text": text}}]


def command_notes(requester: str) -> str:
    return f"Created from Slack with /task by Slack user {requester}."


def message_notes(text: str, permalink: str | None) -> str:
    """A captured message's task description: its whole text and the way back to Slack."""
    plain = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return f"{plain}\n\nFrom Slack: {permalink}" if permalink else plain


def first_line(text: str, limit: int = 200) -> str:
    """A message's first line as a task title (Asana allows long names; people read short ones)."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def unknown_priority(priority: str) -> str:
    return f"The project's Priority field has no option {escape(priority)}; use p0, p1, p2 or p3."


def captured_reply(task: Task, *, requester: str | None) -> tuple[str, Blocks]:
    """The reply in a captured message's thread: the acknowledgement that it is tracked."""
    who = f"<@{requester}>, " if requester else ""
    text = f"{who}this is tracked in Asana: <{task.permalink_url}|{escape(task.name)}>. Replies here become comments."
    return f"Tracked in Asana: {task.name}", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def already_captured(permalink_url: str | None) -> str:
    if permalink_url:
        return f"That message is already a task: {permalink_url}"
    return "That message is already being turned into a task."


def task_landed(task: Task) -> str:
    return f"Your task landed in Asana after all: <{task.permalink_url}|{escape(task.name)}>."


def capture_mode_set(mode: str, reaction: str) -> str:
    if mode == "all":
        return "Every new message in this channel now becomes an Asana task."
    if mode == "reaction":
        return f"A :{reaction}: reaction on a message in this channel now turns it into an Asana task."
    return "Messages in this channel are no longer captured automatically."


CAPTURE_USAGE = "Usage: `/asana capture off`, `/asana capture all` or `/asana capture reaction`."


def replace_link_prompt(current: str, new_ref: str) -> tuple[str, Blocks]:
    text = f"This channel is linked to *{escape(current)}*. Replace that link with {escape(new_ref)}?"
    return text, [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": "link_replace",
            "elements": [
                {
                    "type": "button",
                    "action_id": "link_replace_confirm",
                    "text": {"type": "plain_text", "text": "Replace"},
                    "style": "danger",
                    "value": new_ref[:2000],
                },
                {
                    "type": "button",
                    "action_id": "link_replace_cancel",
                    "text": {"type": "plain_text", "text": "Keep the current link"},
                    "value": "cancel",
                },
            ],
        },
    ]


LINK_KEPT = "Kept the current link."
LINK_REPLACED = "Replaced the link."

# ---- the "Create Asana task" message shortcut ------------------------------------------------------------------

SHORTCUT_CALLBACK = "create_task"
TASK_MODAL_CALLBACK = "create_task_modal"
FIELD_TITLE, FIELD_NOTES, FIELD_ASSIGNEE, FIELD_DUE, FIELD_PRIORITY, FIELD_PROJECT = (
    "title",
    "notes",
    "assignee",
    "due",
    "priority",
    "project",
)
TITLE_REQUIRED = "Give the task a title."
DUE_IN_PAST = "Pick today or a later day."
NO_LINKED_PROJECT = "Link a channel to an Asana project first: `/asana link <project link>`."


def task_modal(
    *, title: str, notes: str, projects: list[tuple[str, str]], project: str | None, metadata: str
) -> dict[str, Any]:
    """The modal the message shortcut opens, prefilled from the message."""

    def option(text: str, value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}

    project_options = [option(name, gid) for gid, name in projects[:100]]
    initial = next((o for o in project_options if o["value"] == project), project_options[0] if projects else None)
    project_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": FIELD_PROJECT,
        "options": project_options,
    }
    if initial:
        project_select["initial_option"] = initial
    return {
        "type": "modal",
        "callback_id": TASK_MODAL_CALLBACK,
        "title": {"type": "plain_text", "text": "Create Asana task"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata,
        "blocks": [
            {
                "type": "input",
                "block_id": FIELD_TITLE,
                "label": {"type": "plain_text", "text": "Title"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD_TITLE,
                    "initial_value": title[:1024],
                    "max_length": 1024,
                },
            },
            {
                "type": "input",
                "block_id": FIELD_NOTES,
                "optional": True,
                "label": {"type": "plain_text", "text": "Description"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD_NOTES,
                    "multiline": True,
                    "initial_value": notes[:3000],
                },
            },
            {
                "type": "input",
                "block_id": FIELD_PROJECT,
                "label": {"type": "plain_text", "text": "Project"},
                "element": project_select,
            },
            {
                "type": "input",
                "block_id": FIELD_ASSIGNEE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Assignee"},
                "element": {"type": "users_select", "action_id": FIELD_ASSIGNEE},
            },
            {
                "type": "input",
                "block_id": FIELD_DUE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Due date"},
                "element": {"type": "datepicker", "action_id": FIELD_DUE},
            },
            {
                "type": "input",
                "block_id": FIELD_PRIORITY,
                "optional": True,
                "label": {"type": "plain_text", "text": "Priority"},
                "element": {
                    "type": "static_select",
                    "action_id": FIELD_PRIORITY,
                    "options": [option(p, p) for p in ("P0", "P1", "P2", "P3")],
                },
            },
        ],
    }


def no_link_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Create Asana task"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": NO_LINKED_PROJECT}}],
    }


# ---- unfurls: a pasted Asana task link previewed, with Done and Assign-to-me buttons ------------------------------

UNFURL_DONE = "unfurl_done"
UNFURL_ASSIGN_ME = "unfurl_assign_me"
UNFURL_TASK_GONE = "I can't see that task in Asana any more (deleted, or made private), so nothing was changed."
UNFURL_NOT_ALLOWED = (
    "Asana didn't let the bridge change that task (its Asana user may only be allowed to comment there), "
    "so nothing was changed. Change it in Asana instead."
)


def task_unfurl(task: Task, *, priority: str | None, url: str) -> Blocks:
    """The preview under a pasted task link: the name linked to the task, its state, and two buttons."""
    name = escape(first_line(task.name)) or "Untitled task"
    facts = [
        ("Status", "✅ Completed" if task.completed else "Open"),
        ("Assignee", escape(task.assignee_name) if task.assignee_name else "Unassigned"),
        ("Due", task.due_on.strftime("%a %d %b %Y") if task.due_on else "No due date"),
        ("Priority", escape(priority) if priority else "None"),
    ]
    buttons: Blocks = []
    if not task.completed:  # the unfurl cannot be edited later, so a completed task simply offers no Done
        buttons.append(
            {
                "type": "button",
                "action_id": UNFURL_DONE,
                "text": {"type": "plain_text", "text": "Done"},
                "style": "primary",
                "value": task.gid,
            }
        )
    buttons.append(
        {
            "type": "button",
            "action_id": UNFURL_ASSIGN_ME,
            "text": {"type": "plain_text", "text": "Assign to me"},
            "value": task.gid,
        }
    )
    return [
        {
            "type": "section",
            "block_id": f"unfurl:{task.gid}",
            "text": {"type": "mrkdwn", "text": f"*<{task.permalink_url or url}|{name}>*"},
            "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in facts],
        },
        {"type": "actions", "block_id": f"unfurl_actions:{task.gid}", "elements": buttons},
    ]


def unfurl_unmapped(user_id: str) -> str:
    return (
        f"<@{user_id}>, I can't tell who you are in Asana: the email of your Slack profile matches no user of the "
        "bridge's Asana workspace, so nothing was changed. Ask an Asana admin to invite that email (or put your "
        "Asana email on your Slack profile), then click again."
    )


def _task_link(task: Task) -> str:
    name = escape(first_line(task.name)) or "Untitled task"
    return f"<{task.permalink_url}|{name}>" if task.permalink_url else f"“{name}”"


def unfurl_completed(task: Task) -> str:
    return f"✅ Marked {_task_link(task)} done in Asana."


def unfurl_already_completed(task: Task) -> str:
    return f"{_task_link(task)} was already completed in Asana; nothing changed."


def unfurl_assigned(task: Task) -> str:
    return f"👤 {_task_link(task)} is now assigned to you in Asana."


def unfurl_already_assigned(task: Task) -> str:
    return f"{_task_link(task)} is already assigned to you in Asana; nothing changed."


def completed_from_slack(who: str) -> str:
    """The Asana comment that records a completion made with a Slack button (plain text: Asana shows it as is)."""
    return f"Completed by {who} from Slack"


def assigned_from_slack(assignee: str, who: str) -> str:
    """`assignee` is the person's Asana name, `who` their Slack name: both sides can tell who it was."""
    return f"Assigned to {assignee} by {who} from Slack"


# ---- relay: Asana changes told in the task's thread ------------------------------------------------------------


def change_line(change: Change) -> str:
    """One line per change, e.g. "✅ completed by Ana" or "📅 due moved to Fri 05 Dec (was Wed 03 Dec; 2nd push)"."""
    if change.kind == "completed":
        return "✅ completed" + (f" by {escape(change.by)}" if change.by else "")
    if change.kind == "reopened":
        return "↩️ reopened"
    if change.kind == "assigned":
        return f"👤 assigned to {escape(change.value or 'someone')}"
    if change.kind == "unassigned":
        return "👤 unassigned"
    if change.kind == "due":
        if not change.value:
            return "📅 due date removed"
        text = f"📅 due {'moved to' if change.previous else 'set to'} {_day(change.value)}"
        if change.previous:
            pushes = f"; {_ordinal(change.count)} push" if change.count else ""
            text += f" (was {_day(change.previous)}{pushes})"
        return text
    if change.kind == "priority":
        return f"🚩 priority {escape(change.value or 'cleared')}" + (
            f" (was {escape(change.previous)})" if change.previous else ""
        )
    if change.kind == "section":
        return f"🗂️ moved to {escape(change.value or '')}"
    if change.kind == "renamed":
        return f"✏️ renamed to “{escape(change.value or '')}”"
    return escape(change.kind)


def sla_due_line(due: date, priority: str | None) -> str:
    by = f"the {escape(priority)} SLA" if priority else "the SLA"
    return f"📅 due set to {due.strftime('%a %d %b')} by {by}"


def comment_line(author: str | None, text: str) -> str:
    body = escape(text if len(text) <= 1500 else text[:1499] + "…")
    return f"💬 {escape(author or 'Someone')}: {body}"


TASK_DELETED_LINE = "🗑️ the task was deleted in Asana"


def subtask_added_line(task: Task) -> str:
    who = f" for {escape(task.assignee_name)}" if task.assignee_name else ""
    return f"➕ subtask “{escape(task.name)}” added{who}"


def subtask_line(name: str, line: str) -> str:
    """A change on a subtask, told in the parent's thread: "↳ subtask “Docs”: ✅ completed by Ana"."""
    return f"↳ subtask “{escape(name)}”: {line}"


def relay_message(lines: list[str]) -> tuple[str, Blocks]:
    text = "\n".join(lines)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def root_message(task: Task, *, completed: bool, requester: str | None = None) -> tuple[str, Blocks]:
    """The task's channel post, kept up to date in place (✅ and strike-through once done), facts from Asana."""
    facts = []
    if task.assignee_name:
        facts.append(f"Assignee: {escape(task.assignee_name)}")
    if task.due_on:
        facts.append(f"Due: {task.due_on.strftime('%a %d %b %Y')}")
    if requester:
        facts.append(f"Requested by <@{requester}>")
    headline = f"✅ ~{_title(task)}~" if completed else f"*{_title(task)}*"
    return ("Done: " if completed else "") + task.name, _task_post(task, headline, facts)


def new_asana_task(task: Task) -> tuple[str, Blocks]:
    facts = [f"Assignee: {escape(task.assignee_name)}"] if task.assignee_name else []
    return f"New task in Asana: {task.name}", _task_post(task, f"🆕 *{_title(task)}* (created in Asana)", facts)


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%a %d %b")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def webhook_failing(project_name: str) -> str:
    return (
        f"⚠️ Asana reports that it could not deliver updates of *{escape(project_name)}* to the bridge "
        "(its webhook's deliveries are failing). Meanwhile the bridge is filling the gap from Asana's Events API, "
        "so updates still reach their threads, a few minutes late. If the failures go on for 24 hours Asana "
        "deletes the webhook, and the bridge registers a new one."
    )


def relay_setting(link: Link) -> str:
    if link.quiet:
        return "Quiet: Asana changes only update each task's post; nothing is said in the threads."
    if link.relay_kinds is None:
        return "Every kind of Asana change is told in the task's thread."
    return "Told in task threads: " + ", ".join(sorted(link.relay_kinds)) + "."


def relay_usage(problem: str) -> str:
    return f"`/asana relay`: {problem}. Example: `/asana relay completed comments due`."


# The App Home and the DMs it lets people ask for.

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
            out.append(_mrkdwn_section(_home_task_line(item, listing.today)))
            out.append(_nag_actions(item.gid, priorities.get(item.link)))
    if listing.more:
        more = f"…and {listing.more} more open task{'' if listing.more == 1 else 's'}, less urgent; see them in Asana."
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return out


def _home_task_line(item: OpenItem, today: date) -> str:
    """The task's name linked to Asana, then "<#C1> · Due today · P1 · 🔴 SLA breached, 3h over"."""
    name = escape(first_line(item.name)) or "Untitled task"
    title = f"*<{item.permalink_url}|{name}>*" if item.permalink_url else f"*{name}*"
    sla = _HOME_STATUS[item.status]
    if item.left is not None:
        left = describe_duration(abs(item.left), days=False)
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


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def assignment_dm(task: Task, *, channel: str, thread_url: str | None) -> tuple[str, Blocks]:
    """The DM to someone a task was just assigned to in Asana (they asked for it in the App Home)."""
    where = f"<{thread_url}|its thread> in <#{channel}>" if thread_url else f"<#{channel}>"
    due = f" · due {_day(task.due_on.isoformat())}" if task.due_on else ""
    text = f"👤 You were assigned {_title(task)} in Asana{due} ({where})."
    return f"You were assigned {task.name} in Asana", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


# Nags: reminders, triage, the first-response warning and missing fields, each with buttons that act on the task.
# Every action_id starts with "nag_" (the listener routes by that prefix); the actions block's block_id carries the
# task gid, so a click names its task without the bridge remembering anything about the message.

NAG_DONE = "nag_done"
NAG_SNOOZE = "nag_snooze"
NAG_PUSH = "nag_push"
NAG_REASSIGN = "nag_reassign"
NAG_PRIORITY = "nag_priority"
NAG_FIELD = "nag_field_"  # + the custom field gid: a select of that enum field's options
NAG_ACTIONS_BLOCK = "nag_actions:"  # + the task gid
NAG_ACTION_PATTERN = r"^nag_"


def nag_post(
    headline: str,
    *,
    task_gid: str,
    priority_options: list[tuple[str, str]] | None = None,
    field_selects: Sequence[tuple[str, str, list[tuple[str, str]]]] = (),
) -> tuple[str, Blocks]:
    """A nag with its buttons: Done, Snooze 1 day, Push due +1 week, Reassign, Priority (options: gid, name)."""
    body: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        _nag_actions(task_gid, priority_options, field_selects),
    ]
    return _plain_text(headline), body


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


def _button(action_id: str, label: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _select(action_id: str, placeholder: str, options: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": {"type": "plain_text", "text": placeholder},
        "options": [{"text": {"type": "plain_text", "text": name[:75]}, "value": gid} for gid, name in options[:100]],
    }


def _plain_text(mrkdwn: str) -> str:
    """The notification text of a post whose blocks carry the formatting."""
    return mrkdwn.replace("*", "")


def nag_headline(
    kind: str,
    stage: str,
    *,
    name: str,
    url: str,
    mention: str | None,
    due: date | None = None,
    count: int = 1,
    missing: Sequence[str] = (),
    priority: str | None = None,
) -> str:
    """What a nag says (kind and stage as in domain.nags); `mention` is a ready <@U…> or a plain name."""
    who = f"{mention}: " if mention else ""
    title = f"*<{url}|{escape(name)}>*" if url else f"*{escape(name)}*"
    day = due.strftime("%a %d %b") if due else "its due date"
    if kind == "reminder" and stage == "upcoming":
        return f"⏰ {who}{title} is due {day}."
    if kind == "reminder" and stage == "due_today":
        return f"⏰ {who}{title} is due today."
    if kind == "reminder":
        again = f"; reminder {count}" if count > 1 else ""
        return f"⚠️ {who}{title} is overdue (it was due {day}{again})."
    if kind == "triage":
        return f"🧭 {who}{title} is waiting for triage. Please set a priority."
    if kind == "first_response":
        target = f" {escape(priority)}" if priority else ""
        return f"⏱️ {who}{title} has no first response yet and is close to its{target} first-response target."
    if kind == "missing_fields":
        fields = ", ".join(escape(f) for f in missing)
        return f"📝 {who}{title} is missing {fields}. Please set them before work begins."
    return f"🔔 {who}{title}"


def sla_warning_comment(priority: str | None) -> str:
    """The Asana comment left when a task nears its first-response target without an answer."""
    target = f" {priority}" if priority else ""
    return f"SLA warning: no first response yet; this task is close to its{target} first-response target."


# ---- nag buttons: what a click did, said on the nag itself, to the clicker alone, and in Asana -------------------

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


def nag_not_allowed(user_id: str, project_name: str) -> str:
    return (
        f"<@{user_id}>, only the task's assignee, the person who asked for it, the triager and members of the Asana "
        f"project *{escape(project_name)}* can act on it from Slack, so nothing was changed. Ask to be added to the "
        "project in Asana, or ask one of them."
    )


def nag_assignee_unknown(user_id: str) -> str:
    return (
        f"I couldn't find <@{user_id}> in Asana: their Slack email matches no Asana user of this workspace, so the "
        "task was not reassigned. Pick someone with an Asana account."
    )


def nag_acted_line(decision: Decision, *, who: str, assignee: str | None = None, moved_to: str | None = None) -> str:
    """The line under a nag someone acted on (`who` and `assignee` are <@U…> mentions)."""
    if decision.action is Action.DONE:
        return f"✅ Marked done by {who}."
    if decision.action is Action.SNOOZE:
        return f"💤 Snoozed for a day by {who}."
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


def _date(day: date | None) -> str:
    return day.strftime("%a %d %b") if day else "no date"


# ---- routing: why a task went to someone, the ping before it moves on, and /asana routing ---------------------

ROUTING_KEEP = "routing_keep"
ROUTING_RELEASE = "routing_release"
ROUTING_ACTIONS_BLOCK = "routing_actions:"  # + the task gid
ROUTING_ACTION_PATTERN = r"^routing_(keep|release)$"

_SKIPPED = {
    "out_of_office": "is out of office",
    "at_capacity": "is at capacity",
    "outside_hours": "is outside working hours and the SLA is short",
    "had_task": "had it already",
}


def skipped_part(name: str, reason: str, back_on: date | None) -> str:
    """One skipped person in a routing reason: "Cy is out of office until Mon 07 Dec"."""
    said = f"{name} {_SKIPPED.get(reason, reason)}"
    return f"{said} until {back_on.strftime('%a %d %b')}" if back_on is not None and reason == "out_of_office" else said


def routing_reason(
    assignee: str, *, matched: Sequence[str], open_tasks: int | None, skipped: Sequence[str], because: str | None
) -> str:
    """Why routing chose someone, in plain words (an Asana comment; the thread adds a mention):
    "→ Bo: matches “oauth”; 2 open tasks; Cy is out of office until Mon 07 Dec"."""
    parts = [because] if because else []
    parts.append(f"matches {', '.join(f'“{word}”' for word in matched)}" if matched else "no skill matched")
    if open_tasks is not None:
        parts.append(f"{open_tasks} open task{'' if open_tasks == 1 else 's'}")
    parts.extend(skipped)
    return f"→ {assignee}: " + "; ".join(parts)


def routing_nobody(triager: str | None, *, name: str, skipped: Sequence[str], pool_empty: bool) -> str:
    who = f"{triager}: " if triager else ""
    why = "nobody in the pool has an Asana account I can find" if pool_empty else "; ".join(skipped)
    return (
        f"🧭 {who}nobody could take “{escape(name)}” ({why}). It stays unassigned; I'll try again as people come back."
    )


def routing_stays(assignee: str, *, because: str) -> str:
    return f"↩️ {because}, and nobody else can take it now, so it stays with {assignee}."


def routing_ping(holder: str, *, name: str, since: date, window: str, task_gid: str) -> tuple[str, Blocks]:
    """Asked once before a routed task moves on: act on it, or hand it back, with buttons for either."""
    text = (
        f"⏳ {holder}, “{escape(name)}” has waited for you since {since.strftime('%a %d %b')}. Act on it or hand it "
        f"back: {window} of working time after it was routed to you, it goes to the next person."
    )
    return _plain_text(text), [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": ROUTING_ACTIONS_BLOCK + task_gid,
            "elements": [
                _button(ROUTING_KEEP, "Keep it", task_gid, style="primary"),
                _button(ROUTING_RELEASE, "Hand it back", task_gid),
            ],
        },
    ]


def routing_ping_asked(holder: str, name: str) -> str:
    """A routing ping once answered (its buttons gone)."""
    return f"⏳ {escape(holder)} was asked to act on “{escape(name)}” or hand it back."


def routing_ping_comment(holder: str, window: str) -> str:
    return (
        f"{holder}: this task has waited for you since it was routed to you. Act on it or hand it back from Slack; "
        f"after {window} it goes to the next person."
    )


def routing_kept(holder: str, window: str) -> str:
    return f"👍 {holder} keeps it; the next {window} start now."


def routing_did_not_act(holder: str, window: str, *, wait_for: str) -> str:
    done = "acknowledge" if wait_for == "acknowledgement" else "complete"
    return f"{holder} did not {done} it within {window}"


def routing_handed_back(holder: str) -> str:
    return f"{holder} handed it back"


def routing_click_refused(user_id: str) -> str:
    return (
        f"<@{user_id}>, only the person the task was routed to, or the triager, can keep it or hand it back, so "
        "nothing was changed."
    )


ROUTING_CLICK_OUTDATED = (
    "That task is no longer waiting on this question (it moved on, or someone assigned it), so nothing was changed."
)


def routing_overview(pool: Sequence[tuple[str, int, int, str | None]], *, wait: str) -> str:
    """/asana routing: each person with open tasks, capacity and whether they are out."""
    if not pool:
        return (
            "This channel's project has no routing pool, so new tasks are not assigned automatically. Add a "
            "`[routing] pool` to bridge.toml to turn it on."
        )
    lines = [f"*Routing pool* (tasks move on after {wait} without being done):"]
    for name, open_tasks, capacity, away in pool:
        state = f" — {away}" if away else ""
        lines.append(f"• {name}: {open_tasks}/{capacity} open{state}")
    return "\n".join(lines)


# The multi-workspace install: the page the installer's browser lands on after Slack's consent screen.
INSTALL_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


def install_succeeded_page(team_name: str) -> str:
    return INSTALL_PAGE.format(
        title="Installed",
        text=html.escape(
            f"The Asana bridge is installed in {team_name or 'your workspace'}. "
            "Link a channel to an Asana project with /asana link <project URL>."
        ),
    )


def install_failed_page(reason: str) -> str:
    return INSTALL_PAGE.format(
        title="Not installed",
        text=html.escape(f"The Asana bridge was not installed ({reason}). Start again from the install link."),
    )


# --- /asana report ------------------------------------------------------------------------------------------

REPORT_NOT_LINKED = (
    "This channel isn't linked to an Asana project, so it has no report. Link it with `/asana link <project link>`, "
    "or run `/asana report` in a linked channel."
)
REPORT_MEMBERS_ONLY = "Only members of this channel get a link to its report. Join the channel, then try again."


def report_summary(project_name: str, report: Report, *, url: str, days: int) -> tuple[str, Blocks]:
    """The short summary `/asana report` posts: open, at risk, breached, this week's median first response."""
    week = report.this_week
    median = week.first_response.median if week is not None else None
    response = describe_duration(median, days=False) if median is not None else "no responses yet"
    counts = report.counts
    text = (
        f"SLA report for {project_name}: {report.open} open, {counts[Status.AT_RISK]} at risk, "
        f"{counts[Status.BREACHED]} breached; median first response this week: {response}."
    )
    fields = [
        ("Open", str(report.open)),
        (":large_yellow_circle: At risk", str(counts[Status.AT_RISK])),
        (":red_circle: Breached", str(counts[Status.BREACHED])),
        ("Median first response this week", response + " (business time)" if median is not None else response),
    ]
    return text, [
        {"type": "header", "text": {"type": "plain_text", "text": f"SLA report: {project_name}"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": REPORT_OPEN,
                    "text": {"type": "plain_text", "text": "Open the full report"},
                    "url": url,
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"<{url}|Report link> for members of this channel; it works for {days} days.",
                }
            ],
        },
    ]


REPORT_OPEN = "report_open"
