"""The multi-workspace install end to end (issue #8): OAuth through real HTTP against the emulated Slack, two
workspaces each calling Slack with their own token, cached authorization, isolation, uninstall, sealed tokens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import text

from bridge import wording
from bridge.adapters.store.crypto import PREFIX, Cipher
from bridge.adapters.store.engine import create_engine
from bridge.domain.model import ChannelId, TaskGid, TeamId
from bridge.sandbox.harness import LocalBridge, serve_locally
from bridge.sandbox.slack import SimulatedSlack, SlackEmulator, Workspace, payloads
from bridge.sandbox.world import PEOPLE, SECTIONS, SIGNING_SECRET, World
from tests.support import eventually

KEY = Cipher.generate_key()


@dataclass
class Team:
    ws: Workspace
    slack: SimulatedSlack
    channel: ChannelId
    project: str

    @property
    def id(self) -> TeamId:
        return TeamId(self.ws.team_id)


@dataclass
class Multi:
    world: World
    local: LocalBridge
    acme: Team
    globex: Team

    @property
    def url(self) -> str:
        return self.local.url

    async def rows(self, sql: str) -> list[Any]:
        engine = create_engine(self.local.database_url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(sql))).mappings())
        finally:
            await engine.dispose()


async def install(multi: Multi, team: Team, person: str) -> tuple[int, str]:
    return await install_via_browser(multi.url, multi.world.slack, team.ws, person)


async def install_via_browser(url: str, slack: SlackEmulator, ws: Workspace, person: str) -> tuple[int, str]:
    """A person of `ws` opens the bridge's install link, consents on Slack's page, and comes back to the bridge;
    the status and page the bridge answers with."""
    user = ws.user_named(person)
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{url}/slack/install", allow_redirects=False) as started:
            assert started.status == 302
            state = started.cookies["slack-app-oauth-state"].value
            consent = started.headers["Location"]
        assert consent.startswith(f"{slack.root_url}/oauth/v2/authorize?")
        query = parse_qs(urlsplit(consent).query)
        assert query["redirect_uri"] == [f"{url}/slack/oauth_redirect"]
        assert set(query["scope"][0].split(",")) >= {"chat:write", "commands", "users:read.email"}
        async with browser.get(consent, allow_redirects=False, headers={"Cookie": f"d={user.id}"}) as agreed:
            assert agreed.status == 302
            back = agreed.headers["Location"]
        assert back.startswith(f"{url}/slack/oauth_redirect?code=")
        async with browser.get(
            back, allow_redirects=False, headers={"Cookie": f"slack-app-oauth-state={state}"}
        ) as landed:
            return landed.status, await landed.text()


def _people(ws: Workspace, names: tuple[str, ...]) -> list[str]:
    emails = {key: email for key, _, email in PEOPLE}
    return [ws.add_user(name, emails[name]).id for name in names]


@pytest.fixture
def bridge_env() -> dict[str, str]:
    """What the bridge adds to the World's environment; tests override it (no key: plain storage)."""
    return {"BRIDGE_ENCRYPTION_KEY": KEY}


@pytest.fixture
def bridge_policy() -> str | None:
    """The bridge.toml of the run; tests override it (None: no policy file)."""
    return None


@pytest_asyncio.fixture
async def multi(
    world: World, tmp_path: Path, bridge_env: dict[str, str], bridge_policy: str | None
) -> AsyncIterator[Multi]:
    slack = world.slack
    acme_ws = slack.add_team("Acme", "acme", installed=False)
    globex_ws = slack.add_team("Globex", "globex", installed=False)
    acme_channel = acme_ws.add_channel("intake", [*_people(acme_ws, ("ana", "bo")), acme_ws.bot.user_id]).id
    globex_channel = globex_ws.add_channel("help", [*_people(globex_ws, ("cy", "bo")), globex_ws.bot.user_id]).id
    members = [world.bridge_user, *world.asana_people.values()]
    globex_project = world.asana.add_project(world.workspace, "Globex Questions", SECTIONS, members=members)
    local = await serve_locally(world, tmp_path, oauth=True, env=bridge_env, policy=bridge_policy)
    teams = []
    for ws, channel, project in ((acme_ws, acme_channel, world.project), (globex_ws, globex_channel, globex_project)):
        sender = SimulatedSlack(
            slack, request_url=f"{local.url}/slack/events", signing_secret=SIGNING_SECRET, team_id=ws.team_id
        )
        await sender.start()
        teams.append(Team(ws=ws, slack=sender, channel=ChannelId(channel), project=project))
    try:
        yield Multi(world=world, local=local, acme=teams[0], globex=teams[1])
    finally:
        for team in teams:
            await team.slack.close()
        await local.close()


async def _link(multi: Multi, team: Team, person: str) -> None:
    await team.slack.user(person).slash_command("/asana", f"link {team.project}", team.channel)
    await eventually(lambda: multi.local.bridge.store.get_link(team.id, team.channel), timeout=10)


async def _capture(multi: Multi, team: Team, person: str, title: str, options: str = "") -> Any:
    """`/task title [options]` in the team's channel; the task and its root post, once both exist."""
    ack = await team.slack.user(person).slash_command("/task", f"{title} {options}".strip(), team.channel)
    assert ack.status == 200
    tasks = multi.world.asana.store.tasks.values()
    task = (await eventually(lambda: [t for t in tasks if t.name == title and not t.deleted], timeout=10))[0]
    tracked = await eventually(lambda: multi.local.bridge.store.get_tracked_task(TaskGid(task.gid)), timeout=10)
    return task, tracked


def _posts(multi: Multi) -> list[Any]:
    return [c for c in multi.world.slack.calls_to("chat.postMessage") if c.response.get("ok")]


def _owner(multi: Multi, channel: str) -> str:
    return next(ws.team_id for ws in multi.world.slack.teams.values() if channel in ws.channels)


async def test_install_then_a_task_is_posted_with_that_workspaces_token(multi: Multi) -> None:
    acme = multi.acme
    status, page = await install(multi, acme, "ana")
    assert status == 200 and "installed in Acme" in page
    token = acme.ws.bot.token
    assert token.startswith("xoxb-") and acme.ws.installed

    rows = await multi.rows("SELECT team_id, team_name, bot_token, user_id FROM slack_installations")
    assert [(r["team_id"], r["team_name"], r["user_id"]) for r in rows] == [
        (acme.id, "Acme", acme.ws.user_named("ana").id)
    ]
    bots = await multi.rows("SELECT bot_token FROM slack_bots")
    for sealed in [rows[0]["bot_token"], bots[0]["bot_token"]]:
        assert sealed.startswith(PREFIX) and token not in sealed  # sealed at rest

    await _link(multi, acme, "ana")
    _, tracked = await _capture(multi, acme, "ana", "Acme: how do webhooks retry?")
    messages = multi.world.slack.messages(acme.channel, team_id=acme.id)
    assert [m.text for m in messages if m.ts == tracked.thread_ts and m.bot_id]  # the task's root post
    posts = _posts(multi)
    assert posts and {c.team_id for c in posts} == {acme.id}  # the emulator knows the team by the token used


async def test_the_code_is_single_use_and_a_replayed_redirect_installs_nothing(multi: Multi) -> None:
    acme = multi.acme
    user = acme.ws.user_named("ana")
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{multi.url}/slack/install", allow_redirects=False) as started:
            state = started.cookies["slack-app-oauth-state"].value
            consent = started.headers["Location"]
        async with browser.get(consent, allow_redirects=False, headers={"Cookie": f"d={user.id}"}) as agreed:
            back = agreed.headers["Location"]
        cookie = {"Cookie": f"slack-app-oauth-state={state}"}
        async with browser.get(back, allow_redirects=False, headers=cookie) as first:
            assert first.status == 200
        async with browser.get(back, allow_redirects=False, headers=cookie) as again:
            assert again.status >= 400  # the state was consumed; the code too
        forged = back.replace(f"state={state}", "state=forged")
        async with browser.get(
            forged, allow_redirects=False, headers={"Cookie": "slack-app-oauth-state=forged"}
        ) as bad:
            assert bad.status >= 400 and "Not installed" in await bad.text()
    assert len(await multi.rows("SELECT id FROM slack_installations")) == 1


async def test_two_workspaces_each_post_with_their_own_token_and_auth_test_is_cached(multi: Multi) -> None:
    acme, globex = multi.acme, multi.globex
    assert (await install(multi, acme, "ana"))[0] == 200
    assert (await install(multi, globex, "cy"))[0] == 200
    assert acme.ws.bot.token != globex.ws.bot.token
    await _link(multi, acme, "ana")
    await _link(multi, globex, "cy")
    await multi.world.asana.deliveries_idle(timeout=10)
    # One auth.test per install (Bolt learns the bot id), one per token when authorize first meets it.
    auth_tests = len(multi.world.slack.calls_to("auth.test"))
    assert auth_tests <= 4
    requests = 0
    for round_ in range(3):
        for team, person in ((acme, "bo"), (globex, "bo")):
            await _capture(multi, team, person, f"{team.ws.name} question {round_}")
            requests += 1
    for _ in range(20):
        for team, person in ((acme, "ana"), (globex, "cy")):
            ack = await team.slack.user(person).slash_command("/asana", "help", team.channel)
            assert ack.status == 200 and "link" in ack.body
            requests += 1
    # Bolt's authorize reads the installation from the database and keeps what auth.test said per token.
    assert requests == 46 and len(multi.world.slack.calls_to("auth.test")) == auth_tests

    # Relay: a change in Asana lands in the right workspace's thread, posted with that workspace's token.
    globex_task = next(t for t in multi.world.asana.store.tasks.values() if t.name == "Globex question 1")
    multi.world.asana.act(multi.world.asana_people["bo"]).complete(globex_task.gid)
    tracked = await multi.local.bridge.store.get_tracked_task(TaskGid(globex_task.gid))
    assert tracked is not None and tracked.team_id == globex.id
    await eventually(
        lambda: any(
            "completed" in m.text
            for m in multi.world.slack.thread(globex.channel, tracked.thread_ts, team_id=globex.id)
        ),
        timeout=10,
    )
    posts = _posts(multi)
    assert len({c.team_id for c in posts}) == 2
    # The relay heard of it through the webhook, whose secret is sealed at rest and still verifies deliveries.
    secrets = [r["secret"] for r in await multi.rows("SELECT secret FROM webhooks")]
    assert len(secrets) == 2 and all(s.startswith(PREFIX) for s in secrets)
    hooks = [h for h in multi.world.asana.store.webhooks.values() if h.resource == globex.project]
    assert hooks and all(h.last_success_at is not None and h.last_failure_at is None for h in hooks)
    for call in posts:
        assert call.team_id == _owner(multi, str(call.params["channel"])), call.params


async def _forged_command(multi: Multi, sender: Team, person: str, channel: str, command: str, text_: str) -> Any:
    """A slash command Slack signs for `sender`'s workspace, naming another workspace's channel id."""
    ws = sender.ws
    user = ws.user_named(person)
    victim = next(w for w in multi.world.slack.teams.values() if channel in w.channels).channels[channel]
    fields = payloads.slash_command(
        ws,
        user,
        victim,
        command,
        text_,
        response_url=multi.world.slack.hooks.mint(ws, channel, user.id),
        trigger_id=ws.mint_trigger(user.id),
    )
    return await sender.slack.send_form(fields)


async def test_a_workspace_cannot_touch_another_workspaces_links_or_tasks(multi: Multi) -> None:
    acme, globex = multi.acme, multi.globex
    await install(multi, acme, "ana")
    await install(multi, globex, "cy")
    await _link(multi, acme, "ana")
    task, tracked = await _capture(multi, acme, "ana", "Acme secret roadmap")
    before = {t.gid for t in multi.world.asana.store.tasks.values()}

    # Globex's cy names Acme's channel in commands Slack signed for Globex.
    status = await _forged_command(multi, globex, "cy", acme.channel, "/asana", "status")
    created = await _forged_command(multi, globex, "cy", acme.channel, "/task", "planted by globex")
    unlinked = await _forged_command(multi, globex, "cy", acme.channel, "/asana", "unlink")
    assert {status.status, created.status, unlinked.status} == {200}
    await multi.local.bridge.background.drain(5)
    assert "Acme secret roadmap" not in status.body + created.body + unlinked.body
    assert {t.gid for t in multi.world.asana.store.tasks.values()} == before  # nothing created
    assert await multi.local.bridge.store.get_link(acme.id, acme.channel) is not None  # still linked
    # Each is answered, to cy only, that this channel is not linked (in the ack or through the response_url).
    answers = [d.body for d in (status, created, unlinked) if d.body]
    answers += [c.params["text"] for c in multi.world.slack.calls_to("response_url") if c.team_id == globex.id]
    assert len(answers) == 3 and all(a == wording.NOT_LINKED for a in answers), answers

    # A forged nag button naming Acme's task from Globex: refused, the task is not completed.
    cy = globex.ws.user_named("cy")
    action = {
        "action_id": wording.NAG_DONE,
        "block_id": wording.NAG_ACTIONS_BLOCK + task.gid,
        "text": {"type": "plain_text", "text": "Done"},
        "value": "done",
        "type": "button",
        "action_ts": globex.ws.minter.ts(),
    }
    body = payloads.block_actions(
        globex.ws,
        cy,
        action,
        container={
            "type": "message",
            "message_ts": tracked.thread_ts,
            "channel_id": acme.channel,
            "is_ephemeral": False,
        },
        trigger_id=globex.ws.mint_trigger(cy.id),
        channel=acme.ws.channels[acme.channel],
        message={"type": "message", "ts": tracked.thread_ts, "text": "nag"},
    )
    clicked = await globex.slack.send_interactive(body)
    assert clicked.status == 200
    await multi.local.bridge.background.drain(5)
    assert not multi.world.asana.store.tasks[task.gid].completed
    refused = [c for c in multi.world.slack.calls_to("chat.postEphemeral") if c.params.get("user") == cy.id]
    assert refused and all(c.team_id == globex.id for c in refused)
    assert wording.NAG_TASK_UNKNOWN in json.dumps([c.params for c in refused])
    # Everything the bot said anywhere, it said in the workspace that owns the channel.
    for call in _posts(multi):
        assert call.team_id == _owner(multi, str(call.params["channel"]))


async def test_uninstall_deletes_the_tokens_and_the_links_and_the_other_workspace_carries_on(multi: Multi) -> None:
    acme, globex = multi.acme, multi.globex
    await install(multi, acme, "ana")
    await install(multi, globex, "cy")
    await _link(multi, acme, "ana")
    await _link(multi, globex, "cy")

    deliveries = await globex.slack.uninstall()
    assert [d.status for d in deliveries] == [200, 200]
    store = multi.local.bridge.store
    await eventually(lambda: _not(store.get_link(globex.id, globex.channel)), timeout=10)
    for table in ("slack_installations", "slack_bots"):
        rows = await multi.rows(f"SELECT team_id FROM {table}")
        assert [r["team_id"] for r in rows] == [acme.id], table
    assert not [w for w in multi.world.asana.store.webhooks.values() if w.resource == globex.project]

    # Acme is untouched: a new task is still posted there, with Acme's token.
    await _capture(multi, acme, "bo", "after globex left")
    assert _posts(multi)[-1].team_id == acme.id
    # Globex's requests are no longer authorized (Bolt finds no installation); nothing is created for them.
    before = len(multi.world.asana.store.tasks)
    denied = await globex.slack.user("cy").slash_command("/task", "ghost", globex.channel)
    assert denied.status in (200, 401) and len(multi.world.asana.store.tasks) == before


async def _not(found: Awaitable[object]) -> bool:
    return (await found) is None


async def test_a_revoked_bot_token_is_forgotten(multi: Multi) -> None:
    acme = multi.acme
    await install(multi, acme, "ana")
    await _link(multi, acme, "ana")
    multi.world.slack.oauth.app.revoked.add(acme.ws.bot.token)
    delivery = await acme.slack.send_event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [acme.ws.bot.user_id]}}
    )
    assert delivery.status == 200
    await eventually(lambda: _none_left(multi), timeout=5)
    assert await multi.local.bridge.store.get_link(acme.id, acme.channel) is not None


async def _none_left(multi: Multi) -> bool:
    return not await multi.rows("SELECT id FROM slack_bots") and not await multi.rows(
        "SELECT id FROM slack_installations"
    )


@pytest.mark.parametrize("bridge_env", [{}], ids=["no-key"])
async def test_without_a_key_tokens_are_stored_as_they_are(multi: Multi) -> None:
    await install(multi, multi.acme, "ana")
    rows = await multi.rows("SELECT bot_token FROM slack_bots")
    assert [r["bot_token"] for r in rows] == [multi.acme.ws.bot.token]


async def test_another_workspaces_task_is_not_unfurled_nor_changed_from_its_buttons(multi: Multi) -> None:
    acme, globex = multi.acme, multi.globex
    await install(multi, acme, "ana")
    await install(multi, globex, "cy")
    await _link(multi, acme, "ana")
    await _link(multi, globex, "cy")
    acme_task, acme_tracked = await _capture(multi, acme, "ana", "Acme private plan")
    _, globex_tracked = await _capture(multi, globex, "cy", "Globex public question")
    acme_url, globex_url = acme_tracked.permalink_url, globex_tracked.permalink_url

    # In Globex, a link to Globex's task unfurls; a link to Acme's does not.
    await globex.slack.user("cy").share_link(globex.channel, globex_url)
    await eventually(lambda: multi.world.slack.unfurls(team_id=globex.id), timeout=10)
    await globex.slack.user("cy").share_link(globex.channel, acme_url)
    await multi.local.bridge.background.drain(5)
    assert [u.url for u in multi.world.slack.unfurls(team_id=globex.id)] == [globex_url]
    # In Acme it does unfurl.
    await acme.slack.user("bo").share_link(acme.channel, acme_url)
    await eventually(lambda: multi.world.slack.unfurls(team_id=acme.id), timeout=10)

    # A Done button forged in Globex naming Acme's task changes nothing.
    cy = globex.ws.user_named("cy")
    shared = multi.world.slack.messages(globex.channel, team_id=globex.id)[-1]
    action = {
        "action_id": wording.UNFURL_DONE,
        "block_id": "unfurl",
        "text": {"type": "plain_text", "text": "Done"},
        "value": acme_task.gid,
        "type": "button",
        "action_ts": globex.ws.minter.ts(),
    }
    body = payloads.block_actions(
        globex.ws,
        cy,
        action,
        container={"type": "message_attachment", "message_ts": shared.ts, "channel_id": globex.channel},
        trigger_id=globex.ws.mint_trigger(cy.id),
        channel=globex.ws.channels[globex.channel],
        response_url=multi.world.slack.hooks.mint(globex.ws, globex.channel, cy.id),
    )
    assert (await globex.slack.send_interactive(body)).status == 200
    await multi.local.bridge.background.drain(5)
    assert not multi.world.asana.store.tasks[acme_task.gid].completed
    told = [c.params.get("text") for c in multi.world.slack.calls_to("response_url") if c.team_id == globex.id]
    assert told[-1] == wording.UNFURL_TASK_GONE
    assert acme_tracked.team_id == acme.id


async def test_a_person_revoking_their_token_leaves_the_workspace_working(multi: Multi) -> None:
    acme = multi.acme
    await install(multi, acme, "ana")
    await _link(multi, acme, "ana")
    assert (await acme.slack.revoke_user_tokens("ana")).status == 200
    # slack_sdk's store deletes the installer's installation row; the bot row keeps the workspace's bot token.
    await eventually(lambda: _no_installation_rows(multi), timeout=5)
    assert len(await multi.rows("SELECT id FROM slack_bots")) == 1
    await _capture(multi, acme, "bo", "still here")
    assert _posts(multi)[-1].team_id == acme.id


async def _no_installation_rows(multi: Multi) -> bool:
    return not await multi.rows("SELECT id FROM slack_installations")


REMINDERS = """
[business_hours]
timezone = "UTC"

[reminders]
lead = "8h"
"""


@pytest.mark.parametrize("bridge_policy", [REMINDERS], ids=["reminders"])
async def test_nags_go_to_each_workspace_with_its_own_token(multi: Multi) -> None:
    acme, globex = multi.acme, multi.globex
    await install(multi, acme, "ana")
    await install(multi, globex, "cy")
    threads = {}
    for team, person in ((acme, "ana"), (globex, "cy")):
        await _link(multi, team, person)
        _, tracked = await _capture(multi, team, person, f"{team.ws.name} deadline", "due:2027-01-06")
        threads[team.id] = tracked.thread_ts
    await multi.world.asana.deliveries_idle(timeout=10)
    # Tuesday 10:00, within the lead before Wednesday: one reminder per task, from the scheduler (no request).
    sent = await multi.local.bridge.nag_scheduler.nagger.tick(datetime(2027, 1, 5, 10, tzinfo=UTC))
    assert sent >= 2  # the reminders, and triage nags (tasks wait in "Needs triage")
    for team in (acme, globex):
        thread = multi.world.slack.thread(team.channel, threads[team.id], team_id=team.id)
        assert [m for m in thread if "is due" in m.text and m.bot_id], [m.text for m in thread]
    for call in _posts(multi):
        assert call.team_id == _owner(multi, str(call.params["channel"])), call.params
