"""Parsing what people type: `/task …`, `/asana …`, Asana project and task links. Pure and table-tested."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from bridge.domain.model import SlackUserId
from bridge.domain.policy import RELAY_KINDS
from bridge.domain.slack_text import task_name

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
    # The title as Slack sent it, for a second reading once the names of unnamed mentions are looked up.
    markup: str = field(default="", compare=False)


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
            raise CommandError(f"Write a real date as YYYY-MM-DD ({text.strip()} does not exist)") from None
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
        "Write the due date as today, tomorrow, fri, next week, in 3 days or 2026-12-03"
        f" (I don't understand {text.strip()!r})"
    )


def _looks_iso(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()))


# A word, or Slack markup whole (a mention's label may hold a space): what the options at the end are made of.
_WORD = re.compile(r"(?:<[^<>]*>|[^\s<]|<)+")
_PRIORITY = re.compile(r"[pP][0-3]")
# `due:` followed by more words only in these forms: "due: fri", "due:next week", "due: in 3 days".
_DUE_OPENINGS = ("", "in", "next")
TITLE_LIMIT = 1024  # Asana takes longer names; people read short ones


def parse_task_command(text: str, *, today: date, names: Mapping[str, str] | None = None) -> TaskCommand:
    """`<title> [@person] [due:<when>] [p0|p1|p2|p3]`: options only in a run at the end, in any order; the title is
    everything before that run, as the person wrote it (`names` are the looked-up names of unnamed mentions)."""
    words = [(match.start(), match.group()) for match in _WORD.finditer(text)]
    end = len(words)
    assignee: SlackUserId | None = None
    due: date | None = None
    priority: str | None = None
    while end:
        word = words[end - 1][1]
        mention = _MENTION.match(word)
        if mention:
            if assignee is not None:
                raise CommandError("Name one assignee at most (@person)")
            assignee, end = SlackUserId(mention.group(1)), end - 1
        elif _PRIORITY.fullmatch(word):
            if priority is not None:
                raise CommandError("Give one priority at most (p0, p1, p2 or p3)")
            priority, end = word.upper(), end - 1
        else:
            found = _due_at_end([w for _, w in words[max(0, end - 4) : end]], today=today)
            if found is None:
                break
            if due is not None:
                raise CommandError("Give one due date at most (due:fri)")
            due, end = found[1], end - found[0]
            if due < today:
                raise CommandError(f"Pick today or a later day for the due date ({due.isoformat()} is past)")
    markup = text[: words[end][0]] if end < len(words) else text
    title = task_name(markup, names)
    if not title:
        raise CommandError("Give the task a title before its options, like `/task Fix the login page @ana due:fri p1`")
    if len(title) > TITLE_LIMIT:
        raise CommandError(f"Keep the title under {TITLE_LIMIT} characters and put the details in the thread")
    return TaskCommand(title=title, assignee=assignee, due=due, priority=priority, markup=markup)


def _due_at_end(words: list[str], *, today: date) -> tuple[int, date] | None:
    """The due date the last of these (up to four) words give, and how many words it takes; None when they are not
    a due option."""
    for size in range(1, len(words) + 1):
        first = words[-size]
        if first[:4].lower() != "due:":
            continue
        value = " ".join([first[4:], *words[len(words) - size + 1 :]]).strip()
        if size == 1:
            if not value:
                raise CommandError("Say when after due:, like due:fri or due:2026-12-03")
            return 1, parse_due(value, today=today)  # `due:<word>` at the end is always an option
        if first[4:].lower() not in _DUE_OPENINGS:
            return None
        try:
            return size, parse_due(value, today=today)
        except CommandError:
            return None  # "Check the due: field": words of the title
    return None


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
