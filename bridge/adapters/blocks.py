"""Every word the bridge says in Slack, and the Block Kit it says it with. One place for wording."""

from __future__ import annotations

from typing import Any

from bridge.domain.model import Link
from bridge.domain.work import Task

Blocks = list[dict[str, Any]]

HELP = (
    "*Asana bridge*\n"
    "• `/asana link <project link or gid>`: link this channel to an Asana project\n"
    "• `/asana unlink`: stop linking this channel\n"
    "• `/asana status`: show this channel's link and webhook health\n"
    "• `/task <title> [@person] [due:<when>] [p0|p1|p2|p3]`: create a task in the linked project\n"
    "   due words: today, tomorrow, fri, next week, in 3 days, 2026-12-03"
)
NOT_LINKED = "This channel isn't linked to an Asana project yet. Link it with `/asana link <project link>`."
WORKING_ON_TASK = "Creating the task in Asana…"
WORKING_ON_LINK = "Linking this channel to Asana…"
UNKNOWN_SUBCOMMAND = "I don't know `/asana {word}`. " + HELP
ASANA_BUSY = "Asana is not answering right now ({reason}). Nothing was created; please try again in a minute."
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


def status(link: Link, *, webhook: str) -> str:
    return (
        f"This channel is linked to *{escape(link.project_name)}* (gid {link.project_gid}).\n"
        f"• Capture: {link.capture_mode.value}\n"
        f"• Updates from Asana: {webhook}"
    )


def unknown_person(user_id: str) -> str:
    return (
        f"I couldn't find <@{user_id}> in Asana: their Slack email matches no Asana user of this workspace. "
        "Nothing was created; try again without them or ask them to join Asana."
    )


def task_created_text(task: Task) -> str:
    return f"New task: {task.name}"


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
    title = f"*<{task.permalink_url}|{escape(task.name)}>*" if task.permalink_url else f"*{escape(task.name)}*"
    text = title + ("\n" + " · ".join(facts) if facts else "")
    blocks: Blocks = [{"type": "section", "block_id": f"task:{task.gid}", "text": {"type": "mrkdwn", "text": text}}]
    return task_created_text(task), blocks
