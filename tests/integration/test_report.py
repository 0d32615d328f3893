"""The report end to end over real HTTP: `/asana report` hands out a signed link; the page, JSON and CSV behind it;
and every way of asking without the right to (no link, altered, expired, another link's, a revoked secret)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest_asyncio

from bridge import wording
from bridge.domain.model import TaskGid
from bridge.domain.report_access import signature
from bridge.sandbox.harness import serve_locally
from bridge.sandbox.oas import OpenApiSpec
from bridge.sandbox.world import World
from bridge.services.reports import SECRET_NAME
from tests.fixtures_bridge import TEST_RETRY_DELAYS, Running
from tests.fixtures_report import (
    DONE,
    OPEN_BREACHED,
    OPEN_NO_SLA,
    OPERATOR_TOKEN,
    POLICY,
    fetch,
    link_and_seed,
    query_of,
    report_link,
)
from tests.support import eventually


@pytest_asyncio.fixture
async def running(world: World, tmp_path: Path, oas_spec: OpenApiSpec) -> AsyncIterator[Running]:
    """The bridge with the test policy and an operator report token, as an operator would configure it."""
    local = await serve_locally(
        world, tmp_path, policy=POLICY, retry_delays=TEST_RETRY_DELAYS, env={"BRIDGE_REPORT_TOKEN": OPERATOR_TOKEN}
    )
    try:
        yield Running(world=world, local=local)
    finally:
        await local.close()
    assert oas_spec.validate_exchanges(world.asana.requests, strict=True) == []


async def test_asana_report_posts_a_summary_whose_link_opens_the_page_json_and_csv(running: Running) -> None:
    seeded = await link_and_seed(running)
    url = await report_link(running)
    assert url.startswith(f"{running.url}/report?")
    summary = next(m for m in running.world.slack.messages(running.world.channel) if "SLA report" in m.text)
    assert "2 open" in summary.text and "1 breached" in summary.text
    assert f"SLA report: {seeded.link.project_name}" in json.dumps(summary.blocks)

    status, html, headers = await fetch(url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert '<meta name="viewport"' in html and "<script" not in html and "<svg" in html
    assert OPEN_BREACHED in html and OPEN_NO_SLA in html
    assert DONE not in html.split('id="open-items"')[1].split("</table>")[0]  # completed: not an open item
    assert html.index(OPEN_BREACHED) < html.index(OPEN_NO_SLA)  # the breached one first
    assert f'data-task="{seeded.gids[OPEN_BREACHED]}"' in html and 'class="badge breached"' in html

    query = urlencode({**query_of(url), "link": seeded.scope})
    status, body, _ = await fetch(f"{running.url}/report.json?{query}")
    assert status == 200
    data = json.loads(body)
    assert data["scope"] == seeded.scope and data["counts"]["open"] == 2 and data["counts"]["breached"] == 1
    assert [item["name"] for item in data["open_items"]] == [OPEN_BREACHED, OPEN_NO_SLA]
    breached = data["open_items"][0]
    assert breached["priority"] == "P1" and breached["assignee"] == "Bo Chen" and breached["pushes"] == 2
    assert breached["resolution_left_hours"] < 0 and breached["first_response_left_hours"] < 0
    assert data["due_date_pushes"]["total"] == 2 and data["due_date_pushes"]["average_per_task"] == 0.667
    assert data["open_per_person"] == [{"person": "Bo Chen", "open": 1}, {"person": "Unassigned", "open": 1}]
    this_week = data["weeks"][-1]
    assert this_week["resolution"]["count"] in (0, 1)  # completed an hour ago: this week unless a week began since
    assert {rate["priority"] for rate in data["hit_rates"]} == {"P1", "P2"}
    assert data["links"] == [
        {"id": seeded.scope, "name": seeded.link.project_name, "channel_id": running.world.channel}
    ]

    status, body, headers = await fetch(f"{running.url}/report.csv?{query}")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["name"] for row in rows] == [OPEN_BREACHED, OPEN_NO_SLA]
    assert rows[0]["status"] == "breached" and rows[1]["status"] == "no_sla" and rows[1]["priority"] == ""
    status, body, _ = await fetch(f"{running.url}/report.csv?{query}&table=people")
    assert body.splitlines() == ["person,open", "Bo Chen,1", "Unassigned,1"]


async def test_without_a_valid_link_there_is_no_data(running: Running) -> None:
    seeded = await link_and_seed(running)
    url = await report_link(running)
    good = query_of(url)
    secret = await running.bridge.store.server_secret(SECRET_NAME, candidate="unused", now=running.bridge.clock.now())
    assert secret is not None  # made by the first report link
    past = int(time.time()) - 60
    expired = {"scope": seeded.scope, "expires": str(past), "sig": signature(secret.encode(), seeded.scope, past)}
    later = int(good["expires"])
    other = {"scope": "T0-C0", "expires": str(later), "sig": signature(secret.encode(), "T0-C0", later)}
    cases = {
        "missing": ({}, 401),
        "tampered signature": ({**good, "sig": good["sig"][:-1] + ("0" if good["sig"][-1] != "0" else "1")}, 403),
        "tampered expiry": ({**good, "expires": str(later + 3600)}, 403),
        "tampered scope": ({**good, "scope": "all"}, 403),
        "expired": (expired, 403),
        "another link's": ({**other, "link": seeded.scope}, 403),
        "this link asking for all": ({**good, "link": "all"}, 403),
        "no signature": ({"scope": seeded.scope, "expires": good["expires"]}, 403),
        "wrong operator token": ({"token": "guess"}, 403),
    }
    for path in ("/report", "/report.json", "/report.csv"):
        for name, (params, expected) in cases.items():
            status, body, _ = await fetch(f"{running.url}{path}?{urlencode(params)}")
            assert status == expected, (path, name, body)
            for secret_word in (seeded.link.project_name, OPEN_BREACHED, OPEN_NO_SLA, seeded.scope):
                assert secret_word not in body, (path, name)

    status, _, _ = await fetch(f"{running.url}/report?{urlencode(good)}")
    assert status == 200  # the genuine link still works


async def test_the_operator_token_opens_every_report_and_rotating_the_secret_revokes_links(running: Running) -> None:
    seeded = await link_and_seed(running)
    url = await report_link(running)
    auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    status, body, _ = await fetch(f"{running.url}/report.json", headers=auth)
    assert status == 200 and json.loads(body)["scope"] == "all" and json.loads(body)["counts"]["open"] == 2
    status, html, _ = await fetch(f"{running.url}/report?token={OPERATOR_TOKEN}&link={seeded.scope}")
    assert status == 200 and "All links (combined)" in html and OPEN_BREACHED in html
    status, _, _ = await fetch(f"{running.url}/report?token={OPERATOR_TOKEN}&link=T0-C0")
    assert status == 404

    await running.bridge.reports.rotate_secret()
    status, body, _ = await fetch(url)
    assert status == 403 and OPEN_BREACHED not in body
    fresh = await report_link_again(running, url)
    status, _, _ = await fetch(fresh)
    assert status == 200


async def report_link_again(running: Running, old: str) -> str:
    world = running.world
    await running.user("ana").slash_command("/asana", "report", world.channel)

    def newer() -> str | None:
        for message in world.slack.messages(world.channel):
            if message.bot_id and "SLA report" in message.text and message.blocks:
                url = str(message.blocks[2]["elements"][0]["url"])
                if url != old:
                    return url
        return None

    return await eventually(newer)


async def test_asana_report_in_an_unlinked_channel_says_what_to_do(running: Running) -> None:
    world = running.world
    elsewhere = world.slack.add_channel("random", members=["ana", world.slack.team.bot.user_id])
    delivery = await running.user("ana").slash_command("/asana", "report", elsewhere)
    assert delivery.status == 200 and wording.REPORT_NOT_LINKED in delivery.body
    assert [m for m in world.slack.messages(elsewhere) if m.bot_id] == []


async def test_the_next_report_sees_what_was_saved_or_answered_since_the_last(running: Running) -> None:
    seeded = await link_and_seed(running)
    store, clock = running.bridge.store, running.bridge.clock
    query = f"token={OPERATOR_TOKEN}&link={seeded.scope}"
    first = json.loads((await fetch(f"{running.url}/report.json?{query}"))[1])
    assert first["counts"]["open"] == 2

    typo = await store.get_tracked_task(TaskGid(seeded.gids[OPEN_NO_SLA]))
    assert typo is not None
    done = {**typo.snapshot, "completed": True, "completed_at": clock.now().isoformat()}
    await store.save_tracked_task(replace(typo, snapshot=done, completed=True, updated_at=clock.now()))
    key = TaskGid(seeded.gids[OPEN_BREACHED])
    assert await store.record_first_response(key, at=clock.now(), responder=None)  # no save: its own column

    second = json.loads((await fetch(f"{running.url}/report.json?{query}"))[1])
    assert [item["name"] for item in second["open_items"]] == [OPEN_BREACHED]
    assert second["open_items"][0]["first_response_left_hours"] is None  # answered now
    assert second["weeks"][-1]["first_response"]["count"] >= 1


async def test_bridge_rotate_report_secret_revokes_every_link(running: Running, tmp_path: Path) -> None:
    await link_and_seed(running)
    url = await report_link(running)
    assert (await fetch(url))[0] == 200
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")},
        **running.world.environment(port=0, database_url=running.local.database_url),
    }
    rotated = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bridge", "rotate-report-secret"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "revoked" in rotated.stdout
    status, body, _ = await fetch(url)
    assert status == 403 and OPEN_BREACHED not in body

    configured = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bridge", "rotate-report-secret"],
        cwd=tmp_path,
        env={**env, "BRIDGE_REPORT_SECRET": "an-operator-secret-0123456789"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert configured.returncode == 1 and "change it" in configured.stderr
