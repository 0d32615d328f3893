"""GET /report, /report.json, /report.csv: the SLA report for people holding a signed link or the operator token.

The page is rendered on the server (Jinja2 templates packaged with the bridge), with inline CSS and SVG, no
scripts and nothing fetched from elsewhere, so it works without JavaScript and on a phone. A request without
valid credentials gets a 401 or 403 that says nothing about any link, not even its name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bridge.domain.report import ALL, Status
from bridge.domain.report_access import Credentials, Refusal
from bridge.domain.report_export import Export, Form
from bridge.entrypoints import report_charts
from bridge.entrypoints.report_formats import CSV_TABLES, csv_body, hours, json_body
from bridge.services.reports import AccessDenied, Reports, ReportView, UnknownLink
from bridge.wording import when

log = logging.getLogger(__name__)

# The page shows the most urgent open items; the CSV and JSON have every one.
PAGE_ROWS = 100
# Links carry their signature in the query: never send it on to another site, never keep the page in a cache.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
REFUSED = {
    Refusal.MISSING: "A report link is needed. Run /asana report in a linked Slack channel to get one.",
    Refusal.MALFORMED: "This report link is incomplete. Ask for a new one with /asana report.",
    Refusal.TAMPERED: "This report link is not valid. Ask for a new one with /asana report.",
    Refusal.EXPIRED: "This report link has expired. Ask for a new one with /asana report.",
    Refusal.OTHER_SCOPE: "This report link does not open that report.",
}
STATUS_LABELS = {
    Status.BREACHED: "Breached",
    Status.AT_RISK: "At risk",
    Status.ON_TRACK: "On track",
    Status.NO_SLA: "No SLA",
}


class ReportPages:
    def __init__(self, reports: Reports) -> None:
        self._reports = reports
        self._templates = Environment(
            loader=PackageLoader("bridge.entrypoints", "templates"),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates.filters["age"] = _age
        self._templates.filters["business"] = _business
        self._templates.filters["response"] = _response
        self._templates.filters["hours"] = hours
        self._page = self._templates.get_template("report.html")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/report", self.page), web.get("/report.json", self.json), web.get("/report.csv", self.csv)]

    async def page(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request, rows=PAGE_ROWS)
        report = view.report
        credentials = _credentials(request)
        html = self._page.render(
            view=view,
            report=report,
            rows=report.open_items[:PAGE_ROWS],
            statuses=STATUS_LABELS,
            Status=Status,
            all_scope=ALL,
            first_response_chart=report_charts.weekly_chart(report.weeks, lambda w: w.first_response),
            resolution_chart=report_charts.weekly_chart(report.weeks, lambda w: w.resolution),
            people_chart=report_charts.people_chart(report.open_per_person),
            path=report_charts.LineChart.path,
            hidden=_carried(credentials),
            data_query=urlencode({**_carried(credentials), "link": view.selected}),
            csv_tables=CSV_TABLES,
            generated=when.moment(report.generated_at, report.timezone),
            expires=_expiry(view),
        )
        return web.Response(text=html, content_type="text/html", headers=HEADERS)

    async def json(self, request: web.Request) -> web.StreamResponse:
        view, export = await self._export(request, "json")
        return await _streamed(request, json_body(view, export), "application/json", HEADERS)

    async def csv(self, request: web.Request) -> web.StreamResponse:
        table = request.query.get("table", "open")
        if table not in CSV_TABLES:
            raise web.HTTPBadRequest(text=f"table: one of {', '.join(CSV_TABLES)}", headers=HEADERS)
        if table == "open":
            view, export = await self._export(request, "csv")
            body = csv_body(view, table, export)
        else:
            view = await self._view(request, rows=0)  # the other tables are figures: no open item is needed
            body = csv_body(view, table, None)
        name = f"report-{view.selected}-{table}.csv"
        headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return await _streamed(request, body, "text/csv", headers)

    async def _export(self, request: web.Request, form: Form) -> tuple[ReportView, Export]:
        try:
            return await self._reports.export(_credentials(request), request.query.get("link") or None, form=form)
        except (AccessDenied, UnknownLink) as refused:
            raise _refused(request, refused) from None

    async def _view(self, request: web.Request, *, rows: int | None = None) -> ReportView:
        try:
            return await self._reports.view(_credentials(request), request.query.get("link") or None, rows=rows)
        except (AccessDenied, UnknownLink) as refused:
            raise _refused(request, refused) from None


def _refused(request: web.Request, refused: AccessDenied | UnknownLink) -> web.HTTPException:
    """A refused or unknown report as the 401, 403 or 404 that says nothing about any link."""
    if isinstance(refused, UnknownLink):
        return web.HTTPNotFound(text="No such link.", headers=HEADERS)
    status = 401 if refused.refusal is Refusal.MISSING else 403
    log.info("report refused (%s) for %s", refused.refusal.value, request.remote)
    headers = {**HEADERS, "WWW-Authenticate": 'Bearer realm="report"'} if status == 401 else HEADERS
    return _refusal(status, REFUSED[refused.refusal], headers)


async def _streamed(
    request: web.Request, body: Iterator[bytes], content_type: str, headers: dict[str, str]
) -> web.StreamResponse:
    """`body` written out chunk by chunk: an export of 60,000 open items is tens of megabytes, made elsewhere (the
    worker process); the loop only copies each chunk to the socket, and turns between them."""
    chunks = list(body)  # made already, bar a small head and tail: their length is known, as a whole body's was
    response = web.StreamResponse(headers=headers)
    response.content_type, response.charset = content_type, "utf-8"
    response.content_length = sum(len(chunk) for chunk in chunks)
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


def _refusal(status: int, text: str, headers: dict[str, str]) -> web.HTTPException:
    kind = web.HTTPUnauthorized if status == 401 else web.HTTPForbidden
    return kind(text=text, headers=headers)


def _credentials(request: web.Request) -> Credentials:
    token = request.query.get("token")
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return Credentials(
        scope=request.query.get("scope"),
        expires=request.query.get("expires"),
        sig=request.query.get("sig"),
        token=token or None,
    )


def _carried(credentials: Credentials) -> dict[str, str]:
    """The query parameters that carry a signed link's access on to the filter, the JSON and the CSV.

    A bearer token in a header is not copied into links (it would end up in the page); `?token=` is.
    """
    if credentials.sig is not None:
        return {"scope": credentials.scope or "", "expires": credentials.expires or "", "sig": credentials.sig}
    return {"token": credentials.token} if credentials.token else {}


def _expiry(view: ReportView) -> str | None:
    if view.grant.expires is None:
        return None
    expires = datetime.fromtimestamp(view.grant.expires, UTC)
    return f"{when.moment(expires, view.report.timezone)} ({when.relative(expires, view.report.generated_at)})"


def _age(value: timedelta) -> str:
    return when.duration(value)


def _business(value: timedelta | None) -> str:
    return "—" if value is None else when.working(value)


def _response(value: timedelta | None) -> str:
    return "—" if value is None else when.first_response(value)
