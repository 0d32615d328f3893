"""A pasted Asana task link, previewed with Done and Assign-to-me buttons, and what those buttons say."""

from __future__ import annotations

from bridge.domain.work import Task
from bridge.wording.kit import Blocks, _task_link, escape, first_line, person

UNFURL_DONE = "unfurl_done"
UNFURL_ASSIGN_ME = "unfurl_assign_me"
UNFURL_TASK_GONE = "I can't see that task in Asana any more (deleted, or made private), so nothing was changed."
UNFURL_NOT_ALLOWED = (
    "Asana didn't let the bridge change that task (its Asana user may only be allowed to comment there), "
    "so nothing was changed. Change it in Asana instead."
)


def task_unfurl(task: Task, *, priority: str | None, url: str, assignee: str | None = None) -> Blocks:
    """The preview under a pasted task link: the name linked to the task, its state, and two buttons (`assignee`:
    their Slack user id, when they are in Slack)."""
    name = escape(first_line(task.name)) or "Untitled task"
    facts = [
        ("Status", "✅ Completed" if task.completed else "Open"),
        ("Assignee", person(assignee, task.assignee_name) if task.assignee or task.assignee_name else "Unassigned"),
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
