"""The small pieces every message is made of: buttons, selects, sections, escaping, dates and task titles."""

from __future__ import annotations

from datetime import date
from typing import Any

from bridge.domain.work import Task

Blocks = list[dict[str, Any]]


def escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped so that user text cannot become a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(task: Task) -> str:
    """A task's name, linked to it in Asana when the link is known."""
    return f"<{task.permalink_url}|{escape(task.name)}>" if task.permalink_url else escape(task.name)


def person(slack_user: str | None, name: str | None) -> str:
    """Someone the bridge names in Slack: an @mention when they are in Slack (so they are notified), else their name."""
    if slack_user:
        return f"<@{slack_user}>"
    return escape(name) if name else "someone"


def first_line(text: str, limit: int = 200) -> str:
    """A task name's first line, cut short (Asana allows long names; people read short ones). Names are Asana's
    plain text: a `&lt;` in one is what its author typed, not Slack's escape (capture reads Slack's text apart)."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _task_link(task: Task) -> str:
    name = escape(first_line(task.name)) or "Untitled task"
    return f"<{task.permalink_url}|{name}>" if task.permalink_url else f"“{name}”"


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%a %d %b")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


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


def _date(day: date | None) -> str:
    return day.strftime("%a %d %b") if day else "no date"
