"""The report as data: JSON (everything) and CSV (one table at a time), from the same ReportView.

`as_json` and `as_csv` make the whole of it from a view with every open item. The exports the bridge serves are
`json_body` and `csv_body`: the same bytes, with the open items already serialized in chunks where the report was
built (domain/report_export.py), so the event loop only joins a small head and tail around them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from bridge.domain.report import Distribution, Report
from bridge.domain.report_export import OPEN_HEADER, Export, csv_text, hours, open_item, spreadsheet_safe
from bridge.services.reports import ReportView

__all__ = ["CSV_TABLES", "as_csv", "as_json", "csv_body", "hours", "json_body", "open_item", "spreadsheet_safe"]

CSV_TABLES = ("open", "weeks", "hit_rates", "people", "pushes")


def _distribution(found: Distribution) -> dict[str, Any]:
    return {"count": found.count, "median_hours": hours(found.median), "p90_hours": hours(found.p90)}


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
        header = list(OPEN_HEADER)
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
    return csv_text(header, rows)


def _flat(found: Distribution) -> list[Any]:
    return [found.count, _blank(hours(found.median)), _blank(hours(found.p90))]


def _blank(value: float | None) -> Any:
    return "" if value is None else round(value, 3)


def json_body(view: ReportView, export: Export) -> Iterator[bytes]:
    """The bytes of json.dumps(as_json(view)) when the view had every open item: `view`'s report has none, `export`
    has them serialized. The head and tail around the `open_items` array come from as_json itself (its keys, in
    its order)."""
    assert export.form == "json" and not view.report.open_items
    whole = as_json(view)
    keys = list(whole)
    at = keys.index("open_items")
    head = json.dumps({key: whole[key] for key in keys[:at]})
    tail = json.dumps({key: whole[key] for key in keys[at + 1 :]})
    assert head != "{}" and tail != "{}"  # both sides of the array have keys: the braces below are theirs
    yield (head[:-1] + ', "open_items": [').encode()
    yield from export.items
    yield ("], " + tail[1:]).encode()


def csv_body(view: ReportView, table: str, export: Export | None) -> Iterator[bytes]:
    """The bytes of as_csv(view, table) when the view had every open item; `export` (CSV) has them for "open"."""
    if table != "open":
        yield as_csv(view, table).encode()
        return
    assert export is not None and export.form == "csv" and not view.report.open_items
    yield csv_text(OPEN_HEADER, ()).encode()
    yield from export.items
