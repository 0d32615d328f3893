"""/task parsing, due words and project references: table-driven."""

from __future__ import annotations

from datetime import date

import pytest

from bridge.domain.commands import (
    CommandError,
    RelaySetting,
    TaskCommand,
    parse_due,
    parse_project_ref,
    parse_relay_setting,
    parse_task_command,
    parse_task_ref,
)
from bridge.domain.model import SlackUserId

SUNDAY = date(2026, 11, 29)
FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("today", SUNDAY, SUNDAY),
        ("tomorrow", SUNDAY, date(2026, 11, 30)),
        ("fri", SUNDAY, FRIDAY),
        ("Friday", SUNDAY, FRIDAY),
        ("fri", FRIDAY, date(2026, 12, 11)),  # "fri" on a Friday means the next one
        ("mon", SUNDAY, date(2026, 11, 30)),
        ("next week", SUNDAY, date(2026, 11, 30)),
        ("next week", FRIDAY, date(2026, 12, 7)),
        ("in 3 days", SUNDAY, date(2026, 12, 2)),
        ("in 2 weeks", SUNDAY, date(2026, 12, 13)),
        ("in 1 day", SUNDAY, date(2026, 11, 30)),
        ("2026-12-03", SUNDAY, date(2026, 12, 3)),
        ("2027-01-01", SUNDAY, date(2027, 1, 1)),
    ],
)
def test_due_words(text: str, today: date, expected: date) -> None:
    assert parse_due(text, today=today) == expected


@pytest.mark.parametrize("text", ["someday", "2026-02-30", "in x days", "", "next month"])
def test_bad_due_words_say_what_works(text: str) -> None:
    with pytest.raises(CommandError, match="20"):
        parse_due(text, today=SUNDAY)


U9 = SlackUserId("U9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fix login", TaskCommand("Fix login")),
        ("Fix login <@U123ABC|ana> due:fri p1", TaskCommand("Fix login", SlackUserId("U123ABC"), FRIDAY, "P1")),
        (
            "Outage in EU p0 due:tomorrow <@U9>",
            TaskCommand("Outage in EU", U9, date(2026, 11, 30), "P0"),
        ),
        # options earlier in the text are words of the title
        ("p0 due:tomorrow <@U9> Outage in EU", TaskCommand("p0 due:tomorrow @U9 Outage in EU")),
        ("Fix P1 incident runbook", TaskCommand("Fix P1 incident runbook")),
        ("Review PR due:next week", TaskCommand("Review PR", due=date(2026, 11, 30))),
        ("Review PR due: next week", TaskCommand("Review PR", due=date(2026, 11, 30))),
        ("Review PR due: in 3 days", TaskCommand("Review PR", due=date(2026, 12, 2))),
        ("Review PR due:in 2 weeks p3", TaskCommand("Review PR", due=date(2026, 12, 13), priority="P3")),
        ("Review PR due: fri", TaskCommand("Review PR", due=FRIDAY)),
        ("Check the due: field", TaskCommand("Check the due: field")),
        ("Check the due: field p2", TaskCommand("Check the due: field", priority="P2")),
        ('"quoted title" P2', TaskCommand('"quoted title"', priority="P2")),
        ("Ana's bug due:2026-12-03", TaskCommand("Ana's bug", due=date(2026, 12, 3))),
        ("Fix &lt;div&gt; &amp; CSS", TaskCommand("Fix <div> & CSS")),
        ("Réparer le café ☕ p3", TaskCommand("Réparer le café ☕", priority="P3")),
        ("“Smart quotes” title", TaskCommand("“Smart quotes” title")),
        ("Fix <@W42> now", TaskCommand("Fix @W42 now")),
        ("Fix the *export* button", TaskCommand("Fix the export button")),
        ("Rename snake_case_name to 2*3*4", TaskCommand("Rename snake_case_name to 2*3*4")),
        ("Fix  the\tlogin\r\npage ", TaskCommand("Fix the login page")),
        ("Ask <@U1|ana lee> now <@U2|bo>", TaskCommand("Ask @ana lee now", SlackUserId("U2"))),
    ],
)
def test_task_command(text: str, expected: TaskCommand) -> None:
    assert parse_task_command(text, today=SUNDAY) == expected


def test_unnamed_mentions_read_with_the_names_looked_up() -> None:
    parsed = parse_task_command("Ask <@U0BO12345> about it p1", today=SUNDAY)
    assert parsed.title == "Ask @U0BO12345 about it"  # nothing looked up yet: the id is all there is
    again = parse_task_command(parsed.markup, today=SUNDAY, names={"U0BO12345": "bo"})
    assert again.title == "Ask @bo about it"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "^Give the task a title"),
        ("p1 due:fri", "^Give the task a title"),
        ("Fix <@U1> <@U2>", "^Name one assignee"),
        ("Fix p1 p2", "^Give one priority"),
        ("Fix due:fri due:mon", "^Give one due date"),
        ("Fix due:someday", "^Write the due date as today.*someday"),
        ("Fix due:", "^Say when after due:"),
        ("Fix due:2026-02-30", "^Write a real date"),
        ("Fix due:2026-11-28", "^Pick today or a later day.*2026-11-28"),
        ("x" * 1100, "^Keep the title under 1024"),
    ],
)
def test_task_command_mistakes_start_with_what_to_do(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_task_command(text, today=SUNDAY)


@pytest.mark.parametrize(
    ("ref", "gid"),
    [
        ("1204000000000001", "1204000000000001"),
        ("https://app.asana.com/0/1204000000000001/list", "1204000000000001"),
        ("<https://app.asana.com/0/1204000000000001/1204000000000009>", "1204000000000001"),
        ("https://app.asana.com/1/1100000000000001/project/1204000000000001/list/1204", "1204000000000001"),
        ("<https://app.asana.com/1/11/project/1204000000000001|My project>", "1204000000000001"),
    ],
)
def test_project_refs(ref: str, gid: str) -> None:
    assert parse_project_ref(ref) == gid


@pytest.mark.parametrize("ref", ["", "my project", "https://example.com/0/123/list", "https://app.asana.com/0/0/123"])
def test_bad_project_refs(ref: str) -> None:
    with pytest.raises(CommandError, match="project link"):
        parse_project_ref(ref)


@pytest.mark.parametrize(
    ("url", "gid"),
    [
        ("https://app.asana.com/0/1204/1210", "1210"),
        ("https://app.asana.com/0/1204/1210/f", "1210"),
        ("https://app.asana.com/0/0/1210", "1210"),
        ("https://app.asana.com/0/0/1210/f", "1210"),
        ("https://app.asana.com/0/1204/1210/", "1210"),
        ("https://app.asana.com/0/1204/1210?focus=true", "1210"),
        ("https://app.asana.com/0/1204/1210/f#comments", "1210"),
        ("http://app.asana.com/0/1204/1210", "1210"),
        ("https://APP.asana.com/0/1204/1210", "1210"),
        ("<https://app.asana.com/0/1204/1210|Fix login>", "1210"),
        ("https://app.asana.com/1/1100/task/1210", "1210"),
        ("https://app.asana.com/1/1100/task/1210?focus=true", "1210"),
        ("https://app.asana.com/1/1100/project/1204/task/1210", "1210"),
        ("https://app.asana.com/1/1100/project/1204/task/1210?focus=true&x=1#top", "1210"),
    ],
)
def test_task_refs(url: str, gid: str) -> None:
    assert parse_task_ref(url) == gid


@pytest.mark.parametrize(
    "url",
    [
        "",
        "1210",
        "https://app.asana.com/0/1204/list",
        "https://app.asana.com/0/1204/board",
        "https://app.asana.com/0/1204/1210/list",
        "https://app.asana.com/0/1204",
        "https://app.asana.com/0/0/0",
        "https://app.asana.com/1/1100/project/1204/list/1300",
        "https://app.asana.com/1/1100/project/1204/board/1300",
        "https://app.asana.com/1/1100/project/1204",
        "https://app.asana.com/1/1100/home",
        "https://app.asana.com/1/1100/task/",
        "https://example.com/0/1204/1210",
        "https://app.asana.com.evil.example/0/1204/1210",
        "ftp://app.asana.com/0/1204/1210",
        "http://[::1/0/1/2",
    ],
)
def test_what_is_not_a_task_link(url: str) -> None:
    assert parse_task_ref(url) is None


@pytest.mark.parametrize(
    ("text", "kinds", "quiet"),
    [
        ("all", None, False),
        ("quiet", None, True),
        ("completed comments", frozenset({"completed", "comments"}), False),
        ("Completed, due,  new_tasks", frozenset({"completed", "due", "new_tasks"}), False),
    ],
)
def test_relay_settings(text: str, kinds: frozenset[str] | None, quiet: bool) -> None:
    assert parse_relay_setting(text) == RelaySetting(kinds=kinds, quiet=quiet)


@pytest.mark.parametrize("text", ["", "everything", "completed gossip", "quiet please"])
def test_bad_relay_settings_list_the_kinds(text: str) -> None:
    with pytest.raises(CommandError, match="completed, assigned"):
        parse_relay_setting(text)
