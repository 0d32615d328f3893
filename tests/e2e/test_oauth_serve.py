"""`bridge serve` as the multi-workspace install, as a real process: OAuth through real HTTP against the emulated
Slack, tokens sealed in its database, and a signed /task from the new workspace posted with that workspace's token."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from bridge.adapters.store.crypto import PREFIX, Cipher
from bridge.adapters.store.engine import create_engine
from bridge.adapters.store.migrate import migrate
from bridge.sandbox.harness import bound_socket
from bridge.sandbox.slack_user import SimulatedSlack
from bridge.sandbox.world import PEOPLE, SIGNING_SECRET, World
from tests.e2e.test_serve import _base_env
from tests.integration.test_oauth_install import install_via_browser
from tests.support import eventually, serving


async def test_install_over_http_then_task_in_that_workspace(world: World, tmp_path: Path) -> None:
    slack = world.slack
    acme = slack.add_team("Acme", "acme", installed=False)
    emails = {key: email for key, _, email in PEOPLE}
    people = [acme.add_user(name, emails[name]).id for name in ("ana", "bo")]
    channel = acme.add_channel("intake", [*people, acme.bot.user_id]).id

    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()  # the process binds it itself
    url = f"http://127.0.0.1:{port}"
    slack.oauth.app.redirect_urls.append(f"{url}/slack/oauth_redirect")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    await migrate(database_url)
    env = {
        **_base_env(),
        **world.environment(port=port, database_url=database_url, public_url=url, oauth=True),
        "BRIDGE_ENCRYPTION_KEY": Cipher.generate_key(),
    }
    assert "SLACK_BOT_TOKEN" not in env
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait for it
            [sys.executable, "-m", "bridge", "serve"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    sender = SimulatedSlack(
        slack, request_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET, team_id=acme.team_id
    )
    await sender.start()
    try:
        await serving(url, process, log=log)

        status, page = await install_via_browser(url, slack, acme, "ana")
        assert status == 200 and "installed in Acme" in page, log.read_text()
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                sealed = [row[0] for row in await conn.execute(text("SELECT bot_token FROM slack_bots"))]
        finally:
            await engine.dispose()
        assert len(sealed) == 1 and sealed[0].startswith(PREFIX) and acme.bot.token not in sealed[0]

        ana = sender.user("ana")
        await ana.slash_command("/asana", f"link {world.project}", channel)
        await eventually(lambda: [m for m in slack.messages(channel, team_id=acme.team_id) if "Linked" in m.text])
        ack = await ana.slash_command("/task", "Installed over OAuth", channel)
        assert ack.status == 200 and ack.elapsed < 3.0
        await eventually(lambda: [t for t in world.asana.store.tasks.values() if t.name == "Installed over OAuth"])
        posted = await eventually(
            lambda: [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel],
            timeout=10,
        )
        assert {c.team_id for c in posted} == {acme.team_id} and all(c.response["ok"] for c in posted)
        assert acme.bot.token not in log.read_text()  # the token never reaches the logs
    finally:
        await sender.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
