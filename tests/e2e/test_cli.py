"""The `bridge` command's other verbs as a person runs them: demo, check, migrate (rotate-report-secret is in
tests/integration/test_report.py, beside the links it revokes)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bridge.adapters.store.migrate import current_revision, head_revision
from bridge.sandbox.world import World

REPO = Path(__file__).resolve().parents[2]


def _env(extra: dict[str, str]) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def _bridge(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args], cwd=cwd, env=_env(env), capture_output=True, text=True, timeout=120
    )


# What the demo's transcript must say, whatever the day and hour it runs (the test after the first runs it at others).
DEMO_LINES = (
    "/asana link",
    "Linked this channel",
    "/task",
    "subtasks ['Acknowledge']",
    "(in Slack): Hash the raw body",
    "message shortcut",
    "thread reply: ✅ completed by @bo",
    "the task's card now reads: ✅ ~Don't retry \"Save\" webhooks without backoff~",  # typed words kept whole
    "⏰ It is due today.\n",
    "🚨 SLA missed: no first response yet, and the target (P2, 1 working day) passed",
    "(its buttons stay)",
    "the card now reads:",
    # Bo is off work in Berlin (named, not pinged); Cy is out of office (named, not pinged).
    "🧭 Assigned to Bo Chen: matches “oauth”, fewest open tasks (0). Skipped: Cy Park (out of office until",
    "created by bo (with bo's own token)",
    "[Keep it] [Hand it back]",
    "Bo Chen did not complete it within 1 working day",
    "GET /healthz → 200",
    "ana: /asana report",
    "GET /report → 200",
    "GET /report with an altered signature → 403",
)
HOLIDAY = re.compile(r'holiday_calendar = "US-NY": \w{3} \d\d \w{3} \d{4} is a day off')
# The ping to Bo, held for his morning, names a moment still to come.
PING = re.compile(
    r"tick at (\w{3} \d\d \w{3} \d\d:\d\d) in New York \(.*\):\n.*⏳ @bo, .* If nobody acts by (.{16}) it"
)


def _later(first: str, then: str) -> bool:
    """Whether `then` comes after `first`, both "Thu 10 Dec 03:00" (a year's end between them allowed)."""
    a, b = (datetime.strptime(text[4:], "%d %b %H:%M") for text in (first, then))
    return b > a or (a.month == 12 and b.month == 1)


def check_demo_transcript(stdout: str) -> None:
    missing = [line for line in DEMO_LINES if line not in stdout]
    assert not missing, missing
    assert HOLIDAY.search(stdout), stdout
    ping = PING.search(stdout)
    assert ping and _later(*ping.groups()), stdout
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("Report: http://127.0.0.1:") and "/report?scope=" in last and "&sig=" in last


def test_demo_prints_a_transcript_and_exits_zero(tmp_path: Path) -> None:
    result = _bridge(["demo"], cwd=tmp_path, env={})
    assert result.returncode == 0, result.stdout + result.stderr
    check_demo_transcript(result.stdout)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "moment",
    [
        "2026-12-12 23:30:00",  # Saturday night in New York and Sunday morning in Berlin
        "2026-12-07 08:05:00",  # Monday: 09:05 in Berlin, 03:05 in New York
        "2026-12-31 22:00:00",  # New Year's Eve: the year ends, and the next day is a holiday
    ],
)
def test_the_demo_tells_the_same_story_whatever_the_hour(tmp_path: Path, moment: str) -> None:
    """The demo runs on the wall clock (its emulators too): at night, at a weekend, at a year's end, its scenes
    must still say what they show. libfaketime (Debian's `faketime`) starts the clock there."""
    if shutil.which("faketime") is None:
        if os.environ.get("CI"):
            pytest.fail("faketime is not installed (apt-get install faketime); CI must run the demo at other hours")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    # The monotonic clock stays real: asyncio's timers run on it.
    env = {"FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
    result = subprocess.run(
        ["faketime", "-f", f"@{moment}", sys.executable, "-m", "bridge", "demo"],
        cwd=tmp_path,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    check_demo_transcript(result.stdout)


async def test_check_against_the_emulators(world: World, tmp_path: Path) -> None:
    env = world.environment(port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    (tmp_path / "manifest.yml").write_text((REPO / "manifest.yml").read_text())
    result = await _run_async(["check"], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slack: ok" in result.stdout and "asana: ok" in result.stdout

    broken = {**env, "ASANA_ACCESS_TOKEN": "not-a-token", "SLACK_BOT_TOKEN": "xoxb-revoked"}
    (tmp_path / "manifest.yml").write_text("features: {}\n")
    result = await _run_async(["check"], tmp_path, broken)
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem:")]
    assert "problem: SLACK_BOT_TOKEN: Slack refused it (auth.test: invalid_auth)" in problems
    assert any(p.startswith("problem: ASANA_ACCESS_TOKEN: Asana refused it") for p in problems)
    assert any("/task" in p for p in problems) and any("create_task" in p for p in problems)
    assert "not-a-token" not in result.stdout + result.stderr


async def test_check_works_from_any_folder(world: World, tmp_path: Path) -> None:
    """Installed with pip, the bridge has no manifest.yml beside it: check says so and judges the rest."""
    env = world.environment(port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    result = await _run_async(["check"], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"manifest: not checked (no manifest.yml in {tmp_path})" in result.stdout
    assert "problem:" not in result.stdout and "will be unused" not in result.stderr


async def _run_async(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_bridge, args, cwd=cwd, env=env)


@pytest.mark.parametrize("times", [1, 2])
async def test_migrate_brings_the_schema_to_head_and_is_idempotent(tmp_path: Path, times: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "ASANA_ACCESS_TOKEN": "t",
        "BRIDGE_DATABASE_URL": url,
    }
    for _ in range(times):
        result = await _run_async(["migrate"], tmp_path, env)
        assert result.returncode == 0, result.stderr
    assert await current_revision(url) == head_revision()


async def test_demo_keep_running_serves_the_report_it_links_to(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "demo",
        "--keep-running",
        cwd=tmp_path,
        env=_env({}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:

        async def report_url() -> str:
            assert process.stdout is not None
            while line := (await process.stdout.readline()).decode():
                if "still running; open the report at " in line:
                    return line.split("open the report at ", 1)[1].strip()
            raise AssertionError("the demo ended without offering its report")

        url = await asyncio.wait_for(report_url(), timeout=120)
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            page = await response.text()
        assert "SLA report · Developer Questions" in page and "data-task=" in page
    finally:
        process.terminate()
        await process.wait()
