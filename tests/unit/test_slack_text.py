"""Slack markup made readable, and the /task title kept as typed: table-driven, then properties (hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.domain.commands import parse_task_command
from bridge.domain.slack_text import fold, readable, task_name, title_of_message, unnamed_channels, unnamed_users
from tests.support import examples

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("Hey <@U0ANA|ana>", "Hey @ana"),
        ("Hey <@U0ANA>", "Hey @Ana Lee"),  # named from the lookup
        ("Hey <@U0NOBODY>", "Hey @U0NOBODY"),  # nobody to name them: the id rather than nothing
        ("in <#C0Q|questions>", "in #questions"),
        ("in <#C0Q>", "in #questions"),
        ("in <#C0OTHER|>", "in #channel"),
        ("<https://example.com/billing|the billing page>", "the billing page (https://example.com/billing)"),
        ("<https://example.com/billing>", "https://example.com/billing"),
        ("<https://example.com|example.com>", "example.com"),
        ("<mailto:ops@example.com|ops@example.com>", "ops@example.com"),
        ("<https://example.com/?a=1&amp;b=2|Q &amp; A>", "Q & A (https://example.com/?a=1&b=2)"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S0TEAM|@oncall> look", "@oncall look"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"),
        ("a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"),
        ("5 &lt; 6 &gt; 4", "5 < 6 > 4"),
    ],
)
def test_readable(markup: str, expected: str) -> None:
    assert readable(markup, {"U0ANA": "Ana Lee", "C0Q": "questions"}) == expected


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("the *export* button", "the export button"),
        ("_really_ ~not~ *now*", "really not now"),
        ("*bold with spaces* end", "bold with spaces end"),
        ("snake_case_name, 2*3*4, a * b * c", "snake_case_name, 2*3*4, a * b * c"),
        ("*unclosed bold", "*unclosed bold"),
        ("`code` stays", "`code` stays"),
        ("tabs\tand\n\nlines", "tabs and lines"),
    ],
)
def test_task_names_drop_emphasis_marks(markup: str, expected: str) -> None:
    assert task_name(markup) == expected


def test_a_message_title_is_its_first_line_cut_short() -> None:
    assert title_of_message("\n  \n*Export* fails\nsecond line") == "Export fails"
    assert title_of_message("word " * 100).endswith("…")
    assert len(title_of_message("word " * 100)) == 200


def test_unnamed_users_and_channels_are_listed_once() -> None:
    assert unnamed_users("<@U1> <@U2|bo> <@U1> <#C1>") == ["U1"]
    assert unnamed_channels("<#C1> <#C2|general> <#C3|> <#C1>") == ["C1", "C3"]


# What people type: any text, with the characters shells and parsers trip on made likely.
TRICKY = st.sampled_from([*"\"'`\\“”‘’«»$%;|#@:*_~&<>{}()[]", "due:", "p1", "P3", "<@U1>", "  ", "\t", "\n"])
TYPED = st.lists(st.one_of(st.text(min_size=1, max_size=8), TRICKY), max_size=25).map("".join)


def slack_escaped(typed: str) -> str:
    """How Slack sends typed text in a command: `&`, `<` and `>` escaped."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ends_in_an_option(typed: str) -> bool:
    """A p0-p3 last, or a `due:` among the last four words (`due: in 3 days`): the text has trailing options."""
    words = typed.lower().split()
    return bool(words) and (words[-1] in {"p0", "p1", "p2", "p3"} or any(w.startswith("due:") for w in words[-4:]))


@settings(max_examples=examples(200), deadline=None)
@given(TYPED.filter(lambda t: fold(t) and not ends_in_an_option(t) and not any(m in t for m in "*_~")))
def test_without_trailing_options_the_title_is_the_text(typed: str) -> None:
    parsed = parse_task_command(slack_escaped(typed), today=TODAY)
    assert parsed.title == fold(typed)
    assert (parsed.assignee, parsed.due, parsed.priority) == (None, None, None)


@settings(max_examples=examples(200), deadline=None)
@given(
    TYPED.filter(lambda t: fold(t) and not ends_in_an_option(t) and not any(m in t for m in "*_~")),
    st.permutations(["<@U0ANA1234|ana>", "due:2026-12-24", "p2"]),
    st.integers(min_value=0, max_value=3),
)
def test_trailing_options_in_any_order_leave_the_title_whole(typed: str, options: list[str], count: int) -> None:
    chosen = options[:count]
    parsed = parse_task_command(f"{slack_escaped(typed)} {' '.join(chosen)}", today=TODAY)
    assert parsed.title == fold(typed)
    assert parsed.assignee == ("U0ANA1234" if "<@U0ANA1234|ana>" in chosen else None)
    assert parsed.due == (date(2026, 12, 24) if "due:2026-12-24" in chosen else None)
    assert parsed.priority == ("P2" if "p2" in chosen else None)


@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=60))
def test_readable_text_never_shows_markup(markup: str) -> None:
    # Whatever Slack sends, no `<@…>`, `<#…>` or `<!…>` reaches a task's name.
    shown = task_name(markup, {})
    for opening in ("<@U", "<#C", "<!"):
        assert opening not in shown or opening in markup.replace("&lt;", "<")
