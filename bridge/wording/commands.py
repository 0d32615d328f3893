"""What `/asana` and `/task` say: help, linking, capture settings, the task post, the shortcut's modal."""

from __future__ import annotations

from typing import Any

from bridge.domain.model import Link
from bridge.domain.work import Task
from bridge.wording.kit import Blocks, escape

HELP = (
    "*Asana bridge*\n"
    "• `/asana link <project link or gid>`: link this channel to an Asana project\n"
    "• `/asana unlink`: stop linking this channel\n"
    "• `/asana status`: show this channel's link and webhook health\n"
    "• `/asana capture off|all|reaction`: turn every new message (or each :ticket: reaction) into a task\n"
    "• `/asana relay all|quiet|<kinds>`: which Asana changes are told in task threads\n"
    "• `/asana routing`: who new tasks are routed to, their open tasks, and who is out\n"
    "• `/asana report`: this channel's SLA summary, with a link to the full report\n"
    "• `/asana connect` / `/asana disconnect`: act as yourself in Asana, or stop\n"
    "• `/asana similar <words>`: resolved tasks that may already answer it (only you see them)\n"
    "• `/task <title> [@person] [due:<when>] [p0|p1|p2|p3]`: create a task in the linked project (options last)\n"
    "   due words: today, tomorrow, fri, next week, in 3 days, 2026-12-03"
)
NOT_LINKED = "This channel isn't linked to an Asana project yet. Link it with `/asana link <project link>`."
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
        f"Assign someone with an Asana account, or nobody: <@{user_id}>'s Slack email matches no Asana user of this "
        "workspace (they could join Asana). Nothing was created"
    )


def unknown_priority(priority: str) -> str:
    return f"Use another priority: the project's Priority field has no option {escape(priority)}. Nothing was created"


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
