"""What a captured task's description says in Asana: the message as rich text (`html_notes`), who wrote it, and
the way back to Slack. Asana refuses (400) rich text that is not well-formed XML, so every word from Slack is
escaped here, in the one place that renders it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from bridge.domain import slack_text
from bridge.domain.slack_text import Channel, Link, Special, Text, User

# XML 1.0 has no place for most control characters; Asana would refuse the whole description for one of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAGS = {"*": "strong", "_": "em", "~": "s"}
_LINKABLE = ("http://", "https://", "mailto:")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(text: str) -> str:
    return xml_text(text).replace('"', "&quot;")


def _emphasised(text: str) -> str:
    """Escaped text with Slack's emphasis as Asana's tags (`*bold*` → <strong>)."""
    out = xml_text(text)
    for mark, tag in _TAGS.items():
        out = slack_text.emphasis_pattern(mark).sub(rf"<{tag}>\1</{tag}>", out)
    return out


def rich_text(markup: str, names: Mapping[str, str]) -> str:
    """Slack text as Asana rich text: links clickable, mentions and channels by name, emphasis kept."""
    out = []
    for piece in slack_text.pieces(markup):
        if isinstance(piece, Text):
            out.append(_emphasised(piece.text))
        elif isinstance(piece, User):
            out.append(xml_text(slack_text.user_name(piece, names)))
        elif isinstance(piece, Link) and piece.url.startswith(_LINKABLE):
            out.append(f'<a href="{_attribute(piece.url)}">{xml_text(piece.shown)}</a>')
        elif isinstance(piece, Channel | Link | Special):
            out.append(xml_text(slack_text.readable_piece(piece, names)))
    html = "".join(out)
    if _well_formed(html):
        return html
    # Emphasis marks that overlap (`*a _b* c_`) would cross tags: keep the words, drop the formatting.
    return xml_text(slack_text.readable(markup, names))


def _well_formed(html: str) -> bool:
    try:
        ET.fromstring(f"<body>{html}</body>")
    except ET.ParseError:
        return False
    return True


def notes_author(name: str | None, user_id: str) -> str:
    """Who wrote it, by name; a person Slack will not show the bot (a guest of another organisation, a deactivated
    account) by the only thing known of them."""
    return f"<strong>{xml_text(name)}</strong>" if name else f"a Slack user ({xml_text(user_id)})"


def from_slack(permalink: str) -> str:
    return f'From Slack: <a href="{_attribute(permalink)}">{xml_text(permalink)}</a>'


def message_notes(markup: str, *, by: str, names: Mapping[str, str], permalink: str | None) -> str:
    """A captured message's description: who wrote it, all of it, and the link back to it."""
    lines = [f"{by} wrote in Slack:", "", rich_text(markup, names)]
    return "\n".join([*lines, "", from_slack(permalink)] if permalink else lines)


def form_notes(text: str, *, by: str, permalink: str | None) -> str:
    """The description as the shortcut's form sent it back (plain text the person may have edited)."""
    lines = [f"Captured from a message by {by}:", "", xml_text(text)] if text.strip() else [f"Captured from {by}."]
    return "\n".join([*lines, "", from_slack(permalink)] if permalink else lines)


def command_notes(*, by: str) -> str:
    return f"Created in Slack by {by} with /task."


def as_rich(notes: str) -> str:
    """A description as rich text: one that is not (a /task kept by an older version, as plain words) is sent as
    the words it is."""
    return notes.strip() if _well_formed(notes) else xml_text(notes.strip())


def notes_body(notes: str, *, marker: str | None = None) -> str:
    """The whole `html_notes`: the description (rich text), then the capture's marker (plain)."""
    parts = [as_rich(notes), xml_text(marker) if marker else ""]
    return "<body>" + "\n\n".join(part for part in parts if part) + "</body>"
