"""The /task corpus (tests/data/corpus/task-commands.jsonl): every real-world command gives the title people expect."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bridge.domain.commands import CommandError, parse_due, parse_task_command

CORPUS = Path(__file__).parent.parent / "data" / "corpus" / "task-commands.jsonl"
TODAY = date(2026, 12, 6)
NAMES = {"U0BO12345": "bo"}  # what users.info says of the one unnamed mention in the corpus


def rows() -> list[Any]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [pytest.param(json.loads(line), id=f"line {n}") for n, line in enumerate(lines, 1) if line.strip()]


@pytest.mark.parametrize("row", rows())
def test_corpus_row(row: dict[str, Any]) -> None:
    if "error" in row:
        with pytest.raises(CommandError):
            parse_task_command(row["text"], today=TODAY, names=NAMES)
        return
    parsed = parse_task_command(row["text"], today=TODAY, names=NAMES)
    assert parsed.title == row["title"]
    assert parsed.assignee == row.get("assignee")
    assert parsed.due == (parse_due(row["due"], today=TODAY) if "due" in row else None)
    assert parsed.priority == row.get("priority")


def test_the_corpus_is_all_there() -> None:
    assert len(rows()) >= 33  # the shared corpus's rows, and ours after them
