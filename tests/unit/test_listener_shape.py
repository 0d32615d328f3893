"""Bolt answers Slack when a listener returns (process_before_response, bridge/wiring/inbound.py), so a listener
waits on nothing after its ack: what it does next goes to the background. Events are acked when their listener
returns, so an event listener waits on nothing at all. Checked on the source, for every listener there is."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.entrypoints import slack
from bridge.entrypoints.slack_listener import Listener

ENTRYPOINTS = Path(slack.__file__).parent


def _awaits(node: ast.AST) -> Iterator[ast.Await]:
    """The awaits of this code itself, not of the functions it defines (those run later, in the background)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(child, ast.Await):
            yield child
        yield from _awaits(child)


def _is_ack(statement: ast.stmt) -> bool:
    """`await ack(…)` as a statement of its own."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Await)
        and isinstance(statement.value.value, ast.Call)
        and isinstance(statement.value.value.func, ast.Name)
        and statement.value.value.func.id == "ack"
    )


def _after_ack(body: list[ast.stmt], acked: bool = False) -> Iterator[ast.stmt]:
    """The statements of `body` that await something once the ack is sent (an ack inside a branch counts from there
    on, in that branch)."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if acked and list(_awaits(statement)):
            yield statement
        elif isinstance(statement, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For)):
            blocks = [getattr(statement, name, []) for name in ("body", "orelse", "finalbody")]
            blocks += [handler.body for handler in getattr(statement, "handlers", [])]
            for block in blocks:
                yield from _after_ack(block, acked)
        acked = acked or _is_ack(statement)


def _acking_functions() -> list[tuple[str, ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(ENTRYPOINTS.glob("slack_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef) and "ack" in {a.arg for a in node.args.args}:
                found.append((f"{path.stem}.{node.name}", node))
    return found


@pytest.mark.parametrize("name,function", _acking_functions(), ids=[name for name, _ in _acking_functions()])
def test_nothing_is_awaited_after_the_ack(name: str, function: ast.AsyncFunctionDef) -> None:
    late = [statement.lineno for statement in _after_ack(function.body)]
    assert not late, f"{name} awaits after its ack (lines {late})"


def _event_listeners() -> list[Listener]:
    return [listener for table in slack.TABLES for listener in table if listener.kind == "event"]


@pytest.mark.parametrize("listener", _event_listeners(), ids=lambda listener: str(listener.matcher))
def test_an_event_listener_awaits_nothing(listener: Listener) -> None:
    function = ast.parse(inspect.getsource(listener.function)).body[0]
    assert not list(_awaits(function)), f"{listener.function.__name__} awaits: its event's ack would wait too"


def test_the_rule_sees_an_await_after_an_ack() -> None:
    source = "async def f(deps, ack):\n    if deps:\n        await ack()\n        await deps.slack.post('x')\n"
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.AsyncFunctionDef)
    with pytest.raises(AssertionError, match="awaits after its ack"):
        test_nothing_is_awaited_after_the_ack("f", function)
