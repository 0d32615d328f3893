"""The report's open items as the JSON and CSV exports write them, serialized in chunks.

At 100,000 tracked tasks a report has some 60,000 open items: tens of megabytes of JSON. They are serialized where
the report is built (the worker process, or a thread of the bridge's) a chunk at a time, and the bridge's event
loop only copies the chunks out (entrypoints/report.py). The bytes are those of serializing the whole in one piece
(json.dumps with its default separators, the csv module's rows), so a chunk boundary changes nothing in the body.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from bridge.domain.report import Report
from bridge.domain.report_items import OpenItem

Form = Literal["json", "csv"]
CHUNK = 1_000  # open items a chunk: a few hundred kilobytes of body

OPEN_HEADER = (
    "task_gid",
    "name",
    "link",
    "url",
    "status",
    "priority",
    "assignee",
    "created_at",
    "age_hours",
    "first_response_left_hours",
    "resolution_left_hours",
    "due_on",
    "pushes",
)
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…) phones home, =cmd|… ran
# programs in old Excel). Task names and people come from anyone who can name a task in Asana.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    """A report without its open items, and those items serialized in `form`, chunk by chunk, in the report's order."""

    report: Report
    form: Form
    items: tuple[bytes, ...]


def hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 3)


def open_item(item: OpenItem) -> dict[str, Any]:
    return {
        "task_gid": item.gid,
        "name": item.name,
        "link": item.link,
        "url": item.permalink_url,
        "status": item.status.value,
        "priority": item.priority,
        "assignee": item.assignee,
        "created_at": item.created_at.isoformat(),
        "age_hours": hours(item.age),
        "first_response_left_hours": hours(item.first_response_left),
        "resolution_left_hours": hours(item.resolution_left),
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "pushes": item.pushes,
    }


def spreadsheet_safe(cell: Any) -> Any:
    """A text cell a spreadsheet shows as text: OWASP's CSV-injection advice (a leading quote), numbers untouched."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_text(header: Sequence[str], rows: Any) -> str:
    """CSV text of rows (each an iterable of cells) under `header` (none if empty), every text cell spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return out.getvalue()


def exported(report: Report, form: Form, *, size: int = CHUNK) -> Export:
    """`report`'s open items serialized in chunks of `size`: in JSON, the elements of the `open_items` array (every
    chunk after the first starts with the separator); in CSV, the rows of the open table (no header)."""
    items = tuple(_chunks(report.open_items, form, size))
    return Export(report=replace(report, open_items=()), form=form, items=items)


def _chunks(items: Sequence[OpenItem], form: Form, size: int) -> Iterator[bytes]:
    for at in range(0, len(items), size):
        part = items[at : at + size]
        if form == "json":
            text = ", ".join(json.dumps(open_item(item)) for item in part)
            yield (", " + text if at else text).encode()
        else:
            yield csv_text((), (open_item(item).values() for item in part)).encode()
