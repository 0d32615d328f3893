"""People connect their own Asana account (issue #20, points 1 and 7), through the running bridge against the
emulators: `/asana connect` gives a private link to Asana's consent page, the page Asana sends them back to says
who they are connected as, `/asana disconnect` revokes it at Asana; every bad return gets a clear page, keeps
nothing and logs no token."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest

from bridge import wording
from bridge.domain.identity import pending
from bridge.domain.model import SlackUserId, TeamId
from bridge.logs import Redactor
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import eventually


@pytest.fixture
def asana_oauth(world: World) -> bool:
    return True


def _ids(running: Running, name: str) -> tuple[TeamId, SlackUserId]:
    return TeamId(running.world.slack.team.team_id), SlackUserId(running.world.slack_people[name])


async def connect_link(running: Running, name: str) -> str:
    """`/asana connect` as `name`: the link on the private answer's button."""
    world = running.world
    before = len(world.slack.ephemerals(name))
    await running.user(name).slash_command("/asana", "connect", world.channel)
    answer = await eventually(lambda: [e for e in world.slack.ephemerals(name)[before:] if e.blocks])
    blocks = answer[0].blocks
    assert blocks is not None  # the ephemerals waited for have blocks
    url = blocks[0]["accessory"]["url"]
    assert url.startswith(world.asana.base_url + "/-/oauth_authorize?")
    return str(url)


async def visit(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, allow_redirects=False) as page:
        return page.status, await page.text()


async def connect(running: Running, name: str) -> tuple[int, str]:
    """The whole flow as `name`'s browser: Slack's link, Asana's Allow, back to the bridge."""
    location = await running.world.asana.consent(await connect_link(running, name), running.world.asana_people[name])
    return await visit(location)


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_connecting_says_who_and_disconnecting_revokes_it_at_asana(running: Running) -> None:
    world = running.world
    link = await connect_link(running, "ana")
    query = dict(parse_qsl(urlsplit(link).query))
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == f"{running.url}/asana/oauth_redirect" and len(query["state"]) >= 32
    status, page = await visit(await world.asana.consent(link, world.asana_people["ana"]))
    assert status == 200 and "connected as Ana Lopez" in page
    connection = await running.bridge.store.get_connection(*_ids(running, "ana"))
    assert connection is not None and connection.asana_user_gid == world.asana_people["ana"]
    await eventually(lambda: [m for m in world.slack.messages(world.slack_people["ana"]) if "Ana Lopez" in m.text])

    await running.user("ana").slash_command("/asana", "connect", world.channel)
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "connected to Asana as" in e.text])

    await running.user("ana").slash_command("/asana", "disconnect", world.channel)
    said = await eventually(lambda: [e.text for e in world.slack.ephemerals("ana") if "Disconnected" in e.text])
    assert "Ana Lopez" in said[0]
    assert await running.bridge.store.get_connection(*_ids(running, "ana")) is None
    assert world.asana.oauth.grants == {}  # revoked at Asana: its tokens no longer work
    revokes = [r for r in world.asana.oauth.requests if r.path == "/-/oauth_revoke"]
    assert [r.status for r in revokes] == [200]

    await running.user("bo").slash_command("/asana", "disconnect", world.channel)
    await eventually(lambda: [e for e in world.slack.ephemerals("bo") if e.text == wording.NOT_CONNECTED])


async def test_every_bad_return_gets_a_clear_page_keeps_nothing_and_logs_no_token(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = running.world
    ana = world.asana_people["ana"]
    redirect = f"{running.url}/asana/oauth_redirect"

    # A good return, then the same one again (a replay): the state worked once.
    first = await world.asana.consent(await connect_link(running, "ana"), ana)
    assert (await visit(first))[0] == 200
    assert await running.bridge.store.delete_connection(*_ids(running, "ana"))
    cases: list[tuple[str, str]] = [(first, wording.CONNECT_STATE_UNKNOWN)]
    # A state nobody handed out, and none at all.
    location = await world.asana.consent(await connect_link(running, "ana"), ana)
    cases += [
        (_with_query(location, state="made-up-state-" + "x" * 30), wording.CONNECT_STATE_UNKNOWN),
        (_with_query(location, state=None), wording.CONNECT_STATE_UNKNOWN),
        (redirect, wording.CONNECT_STATE_UNKNOWN),
    ]
    # A state handed out over ten minutes ago (its row is still there: only the next connect clears old ones).
    store: Any = running.bridge.store
    stale = pending(
        "stale-state-" + "y" * 30, *_ids(running, "ana"), "v", now=datetime.now(UTC) - timedelta(minutes=11)
    )
    await store.save_pending_connect(stale, now=datetime.now(UTC) - timedelta(minutes=11))
    cases.append((f"{redirect}?state={'stale-state-' + 'y' * 30}&code=anything", wording.CONNECT_STATE_UNKNOWN))
    # A return without a code, with a code Asana never gave, declined on Asana's page, an error from Asana.
    cases.append(
        (
            _with_query(await world.asana.consent(await connect_link(running, "ana"), ana), code=None),
            wording.CONNECT_NO_CODE,
        )
    )
    cases.append(
        (
            _with_query(await world.asana.consent(await connect_link(running, "ana"), ana), code="not-a-code"),
            wording.CONNECT_CODE_REFUSED,
        )
    )
    declined = await world.asana.consent(await connect_link(running, "ana"), ana, allow=False)
    cases.append((declined, wording.CONNECT_DECLINED))
    error = _with_query(await connect_link(running, "ana"), error="<script>alert(1)</script>")
    state = dict(parse_qsl(urlsplit(error).query))["state"]
    cases.append(
        (
            f"{redirect}?{urlencode({'state': state, 'error': '<script>x</script>'})}",
            wording.CONNECT_ASANA_ERROR.format(error="unexpected"),
        )
    )
    # Someone from another Asana workspace allows it: their token is revoked, nothing kept.
    other = world.asana.add_workspace("Elsewhere Inc")
    zed = world.asana.add_user("Zed Other", "zed@elsewhere.example", [other])
    cases.append((await world.asana.consent(await connect_link(running, "ana"), zed), wording.CONNECT_WRONG_WORKSPACE))

    for url, reason in cases:
        status, page = await visit(url)
        assert (status, wording.connect_failed_page(reason)) == (400, page), url
        assert "<script>" not in page
    assert await running.bridge.store.get_connection(*_ids(running, "ana")) is None
    assert all(grant.user != zed for grant in world.asana.oauth.grants.values())
    # No token, refresh token or code in any log line, as `bridge serve` writes them (its access log leaves queries
    # out; its redactor hides token-shaped strings, such as those a DEBUG driver log would show).
    secrets = [*world.asana.oauth.expires, *world.asana.oauth.grants]
    secrets += [r.form["code"] for r in world.asana.oauth.requests if r.form.get("code")]
    written = Redactor()(caplog.text)
    assert secrets and not [s for s in secrets if s in written]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bridge"))
    assert "[redacted]" not in ours and not [s for s in secrets if s in ours]  # the bridge itself never logs one
