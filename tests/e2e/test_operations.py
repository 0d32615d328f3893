"""`bridge serve` as an operator runs it: BRIDGE_LOG_FORMAT=json gives one JSON object per line with request ids,
a Slack token refused once serving shows in the log of the request it failed, and no token or secret appears in
the log (even at DEBUG, with slack_sdk, aiohttp and SQLAlchemy talking), in /metrics or in /healthz. (A token
refused at start stops the start: tests/e2e/test_serve.py.)"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bridge.sandbox.harness import bound_socket
from bridge.sandbox.slack.signing import signature
from bridge.sandbox.world import BRIDGE_ASANA_TOKEN, SIGNING_SECRET, World
from tests.e2e.test_serve import _base_env
from tests.support import eventually

DB_PASSWORD = "db-pass-never-logged"


def _signed(body: str, *, content_type: str, request_id: str | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(SIGNING_SECRET, timestamp, body),
    }
    if request_id:
        headers["X-Request-Id"] = request_id
    return headers


async def test_json_logs_request_ids_a_refused_slack_token_and_no_secrets(world: World, tmp_path: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    env = {
        **_base_env(),
        **world.environment(port=port, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}", public_url=url),
        "BRIDGE_LOG_FORMAT": "json",
        "BRIDGE_LOG_LEVEL": "DEBUG",
    }
    secrets = [world.slack.bot_token, SIGNING_SECRET, BRIDGE_ASANA_TOKEN]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait for it
            [sys.executable, "-m", "bridge", "serve"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    bodies: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:

            async def health() -> dict[str, Any] | None:
                assert process.poll() is None, log.read_text()
                try:
                    async with http.get(f"{url}/healthz") as response:
                        text = await response.text()
                        bodies.append(text)
                        return json.loads(text) if response.status == 200 else None
                except aiohttp.ClientConnectionError:
                    return None

            await eventually(lambda: _when(health(), lambda b: b["status"] == "ok"), timeout=20)
            # The token is revoked while the bridge serves: every Slack call (Bolt's auth.test first) is refused.
            world.slack.faults.add(error="invalid_auth", times=None)

            command = f"command=%2Fasana&text=help&team_id={world.slack.team.team_id}&channel_id={world.channel}"
            command += f"&user_id={world.slack_people['ana']}&user_name=ana&trigger_id=1.2.3"
            form = "application/x-www-form-urlencoded"
            async with http.post(
                f"{url}/slack/events", data=command, headers=_signed(command, content_type=form, request_id="ops-42")
            ) as response:
                assert response.status < 500 and response.headers["X-Request-Id"] == "ops-42"
                bodies.append(await response.text())
            unknown = json.dumps({"type": "event_callback", "event_id": "Ev0PS", "event": {"type": "emoji_changed"}})
            async with http.post(
                f"{url}/slack/events", data=unknown, headers=_signed(unknown, content_type="application/json")
            ) as response:
                assert response.status == 200
                generated = response.headers["X-Request-Id"]
                assert len(generated) == 32 and generated.isalnum()
            forged = {**_signed("x=1", content_type=form, request_id="bad id with spaces"), "X-Slack-Signature": "v0=0"}
            async with http.post(f"{url}/slack/events", data="x=1", headers=forged) as response:
                assert response.status == 401 and response.headers["X-Request-Id"] != "bad id with spaces"
                bodies.append(await response.text())
            async with http.get(f"{url}/metrics") as response:
                metrics = await response.text()
                bodies.append(metrics)
            for name in (
                "bridge_inbox_events",
                "bridge_inbox_lag_seconds",
                "bridge_parked_events",
                "bridge_api_calls_total",
                "bridge_api_rate_limited_total",
                "bridge_nags_sent_total",
                "bridge_health_problems",
            ):
                assert f"# TYPE {name} " in metrics, name
            assert 'bridge_api_calls_total{method="auth.test",outcome="ok",service="slack"}' in metrics  # at start
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 15)

    text = log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    ours = [r for r in records if r.get("request_id") == "ops-42"]
    assert ours, "no log line of the request with X-Request-Id: ops-42"
    # Bolt's own lines of the unknown event (its authorization fails on the refused token) carry the new id.
    refused = [r for r in records if r.get("request_id") == generated and r["level"] == "ERROR"]
    assert refused and "Failed to authorize" in refused[0]["message"]
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:6]}…) is in the log"
        for body in bodies:
            assert secret not in body


async def _when(value: Any, check: Any) -> Any:
    result = await value
    return result if result is not None and check(result) else None
