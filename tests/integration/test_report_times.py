"""The report tells time the team's way (issue #18): its Generated and link-expiry line on the team's clock with
the zone named, and `/report.json` saying which timezone its moments are in."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.fixtures_report import POLICY, fetch, link_and_seed, query_of, report_link

NEW_YORK = POLICY.replace('timezone = "UTC"', 'timezone = "America/New_York"')


@pytest.fixture
def policy(world: World) -> str:
    return NEW_YORK


async def test_the_page_and_json_tell_time_in_the_teams_timezone(running: Running) -> None:
    seeded = await link_and_seed(running)
    url = await report_link(running)
    status, html, _ = await fetch(url)
    assert status == 200
    meta = re.search(r'<div class="meta">Generated ([^<]*)</div>', html)
    assert meta is not None, html[:2000]
    # "Mon 07 Dec 2026 14:05 EST · this link works until Mon 14 Dec 2026 14:05 EST (in 6d 23h)"
    zone = datetime.now(ZoneInfo("America/New_York")).tzname()
    pattern = rf"\w{{3}} \d\d \w{{3}} \d{{4}} \d\d:\d\d {zone} · this link works until .+ \w{{3}} \((in [^)]+)\)"
    assert re.fullmatch(pattern, meta.group(1)), meta.group(1)
    assert "UTC" not in meta.group(1)

    status, body, _ = await fetch(f"{running.url}/report.json?{urlencode({**query_of(url), 'link': seeded.scope})}")
    data = json.loads(body)
    assert data["timezone"] == "America/New_York"
    generated = datetime.fromisoformat(data["generated_at"])
    assert generated.utcoffset() == datetime.now(ZoneInfo("America/New_York")).utcoffset()
