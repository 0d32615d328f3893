"""What capture says to the person who asked: what `/task` understood, its confirmation with the way to the task and
back (Undo), mistakes (each starting with what to do), and a shortcut whose form could not open."""

from __future__ import annotations

from datetime import date

from bridge.domain.undo import UNDO_WINDOW, UndoRefusal
from bridge.domain.work import Task
from bridge.wording.kit import Blocks, _button, _date, _mrkdwn_section, escape

TASK_OPEN, TASK_UNDO = "task_open", "task_undo"


def _understood(title: str, *, assignee: str | None, due: date | None, priority: str | None) -> str:
    """A /task as the bridge read it. The assignee is a mention the bridge builds from the id it parsed."""
    facts = [
        f"Assignee: <@{assignee}>" if assignee else "Assignee: nobody",
        f"Due: {_date(due)}" if due else "Due: none given",
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
    done = "" if "Nothing was" in problem else " Nothing was created."
    return f"{problem.rstrip('.')}.{done}\nWhat you typed:\n```{escape(f'{command} {text}'.strip())}```"


def form_not_opened(code: str | None) -> str:
    why = f" (Slack said {escape(code)})" if code else ""
    return f"Use the shortcut again: Slack did not let me open the task form in time{why}. Nothing was created."
