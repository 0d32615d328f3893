"""Slack's markup made readable: what a person wrote, as a person reads it. Pure.

Slack sends text with `&`, `<` and `>` escaped, and mentions, channels and links as `<…>` markup: `<@U…|name>` or
`<@U…>`, `<#C…|name>`, `<https://…|label>` or `<https://…>`, `<!here>`. Every capture path (the /task title, the
shortcut's prefilled form, auto-capture and reaction capture, the thread post) reads a message through `pieces`,
so that a task is named with the words people saw, and nothing they typed becomes syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_MARKUP = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)")
_CHANNEL = re.compile(r"#([CGD][A-Z0-9]+)")


def _emphasis(mark: str) -> re.Pattern[str]:
    """Slack's emphasis: a mark at a word's edge, the words it wraps neither starting nor ending with a space."""
    m = re.escape(mark)
    return re.compile(rf"(?<![\w{m}]){m}(?=[^\s{m}])(.+?)(?<=\S){m}(?![\w{m}])")


_EMPHASIS = {mark: _emphasis(mark) for mark in "*_~"}
_SPECIAL_NAMES = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


@dataclass(frozen=True)
class Text:
    """Words as typed, Slack's escapes undone."""

    text: str


@dataclass(frozen=True)
class User:
    user_id: str
    label: str | None = None


@dataclass(frozen=True)
class Channel:
    channel_id: str
    label: str | None = None


@dataclass(frozen=True)
class Link:
    url: str
    label: str | None = None

    @property
    def shown(self) -> str:
        """The words a reader sees: the label, else the address (a mailto link shows its address)."""
        bare = self.url.removeprefix("mailto:")
        return self.label or bare

    @property
    def label_says_it_all(self) -> bool:
        """A label that is the address itself (Slack writes auto-linked text so) needs no address after it."""
        if not self.label:
            return True
        bare = self.url.removeprefix("mailto:")
        return self.label in (self.url, bare) or self.url.split("://", 1)[-1].rstrip("/") == self.label.rstrip("/")


@dataclass(frozen=True)
class Special:
    """`<!here>`, `<!subteam^S…|@team>`, `<!date^…|fallback>`: shown by their name or fallback."""

    shown: str


Piece = Text | User | Channel | Link | Special


def unescape(text: str) -> str:
    """Undo Slack's three escapes (`&amp;` last, so that `&amp;lt;` stays the `&lt;` the person typed)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def pieces(markup: str) -> list[Piece]:
    """Slack text as plain words and the mentions and links between them."""
    if "<" not in markup and "&" not in markup:
        return [Text(markup)] if markup else []  # most titles: nothing to read (a /task's ack is timed)
    out: list[Piece] = []
    at = 0
    for match in _MARKUP.finditer(markup):
        if match.start() > at:
            out.append(Text(unescape(markup[at : match.start()])))
        out.append(_piece(match.group(1)))
        at = match.end()
    if at < len(markup):
        out.append(Text(unescape(markup[at:])))
    return out


def _piece(inner: str) -> Piece:
    target, _, label = inner.partition("|")
    shown = unescape(label) or None
    user = _USER.fullmatch(target)
    if user:
        return User(user.group(1), shown.lstrip("@") if shown else None)
    channel = _CHANNEL.fullmatch(target)
    if channel:
        return Channel(channel.group(1), shown.lstrip("#") if shown else None)
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return Special(_SPECIAL_NAMES.get(name) or shown or f"@{name}")
    if not target:
        return Text(unescape(f"<{inner}>"))
    return Link(unescape(target), shown)


def unnamed_users(markup: str) -> list[str]:
    """The people mentioned without a name in the markup (modern clients send `<@U…>`): to be looked up."""
    return list(dict.fromkeys(p.user_id for p in pieces(markup) if isinstance(p, User) and not p.label))


def unnamed_channels(markup: str) -> list[str]:
    """The channels mentioned without a name (`<#C…>` or `<#C…|>`): to be looked up."""
    return list(dict.fromkeys(p.channel_id for p in pieces(markup) if isinstance(p, Channel) and not p.label))


def user_name(piece: User, names: Mapping[str, str]) -> str:
    """A mention as text: the name the markup carries, else the one looked up, else the id (nothing else is left)."""
    return f"@{piece.label or names.get(piece.user_id) or piece.user_id}"


def readable(markup: str, names: Mapping[str, str] | None = None) -> str:
    """The text as people read it in Slack: `@ana`, `#general`, `the pricing page (https://…)`, `@here`."""
    return "".join(readable_piece(piece, names or {}) for piece in pieces(markup))


def readable_piece(piece: Piece, names: Mapping[str, str]) -> str:
    if isinstance(piece, Text):
        return piece.text
    if isinstance(piece, User):
        return user_name(piece, names)
    if isinstance(piece, Channel):
        return f"#{piece.label or names.get(piece.channel_id) or 'channel'}"
    if isinstance(piece, Link):
        return piece.shown if piece.label_says_it_all else f"{piece.shown} ({piece.url})"
    return piece.shown


def fold(text: str) -> str:
    """Runs of whitespace (tabs, newlines, odd spaces) as one space, none at the ends."""
    return " ".join(text.split())  # str.split's whitespace is re's \s


def drop_emphasis(text: str) -> str:
    """`*bold*`, `_italic_`, `~strike~` as their words: marks are formatting, not part of a task's name."""
    for mark, pattern in _EMPHASIS.items():
        if mark in text:
            text = pattern.sub(r"\1", text)
    return text


def emphasis_pattern(mark: str) -> re.Pattern[str]:
    """The emphasis of one mark (`*`, `_` or `~`), its words as group 1: for rich text that keeps the formatting."""
    return _EMPHASIS[mark]


def task_name(markup: str, names: Mapping[str, str] | None = None) -> str:
    """A task's name from Slack text: readable, emphasis marks dropped, whitespace folded."""
    return fold(drop_emphasis(readable(markup, names)))


def first_line(markup: str) -> str:
    """The first line with words on it: a captured message's title."""
    return next((line for line in markup.splitlines() if line.strip()), "")


def title_of_message(markup: str, names: Mapping[str, str] | None = None, *, limit: int = 200) -> str:
    """A captured message's task name: its first line, readable (Asana allows long names; people read short ones)."""
    name = task_name(first_line(markup), names)
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"
