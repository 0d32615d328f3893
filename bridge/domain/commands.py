"""Parsing what people type: `/task …`, `/asana …`, Asana project and task links. Pure and table-tested."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from bridge.domain.model import SlackUserId
from bridge.domain.policy import PRIORITIES, RELAY_KINDS

WEEKDAY_NAMES = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3, "thur": 3,
    "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_IN_N = re.compile(r"^in\s*(\d+)\s*(d|day|days|w|wk|week|weeks)$")
_PROJECT_URLS = (
    re.compile(r"app\.asana\.com/0/(\d+)(?:/|$)"),  # legacy: /0/<project>/<task or list>
    re.compile(r"app\.asana\.com/1/\d+/project/(\d+)(?:/|$)"),  # current: /1/<workspace>/project/<project>/…
)


class CommandError(ValueError):
    """What the person typed cannot be understood; the message says what to type instead."""


@dataclass(frozen=True)
class TaskCommand:
    title: str
    assignee: SlackUserId | None = None
    due: date | None = None
    priority: str | None = None


def parse_project_ref(text: str) -> str:
    """A project gid from a gid or an Asana project URL (old `/0/<project>/…` or new `/1/<ws>/project/<gid>`)."""
    ref = text.strip().strip("<>").split("|", 1)[0].strip()
    if ref.isdigit():
        return ref
    for pattern in _PROJECT_URLS:
        match = pattern.search(ref)
        if match and match.group(1) != "0":
            return match.group(1)
    raise CommandError("expected an Asana project link (https://app.asana.com/…) or a project gid")


def parse_due(text: str, *, today: date) -> date:
    """Natural due words relative to `today` (in the team's timezone): today, tomorrow, fri, next week, …"""
    word = text.strip().lower().replace("_", " ").replace("-", " ") if not _looks_iso(text) else text.strip()
    if _looks_iso(word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            raise CommandError(f"{text!r} is not a real date; use YYYY-MM-DD") from None
    if word in ("today", "tod", "eod"):
        return today
    if word in ("tomorrow", "tmrw", "tmr", "tom"):
        return today + timedelta(days=1)
    if word in ("next week", "nextweek", "nw"):
        return today + timedelta(days=7 - today.weekday())  # the coming Monday
    if word in WEEKDAY_NAMES:
        ahead = (WEEKDAY_NAMES[word] - today.weekday()) % 7
        return today + timedelta(days=ahead or 7)  # "fri" on a Friday means next Friday
    match = _IN_N.match(word)
    if match:
        count = int(match.group(1))
        return today + timedelta(days=count * (7 if match.group(2).startswith("w") else 1))
    raise CommandError(
        f"I don't understand the due date {text!r}: try today, tomorrow, fri, next week, in 3 days or 2026-12-03"
    )


def _looks_iso(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()))


# Without quotes or backslashes shlex.split only splits on its whitespace.
_SHELL_QUOTING = re.compile(r"[\"'\\]")
_SHELL_SPACE = re.compile(r"[ \t\r\n]+")


def parse_task_command(text: str, *, today: date) -> TaskCommand:
    """`<title> [@person] [due:<when>] [p0|p1|p2|p3]`, options anywhere, title words kept in order."""
    quoted = text.replace("“", '"').replace("”", '"')
    if not _SHELL_QUOTING.search(quoted):
        tokens = [word for word in _SHELL_SPACE.split(quoted) if word]  # what shlex.split gives, a tenth of its cost
    else:
        try:
            tokens = shlex.split(quoted, posix=True)
        except ValueError:
            tokens = text.split()  # an unbalanced quote is part of the title, not an error
    title: list[str] = []
    assignee: SlackUserId | None = None
    due: date | None = None
    priority: str | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        lowered = token.lower()
        mention = _MENTION.match(token)
        if mention:
            if assignee is not None:
                raise CommandError("name one assignee at most (@person)")
            assignee = SlackUserId(mention.group(1))
        elif lowered.startswith("due:"):
            if due is not None:
                raise CommandError("give one due date at most (due:fri)")
            value = token[4:]
            # "due: next week" and "due:next week" both mean the coming Monday.
            if not value and index + 1 < len(tokens):
                index += 1
                value = tokens[index]
            if value.lower() == "next" and index + 1 < len(tokens) and tokens[index + 1].lower() == "week":
                index += 1
                value = "next week"
            elif value.lower() == "in" and index + 2 < len(tokens):
                value = f"in {tokens[index + 1]} {tokens[index + 2]}"
                index += 2
            due = parse_due(value, today=today)
        elif lowered.upper() in PRIORITIES:
            if priority is not None:
                raise CommandError("give one priority at most (p0, p1, p2 or p3)")
            priority = lowered.upper()
        else:
            title.append(token)
        index += 1
    # Slack escapes &, < and > in command text; the task title should read as the person typed it.
    name = " ".join(title).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
    if not name:
        raise CommandError("give the task a title: /task Fix the login page @ana due:fri p1")
    if len(name) > 1024:
        raise CommandError("keep the title under 1024 characters; put details in the thread")
    return TaskCommand(title=name, assignee=assignee, due=due, priority=priority)


# Task links, as Asana writes them: legacy /0/<project or 0>/<task>[/f] and current /1/<ws>/[project/<p>/]task/<t>.
_TASK_PATHS = (
    re.compile(r"/0/\d+/(\d+)(?:/f)?/?"),
    re.compile(r"/1/\d+/(?:project/\d+/)?task/(\d+)/?"),
)


def parse_task_ref(url: str) -> str | None:
    """The task gid of an Asana task URL, or None for anything else (project lists, boards, other sites)."""
    try:
        parts = urlsplit(url.strip().strip("<>").split("|", 1)[0].strip())
    except ValueError:  # e.g. a broken IPv6 host: not a link of ours either way
        return None
    if parts.scheme not in ("http", "https") or parts.hostname != "app.asana.com":
        return None
    for pattern in _TASK_PATHS:
        match = pattern.fullmatch(parts.path)
        if match and match.group(1) != "0":
            return match.group(1)
    return None


@dataclass(frozen=True)
class RelaySetting:
    kinds: frozenset[str] | None
    quiet: bool


def parse_relay_setting(text: str) -> RelaySetting:
    """`/asana relay all`, `quiet`, or a list of kinds such as `completed, comments due`."""
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w]
    if words == ["all"]:
        return RelaySetting(kinds=None, quiet=False)
    if words == ["quiet"]:
        return RelaySetting(kinds=None, quiet=True)
    unknown = [w for w in words if w not in RELAY_KINDS]
    if not words or unknown:
        raise CommandError(
            f"say `all`, `quiet`, or kinds from: {', '.join(RELAY_KINDS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    return RelaySetting(kinds=frozenset(words), quiet=False)
