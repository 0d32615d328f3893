"""The report page in a real browser: headless Chromium (Debian's `chromium`) loads the signed link at phone size,
takes a screenshot and dumps the DOM it built. Fails, never skips, in CI when Chromium is missing."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bridge.sandbox.harness import serve_locally
from bridge.sandbox.world import World
from tests.fixtures_bridge import TEST_RETRY_DELAYS, Running
from tests.fixtures_report import OPEN_BREACHED, OPEN_NO_SLA, POLICY, link_and_seed, report_link
from tests.png import read_png

BREACHED_RED = (0xC6, 0x28, 0x28)  # the page's colour for a breached item (its badge)
PHONE = "412,1400"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium); CI must run the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


async def run_chromium(binary: str, profile: Path, *args: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-sandbox",  # tests run as root in CI containers, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out


@pytest_asyncio.fixture
async def running(world: World, tmp_path: Path) -> AsyncIterator[Running]:
    local = await serve_locally(world, tmp_path, policy=POLICY, retry_delays=TEST_RETRY_DELAYS)
    try:
        yield Running(world=world, local=local)
    finally:
        await local.close()


async def test_the_report_renders_in_headless_chromium_at_phone_size(running: Running, tmp_path: Path) -> None:
    binary = chromium()
    seeded = await link_and_seed(running)
    url = await report_link(running)

    shot = tmp_path / "report.png"
    await run_chromium(binary, tmp_path / "profile-shot", f"--window-size={PHONE}", f"--screenshot={shot}", url)
    data = shot.read_bytes()
    assert len(data) > 10_000, f"a {len(data)}-byte screenshot is too small to be the page"
    image = read_png(data)
    assert (image.width, image.height) == tuple(int(n) for n in PHONE.split(","))
    colours = image.pixels()
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    assert BREACHED_RED in colours, "no breached badge in view: the page or its inline CSS did not render"

    dom = (await run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", url)).decode()
    assert f'<tr class="breached" data-task="{seeded.gids[OPEN_BREACHED]}">' in dom
    assert f'<tr class="no_sla" data-task="{seeded.gids[OPEN_NO_SLA]}">' in dom
    assert dom.count("<svg") >= 3  # two weekly charts and the people chart
    assert "This report link" not in dom  # not a refusal page


async def test_a_bad_link_renders_no_report_in_the_browser(running: Running, tmp_path: Path) -> None:
    binary = chromium()
    await link_and_seed(running)
    url = await report_link(running)
    dom = (await run_chromium(binary, tmp_path / "profile", "--dump-dom", url[:-1] + "x")).decode()
    assert "This report link is not valid" in dom and OPEN_BREACHED not in dom and "<table" not in dom
