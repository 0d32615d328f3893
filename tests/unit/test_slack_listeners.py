"""The listener tables: every listener is a top-level function of (deps, what Bolt passes by name), Bolt sees the
names left once deps is bound, /task is tried first, and `/asana` answers its quick verbs in the ack."""

from __future__ import annotations

import inspect
from functools import partial
from types import SimpleNamespace
from typing import Any, cast

import pytest
from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.util.utils import get_arg_names_of_callable

from bridge import wording
from bridge.entrypoints import slack, slack_asana, slack_install
from bridge.entrypoints.slack_listener import Listener, Listeners

EVERY = [row for table in (*slack.TABLES, slack_install.LISTENERS) for row in table]
# What Bolt passes a listener by name (slack_bolt/kwargs_injection), of what ours ask for.
BOLT_NAMES = {"ack", "body", "action", "command", "event", "view", "shortcut", "respond", "context"}


@pytest.mark.parametrize("row", EVERY, ids=lambda row: f"{row.kind}:{row.function.__name__}")
def test_a_listener_takes_its_dependencies_then_what_bolt_passes_by_name(row: Listener) -> None:
    assert inspect.iscoroutinefunction(row.function)
    names = list(inspect.signature(row.function).parameters)
    assert names[0] == "deps"
    assert set(names[1:]) <= BOLT_NAMES, names
    # What the installed Bolt reads from the function registered (the dependencies bound by functools.partial).
    assert get_arg_names_of_callable(partial(row.function, object())) == names[1:]


def test_task_is_tried_first() -> None:
    assert slack.TABLES[0][0][:2] == ("command", "/task")


def test_a_table_names_each_listener_once() -> None:
    keys = [(row.kind, str(row.matcher)) for row in EVERY if row.function.__name__ != "ignored"]
    # app_uninstalled and tokens_revoked are both in slack_install (when installs are stored) and quiet otherwise.
    assert len(keys) == len(set(keys))


UNKNOWN = wording.UNKNOWN_SUBCOMMAND.format
QUICK = [
    ("", wording.HELP),
    ("help", wording.HELP),
    ("HELP me", wording.HELP),
    ("frobnicate now", UNKNOWN(word="frobnicate")),
    ("<b>x</b>", UNKNOWN(word=wording.escape("<b>x</b>"))),
    ("similar staging database", UNKNOWN(word="similar")),  # no index of earlier answers in this install
    ("link", "Which project? `/asana link https://app.asana.com/0/<project>/list`"),
]


@pytest.mark.parametrize(("text", "answer"), QUICK)
async def test_asana_answers_its_quick_verbs_in_the_ack(text: str, answer: str) -> None:
    acked: list[dict[str, Any]] = []

    async def ack(**kwargs: Any) -> None:
        acked.append(kwargs)

    async def respond(**kwargs: Any) -> None:
        raise AssertionError(f"nothing to answer after the ack: {kwargs}")

    deps = cast(Listeners, SimpleNamespace(suggestions=None))  # these verbs read nothing else
    command = {"text": text, "team_id": "T1", "channel_id": "C1", "user_id": "U1"}
    await slack_asana.asana_command(deps, cast(AsyncAck, ack), command, cast(AsyncRespond, respond))
    assert acked == [{"text": answer}]
