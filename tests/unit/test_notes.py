"""A captured task's description as Asana rich text: always well-formed, links clickable, words from Slack escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import wording
from bridge.wording.notes import as_rich, from_slack, message_notes, notes_author, notes_body, rich_text
from tests.support import examples

NAMES = {"U0ANA": "Ana <Admin> & co"}


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("plain & simple", "plain &amp; simple"),
        ("a &lt;b&gt; c", "a &lt;b&gt; c"),
        (
            '<https://x.example/?a=1&amp;b="2"|Q &amp; A>',
            '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">Q &amp; A</a>',
        ),
        ("<https://x.example>", '<a href="https://x.example">https://x.example</a>'),
        ("<javascript:alert(1)|click>", "click (javascript:alert(1))"),
        ("hi <@U0ANA>", "hi @Ana &lt;Admin&gt; &amp; co"),
        ("*bold* _it_ ~gone~", "<strong>bold</strong> <em>it</em> <s>gone</s>"),
        ("*a _b* c_", "*a _b* c_"),  # marks that cross: words kept, formatting dropped
        ("bell\x07 and nul\x00", "bell and nul"),
    ],
)
def test_rich_text(markup: str, expected: str) -> None:
    assert rich_text(markup, NAMES) == expected


def test_the_description_names_its_author_and_links_back() -> None:
    body = notes_body(
        message_notes("Help", by=notes_author("Ana", "U0ANA"), names={}, permalink="https://s.example/p1?a&b"),
        marker="[slack:T1/C1/1.2]",
    )
    root = ET.fromstring(body)
    assert "".join(root.itertext()) == (
        "Ana wrote in Slack:\n\nHelp\n\nFrom Slack: https://s.example/p1?a&b\n\n[slack:T1/C1/1.2]"
    )
    assert notes_author(None, "U0GUEST") == "a Slack user (U0GUEST)"


def test_plain_words_kept_by_an_older_version_are_sent_as_words() -> None:
    old = "Created from Slack by <@U1> & co"
    assert notes_body(old) == "<body>Created from Slack by &lt;@U1&gt; &amp; co</body>"
    with_link = notes_body(f"{as_rich(old)}\n\n{from_slack('https://s.example/p1')}")
    assert with_link.endswith('From Slack: <a href="https://s.example/p1">https://s.example/p1</a></body>')


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=80))
def test_any_message_makes_well_formed_rich_text(markup: str) -> None:
    ET.fromstring(notes_body(message_notes(markup, by=notes_author(markup, "U1"), names={}, permalink=None)))


def test_an_asana_name_is_shown_as_written_not_unescaped_again() -> None:
    # "Escaped &lt;tag&gt;" is what its author typed (Slack's own escapes were undone once, at capture).
    assert wording.escape(wording.first_line("Escaped &lt;tag&gt;\nmore")) == "Escaped &amp;lt;tag&amp;gt;"
