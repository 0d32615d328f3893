"""Asana's OAuth endpoints, at the origin of ASANA_API_URL (reference/asana.md §8): form-encoded POSTs on aiohttp.

Only translates: Asana's answers become `Grant`s, its refusals `OAuthRefused` (with the RFC 6749 error code), and an
outage `AsanaUnavailable`. Tokens never reach a log or an exception's text.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from bridge.domain.identity import Grant
from bridge.domain.model import AsanaUserGid
from bridge.errors import AsanaUnavailable, OAuthRefused

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=15)


class AsanaOAuth:
    def __init__(self, *, api_url: str, client_id: str, client_secret: str, redirect_uri: str) -> None:
        parts = urlsplit(api_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri

    def authorize_url(self, *, state: str, code_challenge: str) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": self.redirect_uri,
                "response_type": "code",
                "state": state,
                "code_challenge_method": "S256",
                "code_challenge": code_challenge,
            }
        )
        return f"{self._origin}/-/oauth_authorize?{query}"

    async def exchange_code(self, code: str, *, code_verifier: str) -> Grant:
        body = await self._post(
            "/-/oauth_token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        return _grant(body, refresh_token=None)

    async def refresh(self, refresh_token: str) -> Grant:
        body = await self._post("/-/oauth_token", {"grant_type": "refresh_token", "refresh_token": refresh_token})
        return _grant(body, refresh_token=refresh_token)

    async def revoke(self, token: str) -> None:
        await self._post("/-/oauth_revoke", {"token": token}, answer=False)

    async def _post(self, path: str, form: dict[str, str], *, answer: bool = True) -> dict[str, Any]:
        form = {"client_id": self._client_id, "client_secret": self._client_secret, **form}
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.post(self._origin + path, data=form) as response,
            ):
                status = response.status
                body: Any = await response.json(content_type=None) if answer or status >= 400 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AsanaUnavailable(f"oauth {path}: {type(exc).__name__}") from None
        if status >= 500 or status == 429:
            raise AsanaUnavailable(f"oauth {path}: {status}", status=status)
        if status >= 400:
            error = str((body or {}).get("error") or status) if isinstance(body, dict) else str(status)
            raise OAuthRefused(error)
        return body if isinstance(body, dict) else {}


def _grant(body: dict[str, Any], *, refresh_token: str | None) -> Grant:
    user = body.get("data") or {}
    access, refresh = body.get("access_token"), body.get("refresh_token") or refresh_token
    gid = user.get("gid") or user.get("id")
    if not isinstance(access, str) or not isinstance(refresh, str) or gid is None:
        raise OAuthRefused("invalid_response")
    return Grant(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(body.get("expires_in") or 3600),
        user_gid=AsanaUserGid(str(gid)),
        user_name=str(user.get("name") or ""),
    )
