"""Asana changes told in the task's thread: one line per change, the task's post kept up to date."""

from __future__ import annotations

from datetime import date

from bridge.domain.model import Link
from bridge.domain.relay import Change
from bridge.domain.work import Task
from bridge.wording.kit import Blocks, _day, _ordinal, escape, person


def change_line(change: Change, *, mention: str | None = None) -> str:
    """One line per change, e.g. "✅ completed by @ana" or "📅 due moved to Fri 05 Dec (was Wed 03 Dec; 2nd push)";
    `mention` is the Slack user id of the person the change names (`change.who`), when they are in Slack."""
    if change.kind == "completed":
        return "✅ completed" + (f" by {person(mention, change.by)}" if change.by or mention else "")
    if change.kind == "reopened":
        return "↩️ reopened"
    if change.kind == "assigned":
        return f"👤 assigned to {person(mention, change.value)}"
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


def comment_line(author: str | None, text: str, *, mention: str | None = None) -> str:
    body = escape(text if len(text) <= 1500 else text[:1499] + "…")
    return f"💬 {person(mention, author or 'Someone')}: {body}"


TASK_DELETED_LINE = "🗑️ the task was deleted in Asana"


def subtask_added_line(task: Task, *, mention: str | None = None) -> str:
    who = f" for {person(mention, task.assignee_name)}" if task.assignee_name or mention else ""
    return f"➕ subtask “{escape(task.name)}” added{who}"


def subtask_line(name: str, line: str) -> str:
    """A change on a subtask, told in the parent's thread: "↳ subtask “Docs”: ✅ completed by Ana"."""
    return f"↳ subtask “{escape(name)}”: {line}"


def relay_message(lines: list[str]) -> tuple[str, Blocks]:
    text = "\n".join(lines)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def created_in_asana(text: str, card: Blocks) -> tuple[str, Blocks]:
    """A task made in Asana first appears as its card, saying where it comes from (its later redraws need not)."""
    first = card[0]
    said = {**first, "text": {**first["text"], "text": "🆕 Created in Asana: " + first["text"]["text"]}}
    return f"New task in Asana: {text}", [said, *card[1:]]


def webhook_failing(project_name: str) -> str:
    """One short line for the channel when Asana's deliveries fail; the operator finds the detail in the log and
    in /healthz."""
    return f"⚠️ Updates from Asana about *{escape(project_name)}* may reach their threads a few minutes late for now."


def relay_setting(link: Link) -> str:
    if link.quiet:
        return "Quiet: Asana changes only update each task's post; nothing is said in the threads."
    if link.relay_kinds is None:
        return "Every kind of Asana change is told in the task's thread."
    return "Told in task threads: " + ", ".join(sorted(link.relay_kinds)) + "."


def relay_command(link: Link) -> str:
    """The command that sets a link's relay as it is now (what undoes a change to it)."""
    if link.quiet:
        return "/asana relay quiet"
    if link.relay_kinds is None:
        return "/asana relay all"
    return "/asana relay " + " ".join(sorted(link.relay_kinds))


def relay_changed(user: str, link: Link, *, undo: str) -> str:
    return setting_changed(user, relay_setting(link), undo=undo)


def setting_changed(user: str, said: str, *, undo: str) -> str:
    """Told in the channel when someone changes how it works, with the command that puts it back."""
    return f"⚙️ <@{user}> changed this channel's Asana settings. {said} To undo: `{undo}`"


def relay_usage(problem: str) -> str:
    return f"`/asana relay`: {problem}. Example: `/asana relay completed comments due`."
