"""The report as data: JSON (everything) and CSV (one table at a time), from the same ReportView."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bridge.domain.report import Distribution, OpenItem, Report
from bridge.services.reports import ReportView

CSV_TABLES = ("open", "weeks", "hit_rates", "people", "pushes")


def hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 3)


def _distribution(found: Distribution) -> dict[str, Any]:
    return {"count": found.count, "median_hours": hours(found.median), "p90_hours": hours(found.p90)}


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


def as_json(view: ReportView) -> dict[str, Any]:
    """Every figure of the page. Durations are hours; SLA times are business hours, ages wall-clock hours."""
    report = view.report
    return {
        "scope": view.selected,
        "title": view.title,
        "generated_at": report.generated_at.astimezone(ZoneInfo(report.timezone)).isoformat(),
        "timezone": report.timezone,
        "links": [{"id": link.id, "name": link.name, "channel_id": link.channel_id} for link in view.links],
        "counts": {"open": report.open, **{status.value: count for status, count in report.counts.items()}},
        "open_items": [open_item(item) for item in report.open_items],
        "weeks": [
            {
                "week": week.label,
                "start": week.start.isoformat(),
                "first_response": _distribution(week.first_response),
                "resolution": _distribution(week.resolution),
            }
            for week in report.weeks
        ],
        "hit_rates": [
            {
                "priority": rate.priority,
                "first_response": {
                    "hits": rate.first_response_hits,
                    "misses": rate.first_response_misses,
                    "rate": rate.first_response,
                },
                "resolution": {"hits": rate.resolution_hits, "misses": rate.resolution_misses, "rate": rate.resolution},
            }
            for rate in report.hit_rates
        ],
        "open_per_person": [{"person": name, "open": count} for name, count in report.open_per_person],
        "due_date_pushes": {
            "total": report.pushes.total,
            "tasks": report.pushes.tasks,
            "pushed_tasks": report.pushes.pushed_tasks,
            "average_per_task": round(report.pushes.average, 3),
            "most_pushed": [
                {"task_gid": p.gid, "name": p.name, "link": p.link, "pushes": p.pushes} for p in report.pushes.most
            ],
        },
        **_deflections(report),
    }


def _deflections(report: Report) -> dict[str, Any]:
    found = report.deflections
    if found is None:
        return {}
    return {
        "deflections": {
            "suggested": found.suggested,
            "accepted": found.accepted,
            "rejected": found.rejected,
            "first_response_saved_seconds": int(found.saved.total_seconds()),
        }
    }


def as_csv(view: ReportView, table: str) -> str:
    """One of CSV_TABLES as CSV text with a header row."""
    report = view.report
    rows: Iterable[Iterable[Any]]
    if table == "open":
        header = _OPEN_HEADER
        rows = (open_item(item).values() for item in report.open_items)
    elif table == "weeks":
        header = ["week", "start", "first_response_count", "first_response_median_hours", "first_response_p90_hours"]
        header += ["resolution_count", "resolution_median_hours", "resolution_p90_hours"]
        rows = (
            [week.label, week.start.isoformat(), *_flat(week.first_response), *_flat(week.resolution)]
            for week in report.weeks
        )
    elif table == "hit_rates":
        header = ["priority", "first_response_hits", "first_response_misses", "first_response_rate"]
        header += ["resolution_hits", "resolution_misses", "resolution_rate"]
        rows = (
            [
                r.priority,
                r.first_response_hits,
                r.first_response_misses,
                _blank(r.first_response),
                r.resolution_hits,
                r.resolution_misses,
                _blank(r.resolution),
            ]
            for r in report.hit_rates
        )
    elif table == "people":
        header, rows = ["person", "open"], report.open_per_person
    else:
        header = ["task_gid", "name", "link", "pushes"]
        rows = ([p.gid, p.name, p.link, p.pushes] for p in report.pushes.most)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return out.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…) phones home, =cmd|… ran
# programs in old Excel). Task names and people come from anyone who can name a task in Asana.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A text cell a spreadsheet shows as text: OWASP's CSV-injection advice (a leading quote), numbers untouched."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


_OPEN_HEADER = [
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
]


def _flat(found: Distribution) -> list[Any]:
    return [found.count, _blank(hours(found.median)), _blank(hours(found.p90))]


def _blank(value: float | None) -> Any:
    return "" if value is None else round(value, 3)
