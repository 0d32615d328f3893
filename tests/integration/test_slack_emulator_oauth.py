"""The emulated OAuth install against the real slack_sdk client: Slack's consent redirect and oauth.v2.access,
rejecting what Slack rejects (wrong client, reused or expired code, a different redirect_uri)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bridge.sandbox.slack import SlackEmulator, Workspace
from tests.fixtures_slack import ManualClock, key_diff, sample

REDIRECT = "https://bridge.example.com/slack/oauth_redirect"


@pytest_asyncio.fixture
async def emu(manual_clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(clock=manual_clock) as started:
        started.oauth.app.redirect_urls.append(REDIRECT)
        yield started


@pytest.fixture
def acme(emu: SlackEmulator) -> Workspace:
    ws = emu.add_team("Acme", "acme", installed=False)
    ws.add_user("ana", "ana@example.com")
    return ws


async def consent(emu: SlackEmulator, ws: Workspace, *, cookie: str | None = None, **params: str) -> tuple[int, str]:
    """The browser of ana (signed in to `ws`) on Slack's consent page; the status and where it sends her."""
    query = {"client_id": emu.oauth.app.client_id, "scope": "chat:write,commands", "state": "s1", **params}
    headers = {"Cookie": cookie if cookie is not None else f"d={ws.user_named('ana').id}"}
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(
            f"{emu.root_url}/oauth/v2/authorize?{urlencode(query)}", allow_redirects=False, headers=headers
        ) as page,
    ):
        return page.status, page.headers.get("Location", "")


async def code_for(emu: SlackEmulator, ws: Workspace, **params: str) -> str:
    status, location = await consent(emu, ws, **params)
    assert status == 302 and location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(base_url=emu.api_url)


async def test_a_code_buys_the_bot_token_once_in_slacks_answer_shape(emu: SlackEmulator, acme: Workspace) -> None:
    before = acme.bot.token
    with pytest.raises(SlackApiError) as not_yet:
        await AsyncWebClient(base_url=emu.api_url, token=before).auth_test()
    assert not_yet.value.response["error"] == "invalid_auth"  # not installed: no token works yet

    code = await code_for(emu, acme, redirect_uri=REDIRECT, user_scope="search:read")
    app = emu.oauth.app
    answer = await client(emu).oauth_v2_access(
        client_id=app.client_id, client_secret=app.client_secret, code=code, redirect_uri=REDIRECT
    )
    assert answer["team"] == {"name": "Acme", "id": acme.team_id}
    installer = answer["authed_user"]
    assert installer["id"] == acme.user_named("ana").id and installer["access_token"].startswith("xoxp-")
    assert (installer["scope"], installer["token_type"]) == ("search:read", "user")
    assert answer["scope"] == "chat:write,commands" and answer["token_type"] == "bot"
    assert key_diff(answer.data, sample("web_api.oauth.v2.access.response.json")) == ["+is_enterprise_install"]
    auth = await AsyncWebClient(base_url=emu.api_url, token=answer["access_token"]).auth_test()
    assert auth["team_id"] == acme.team_id and auth["user_id"] == acme.bot.user_id

    with pytest.raises(SlackApiError) as again:
        await client(emu).oauth_v2_access(
            client_id=app.client_id, client_secret=app.client_secret, code=code, redirect_uri=REDIRECT
        )
    assert again.value.response["error"] == "invalid_code"
    assert "client_secret" not in str([c.params for c in emu.calls])  # the emulator does not record the secret


async def test_credentials_may_come_as_form_fields(emu: SlackEmulator, acme: Workspace) -> None:
    app = emu.oauth.app
    code = await code_for(emu, acme)
    answer = await client(emu).api_call(
        "oauth.v2.access", data={"client_id": app.client_id, "client_secret": app.client_secret, "code": code}
    )
    assert answer["ok"] and answer["access_token"] == acme.bot.token
    assert answer["authed_user"] == {"id": acme.user_named("ana").id}  # no user scopes asked: no user token


@pytest.mark.parametrize(
    ("client_id", "client_secret", "error"),
    [("1.2", None, "invalid_client_id"), (None, "wrong", "bad_client_secret")],
)
async def test_the_wrong_client_is_refused_and_the_code_stays_good(
    emu: SlackEmulator, acme: Workspace, client_id: str | None, client_secret: str | None, error: str
) -> None:
    app = emu.oauth.app
    code = await code_for(emu, acme)
    with pytest.raises(SlackApiError) as refused:
        await client(emu).oauth_v2_access(
            client_id=client_id or app.client_id, client_secret=client_secret or app.client_secret, code=code
        )
    assert refused.value.response["error"] == error
    answer = await client(emu).oauth_v2_access(client_id=app.client_id, client_secret=app.client_secret, code=code)
    assert answer["ok"]


async def test_the_redirect_uri_must_be_given_again_the_same(emu: SlackEmulator, acme: Workspace) -> None:
    app = emu.oauth.app
    code = await code_for(emu, acme, redirect_uri=REDIRECT)
    with pytest.raises(SlackApiError) as refused:
        await client(emu).oauth_v2_access(client_id=app.client_id, client_secret=app.client_secret, code=code)
    assert refused.value.response["error"] == "bad_redirect_uri"


async def test_a_code_expires_after_ten_minutes(emu: SlackEmulator, acme: Workspace, manual_clock: ManualClock) -> None:
    app = emu.oauth.app
    code = await code_for(emu, acme)
    manual_clock.advance(601)
    with pytest.raises(SlackApiError) as refused:
        await client(emu).oauth_v2_access(client_id=app.client_id, client_secret=app.client_secret, code=code)
    assert refused.value.response["error"] == "invalid_code"


async def test_the_consent_page_checks_the_app_the_redirect_and_the_person(emu: SlackEmulator, acme: Workspace) -> None:
    assert (await consent(emu, acme, client_id="9.9"))[0] == 400
    assert (await consent(emu, acme, redirect_uri="https://evil.example.com/cb"))[0] == 400
    assert (await consent(emu, acme, cookie=""))[0] == 401  # nobody signed in
    status, location = await consent(emu, acme, cookie=f"d={acme.user_named('ana').id}; consent=deny")
    assert status == 302 and parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["s1"]}
    assert not acme.installed


async def test_uninstalling_revokes_the_token(emu: SlackEmulator, acme: Workspace) -> None:
    app = emu.oauth.app
    code = await code_for(emu, acme)
    token = (await client(emu).oauth_v2_access(client_id=app.client_id, client_secret=app.client_secret, code=code))[
        "access_token"
    ]
    emu.oauth.uninstall(acme)
    with pytest.raises(SlackApiError) as revoked:
        await AsyncWebClient(base_url=emu.api_url, token=token).auth_test()
    assert revoked.value.response["error"] == "token_revoked"
    # Installing again gives a new token that works.
    code = await code_for(emu, acme)
    again = await client(emu).oauth_v2_access(client_id=app.client_id, client_secret=app.client_secret, code=code)
    assert again["access_token"] != token
    assert (await AsyncWebClient(base_url=emu.api_url, token=again["access_token"]).auth_test())["ok"]
