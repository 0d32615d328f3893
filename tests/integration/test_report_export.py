"""GET /report.json and /report.csv over HTTP, the open items serialized in the worker process (SQLite file and
PostgreSQL): byte for byte the body the bridge's own process makes, and the body made in one piece as before
(`as_json`, `as_csv` over the whole report), with the same headers."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.adapters.store import SqlStore
from bridge.adapters.worker_process import WorkerProcess
from bridge.domain.model import (
    ChannelId,
    Link,
    ProjectGid,
    SlackUserId,
    TeamId,
    WorkspaceGid,
)
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.report_access import Credentials
from bridge.domain.report_export import CHUNK
from bridge.entrypoints.report import ReportPages
from bridge.entrypoints.report_formats import as_csv, as_json
from bridge.services.reports import Reports
from tests.fixtures_report import varied_task
from tests.support import FakeClock
from tests.unit.fakes import FakeSlack

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
TOKEN = "operator-token-for-export-tests-0123"
POLICY = parse_policy({"sla": {"P1": {"first_response": "4h", "resolution": "2d"}, "warn_at": 0.75}})
LINK = Link(
    TeamId("T1"),
    ChannelId("C1"),
    ProjectGid("p1"),
    "Developer ☕ Questions",
    WorkspaceGid("w"),
    SlackUserId("U1"),
    NOW - timedelta(days=60),
    priority_field_gid="f-prio",
)
NAMES = (
    '=HYPERLINK("http://evil.example","Open")',
    'Café — "quoted", with commas\nand lines',
    "@ana",
    "Plain",
    "+1+cmd|' /C calc'!A0",
)
TASKS = 3 * CHUNK + 400  # three in four open: open items over more than two chunks


def reports(store: SqlStore, builder: WorkerProcess | None) -> Reports:
    return Reports(
        links=store,
        reports=store,
        secrets=store,
        slack=FakeSlack(),
        clock=FakeClock(NOW),
        policy=POLICY,
        base_url="http://bridge.example",
        operator_token=TOKEN,
        deflections=store,
        builder=builder,
    )


@pytest_asyncio.fixture
async def seeded(store: SqlStore) -> SqlStore:
    await store.save_link(LINK)
    await store.add_tracked_tasks(
        [varied_task(LINK, n, now=NOW, name=f"{NAMES[n % len(NAMES)]} {n}") for n in range(TASKS)]
    )
    return store


async def served(found: Reports) -> TestClient[web.Request, web.Application]:
    app = web.Application()
    app.add_routes(ReportPages(found).routes())
    return TestClient(TestServer(app))


Fetched = tuple[bytes, dict[str, str]]


async def fetch_all(found: Reports) -> dict[str, Fetched]:
    """The JSON and every CSV table of the combined report, as served: body and headers."""
    paths = ["/report.json", *(f"/report.csv?table={t}" for t in ("open", "weeks", "hit_rates", "people", "pushes"))]
    fetched: dict[str, Fetched] = {}
    async with await served(found) as client:
        for path in paths:
            response = await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status == 200, path
            fetched[path] = (await response.read(), dict(response.headers))
    return fetched


@pytest_asyncio.fixture
async def worker(database_url: str) -> AsyncIterator[WorkerProcess]:
    apart = WorkerProcess(database_url, POLICY)
    try:
        yield apart
    finally:
        await apart.close()
    assert multiprocessing.active_children() == []


async def test_the_exports_made_in_the_worker_are_the_bytes_made_in_one_piece(
    seeded: SqlStore, worker: WorkerProcess
) -> None:
    here, apart = reports(seeded, None), reports(seeded, worker)
    from_worker = await fetch_all(apart)
    from_here = await fetch_all(here)
    assert {path: body for path, (body, _) in from_worker.items()} == {p: b for p, (b, _) in from_here.items()}

    # As the bridge made them before: the whole view, made into JSON or CSV text in one piece.
    whole = await here.view(Credentials(token=TOKEN), None)
    assert whole.report.open > 2 * CHUNK and len(whole.report.open_items) == whole.report.open
    body, headers = from_worker["/report.json"]
    assert body == json.dumps(as_json(whole)).encode("utf-8")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Length"] == str(len(body)) and headers["Cache-Control"] == "no-store"
    for table in ("open", "weeks", "hit_rates", "people", "pushes"):
        body, headers = from_worker[f"/report.csv?table={table}"]
        assert body == as_csv(whole, table).encode("utf-8"), table
        assert headers["Content-Type"] == "text/csv; charset=utf-8"
        assert headers["Content-Disposition"] == f'attachment; filename="report-all-{table}.csv"'
    assert b"\"'=HYPERLINK(" in from_worker["/report.csv?table=open"][0]  # neutralised, and quoted by the csv module
