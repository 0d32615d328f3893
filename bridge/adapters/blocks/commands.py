"""What `/asana` and `/task` say: help, linking, capture settings, the task post, the shortcut's modal."""

from __future__ import annotations

from datetime import date
from typing import Any

from bridge.adapters.blocks.kit import Blocks, _button, _date, _mrkdwn_section, _task_post, _title, escape
from bridge.domain.model import Link
from bridge.domain.undo import UNDO_WINDOW, UndoRefusal
from bridge.domain.work import Task

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
TASK_OPEN, TASK_UNDO = "task_open", "task_undo"
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
    return f"New task: {escape(task.name)}", _task_post(task, f"*{_title(task)}*", facts)


def _understood(title: str, *, assignee: str | None, due: date | None, priority: str | None) -> str:
    """A /task as the bridge read it. The assignee is a mention the bridge builds from the id it parsed."""
    facts = [
        f"Assignee: <@{assignee}>" if assignee else "Assignee: nobody",
        f"Due: {_date(due)}" if due else "Due: the SLA's, or none",
        f"Priority: {priority}" if priority else "Priority: none (it waits in triage)",
    ]
    return f"“{escape(title)}”\n" + " · ".join(facts)


def working_on_task(title: str, *, assignee: str | None, due: date | None, priority: str | None) -> str:
    """The /task ack: what was understood, before anything is made."""
    return "Creating in Asana: " + _understood(title, assignee=assignee, due=due, priority=priority)


def task_created(task: Task, *, assignee: str | None, priority: str | None) -> tuple[str, Blocks]:
    """The private confirmation of a /task: what was made, a way to it, and a way back (Undo, for a few minutes)."""
    minutes = int(UNDO_WINDOW.total_seconds() // 60)
    text = "Created in Asana: " + _understood(task.name, assignee=assignee, due=task.due_on, priority=priority)
    return text, [
        _mrkdwn_section(text),
        {
            "type": "actions",
            "block_id": f"task_created:{task.gid}",
            "elements": [
                {**_button(TASK_OPEN, "Open in Asana", task.gid), "url": task.permalink_url},
                {
                    **_button(TASK_UNDO, "Undo", task.gid, style="danger"),
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Undo this task?"},
                        "text": {"type": "plain_text", "text": UNDO_CONFIRM},
                        "confirm": {"type": "plain_text", "text": "Delete it"},
                        "deny": {"type": "plain_text", "text": "Keep it"},
                    },
                },
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Undo works for {minutes} minutes."}]},
    ]


UNDO_CONFIRM = "It is deleted from Asana and its post leaves the channel."


def task_undone(name: str) -> str:
    return f"Undone: “{escape(name)}” was deleted from Asana and its post removed from the channel."


def undo_refused(refusal: UndoRefusal | None) -> str:
    if refusal is UndoRefusal.NOT_YOURS:
        return "Only the person who created this task can undo it. Delete it in Asana if it must go."
    if refusal is UndoRefusal.TOO_LATE:
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        return f"Delete the task in Asana instead: Undo only works for {minutes} minutes after it was made."
    return "Nothing to undo: this task was undone already."


def command_error(problem: str, command: str, text: str) -> str:
    """A mistake in a command: what to do first, then the command as typed, to fix and send again."""
    typed = f"{command} {text}".strip()
    return f"{problem}.\nNothing was created. What you typed:\n```{escape(typed)}```"


def unknown_priority(priority: str) -> str:
    return f"The project's Priority field has no option {escape(priority)}; use p0, p1, p2 or p3."


def captured_reply(task: Task, *, requester: str | None) -> tuple[str, Blocks]:
    """The reply in a captured message's thread: the acknowledgement that it is tracked."""
    who = f"<@{requester}>, " if requester else ""
    text = f"{who}this is tracked in Asana: <{task.permalink_url}|{escape(task.name)}>. Replies here become comments."
    return f"Tracked in Asana: {escape(task.name)}", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


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


def form_not_opened(code: str | None) -> str:
    why = f" (Slack said {escape(code)})" if code else ""
    return f"Use the shortcut again: Slack did not let me open the task form in time{why}. Nothing was created."


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
