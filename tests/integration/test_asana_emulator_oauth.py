"""The Asana emulator's OAuth endpoints (issue #20, point 6) as Asana documents them (reference/asana.md §8): the
consent page and its redirect, the form-encoded token endpoint for both grants with PKCE, expiry, revocation, and
per-person access to projects (public to the workspace, private, private to a team) for every call with a token."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import asana
import pytest
from asana.rest import ApiException

from tests.fixtures_asana import AsanaSeed, close_client, make_client

CLIENT_ID = "1200000000000777"
CLIENT_SECRET = "emulated-client-secret"
REDIRECT = "http://127.0.0.1:9/asana/oauth_redirect"
VERIFIER = "a-verifier-of-at-least-forty-three-characters-long-0123456789"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorize_url(seed: AsanaSeed, **overrides: str) -> str:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "state-1",
        "code_challenge_method": "S256",
        "code_challenge": _challenge(VERIFIER),
        **overrides,
    }
    return f"{seed.emu.base_url}/-/oauth_authorize?{urlencode(params)}"


def _query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def _token(seed: AsanaSeed, form: dict[str, str], *, as_json: bool = False) -> tuple[int, dict[str, Any]]:
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"json": body} if as_json else {"data": body}
        async with session.post(seed.emu.base_url + "/-/oauth_token", **kwargs) as answer:
            return answer.status, await answer.json()


async def _code(seed: AsanaSeed, user: str, **overrides: str) -> str:
    location = await seed.emu.consent(_authorize_url(seed, **overrides), user)
    assert location.startswith(REDIRECT), location
    query = _query(location)
    assert query["state"] == overrides.get("state", "state-1")
    return query["code"]


async def _exchange(seed: AsanaSeed, code: str, verifier: str = VERIFIER) -> tuple[int, dict[str, Any]]:
    return await _token(
        seed,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
    )


async def _me(seed: AsanaSeed, token: str) -> dict[str, Any]:
    client = make_client(seed.emu.url, token, retries=0)
    try:
        return await asyncio.to_thread(asana.UsersApi(client).get_user, "me", {"opt_fields": "name"})
    finally:
        close_client(client)


@pytest.fixture(autouse=True)
def app(asana_seed: AsanaSeed) -> None:
    asana_seed.emu.add_oauth_app(CLIENT_ID, CLIENT_SECRET, REDIRECT)


async def test_code_grant_with_pkce_gives_tokens_and_the_user(asana_seed: AsanaSeed) -> None:
    code = await _code(asana_seed, asana_seed.other_human)
    status, body = await _exchange(asana_seed, code)
    assert status == 200
    assert set(body) == {"access_token", "expires_in", "token_type", "refresh_token", "data"}
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer"
    assert body["data"] == {
        "id": int(asana_seed.other_human),
        "gid": asana_seed.other_human,
        "name": "Bo Chen",
        "email": "bo@example.com",
    }
    assert (await _me(asana_seed, body["access_token"]))["name"] == "Bo Chen"


async def test_a_code_works_once_and_its_replay_revokes_what_it_gave(asana_seed: AsanaSeed) -> None:
    code = await _code(asana_seed, asana_seed.other_human)
    _, first = await _exchange(asana_seed, code)
    status, again = await _exchange(asana_seed, code)
    assert (status, again["error"]) == (400, "invalid_grant")
    with pytest.raises(ApiException) as refused:
        await _me(asana_seed, first["access_token"])
    assert refused.value.status == 401
    status, _ = await _token(asana_seed, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert status == 400


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"code_verifier": "wrong-verifier"}, 400, "invalid_grant"),
        ({"redirect_uri": "http://elsewhere.example/cb"}, 400, "invalid_grant"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
async def test_the_token_endpoint_refuses_bad_requests(
    asana_seed: AsanaSeed, form: dict[str, str], status: int, error: str
) -> None:
    code = await _code(asana_seed, asana_seed.other_human)
    good = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    answer_status, body = await _token(asana_seed, {**good, **form})
    assert (answer_status, body["error"]) == (status, error)


async def test_the_token_endpoint_takes_only_form_bodies(asana_seed: AsanaSeed) -> None:
    code = await _code(asana_seed, asana_seed.other_human)
    good = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    status, body = await _token(asana_seed, good, as_json=True)
    assert (status, body["error"]) == (400, "invalid_request")


async def test_access_tokens_expire_and_the_refresh_grant_renews_them(asana_seed: AsanaSeed) -> None:
    _, tokens = await _exchange(asana_seed, await _code(asana_seed, asana_seed.other_human))
    asana_seed.emu.advance(minutes=61)
    with pytest.raises(ApiException) as expired:
        await _me(asana_seed, tokens["access_token"])
    assert expired.value.status == 401
    status, renewed = await _token(
        asana_seed, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert status == 200 and renewed["expires_in"] == 3600 and "refresh_token" not in renewed
    assert (await _me(asana_seed, renewed["access_token"]))["name"] == "Bo Chen"


async def test_revoking_the_refresh_token_ends_every_token_of_the_grant(asana_seed: AsanaSeed) -> None:
    _, tokens = await _exchange(asana_seed, await _code(asana_seed, asana_seed.other_human))
    async with aiohttp.ClientSession() as session:
        form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": tokens["refresh_token"]}
        async with session.post(asana_seed.emu.base_url + "/-/oauth_revoke", data=form) as answer:
            assert answer.status == 200
    with pytest.raises(ApiException):
        await _me(asana_seed, tokens["access_token"])
    status, body = await _token(asana_seed, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_the_consent_page_sends_errors_back_with_the_state(asana_seed: AsanaSeed) -> None:
    denied = await asana_seed.emu.consent(_authorize_url(asana_seed), asana_seed.other_human, allow=False)
    assert _query(denied) == {
        "error": "access_denied",
        "error_description": "The user denied the request",
        "state": "state-1",
    }
    no_state = await asana_seed.emu.consent(_authorize_url(asana_seed, state=""), asana_seed.other_human)
    assert _query(no_state)["error"] == "invalid_request"
    plain = await asana_seed.emu.consent(_authorize_url(asana_seed, code_challenge_method="plain"), asana_seed.human)
    assert _query(plain)["error"] == "invalid_request"
    wrong_redirect = await asana_seed.emu.consent(
        _authorize_url(asana_seed, redirect_uri="http://evil.example/cb"), asana_seed.human
    )
    assert wrong_redirect.startswith("status 400")  # a plain-text error page, never a redirect to a stranger


async def test_every_call_with_a_persons_token_is_checked_against_their_access(asana_seed: AsanaSeed) -> None:
    emu, ws = asana_seed.emu, asana_seed.workspace
    cy = emu.add_user("Cy Park", "cy@example.com", [ws])
    team = emu.add_team(ws, "Support", members=[cy])
    private = emu.add_project(ws, "Private", public=False, members=[asana_seed.bridge_user])
    team_only = emu.add_project(ws, "Team only", public=False, team=team, members=[asana_seed.bridge_user])
    public = emu.add_project(ws, "Everyone", members=[asana_seed.bridge_user])
    tokens: dict[str, str] = {}
    for name, user in (("bo", asana_seed.other_human), ("cy", cy)):
        _, body = await _exchange(asana_seed, await _code(asana_seed, user))
        tokens[name] = body["access_token"]

    async def status(token: str, project: str) -> int:
        client = make_client(emu.url, token, retries=0)
        try:
            await asyncio.to_thread(
                asana.TasksApi(client).create_task, {"data": {"name": "x", "projects": [project]}}, {}
            )
            return 201
        except ApiException as exc:
            return int(exc.status)
        finally:
            close_client(client)

    assert [await status(tokens["bo"], p) for p in (public, private, team_only)] == [201, 403, 403]
    assert [await status(tokens["cy"], p) for p in (public, private, team_only)] == [201, 403, 201]
    assert emu.render("project", team_only, "privacy_setting,team.name") == {
        "gid": team_only,
        "privacy_setting": "private_to_team",
        "team": {"gid": team, "name": "Support"},
    }
