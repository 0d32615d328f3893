"""Asana rich text (html_notes, html_text): well-formed XML in <body> with a small tag set, else 400."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bridge.sandbox.asana.errors import bad_request

# The rich-text guide's tags; tasks (html_notes) also allow headings and rules.
_STORY_TAGS = frozenset({"body", "strong", "em", "u", "s", "code", "pre", "blockquote", "ol", "ul", "li", "a"})
_TASK_TAGS = _STORY_TAGS | {"h1", "h2", "hr"}
_LINK_ATTRIBUTES = frozenset({"href", "data-asana-gid", "data-asana-accessible", "data-asana-dynamic"})


def validate(html: object, field: str, *, task: bool) -> str:
    """Check rich text and return its plain text; raise the 400 Asana gives for bad XML or tags."""
    if not isinstance(html, str):
        raise bad_request(f"{field}: Must be a string")
    try:
        root = ET.fromstring(html)  # expat: no external entities are fetched
    except ET.ParseError as exc:
        raise bad_request(f"{field}: XML is invalid: {exc}") from None
    if root.tag != "body":
        raise bad_request(f"{field}: XML root must be <body>")
    allowed = _TASK_TAGS if task else _STORY_TAGS
    for element in root.iter():
        if element.tag not in allowed:
            raise bad_request(f"{field}: Unsupported tag <{element.tag}>")
        if element.attrib and (element.tag != "a" or set(element.attrib) - _LINK_ATTRIBUTES):
            raise bad_request(f"{field}: Unsupported attribute on <{element.tag}>")
    return "".join(root.itertext())


def from_plain(text: str) -> str:
    """The html form Asana derives from plain text."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<body>{escaped}</body>"
