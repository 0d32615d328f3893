"""Asana's OAuth endpoints beside the API, as documented (reference/asana.md §8; OAS securitySchemes.oauth2).

`/-/oauth_authorize` is the consent page of whoever is logged in to Asana in the browser (a session cookie the
emulator hands out with `login`); it sends them back to the app's redirect URI with a code, or an error, and the
`state`. `/-/oauth_token` is form-encoded: the authorization_code grant (PKCE S256 checked when a challenge was given)
and the refresh_token grant, answering `expires_in` and the `data` user object. `/-/oauth_revoke` revokes a refresh
token (and every access token made from it) or one access token. Access tokens expire on the emulator's clock, and
a code works once (a replayed code also revokes what it gave: RFC 6749 §4.1.2).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

if TYPE_CHECKING:
    from bridge.sandbox.asana.world import World

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
CODE_LIFETIME = timedelta(minutes=10)
SESSION_COOKIE = "asana_session"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    user: str
    challenge: str | None
    expires_at: datetime
    used: bool = False
    refresh_token: str | None = None


@dataclass
class _Grant:
    """One authorization: its refresh token and the access tokens made from it."""

    client_id: str
    user: str
    access_tokens: set[str] = field(default_factory=set)


@dataclass
class OAuthRecord:
    """One call to an OAuth endpoint (kept apart from the API's log: the OAS has no paths for these)."""

    method: str
    path: str
    form: dict[str, str]
    status: int


class OAuthServer:
    def __init__(self, world: World) -> None:
        self._world = world
        self.apps: dict[str, OAuthApp] = {}
        self.sessions: dict[str, str] = {}  # browser session cookie -> user gid
        self._codes: dict[str, _Code] = {}
        self.grants: dict[str, _Grant] = {}  # refresh token -> grant
        self.expires: dict[str, datetime] = {}  # access token -> when it stops working
        self.requests: list[OAuthRecord] = []

    def expired(self, token: str) -> bool:
        until = self.expires.get(token)
        return until is not None and self._world.clock.now() >= until

    def login(self, user_gid: str) -> str:
        session = secrets.token_urlsafe(16)
        self.sessions[session] = user_gid
        return session

    def revoke_user(self, user_gid: str) -> None:
        """The person removed the app in Asana's settings: its refresh and access tokens stop working."""
        for refresh, grant in list(self.grants.items()):
            if grant.user == user_gid:
                self._revoke_grant(refresh)

    def _revoke_grant(self, refresh: str) -> None:
        grant = self.grants.pop(refresh, None)
        for token in grant.access_tokens if grant else ():
            self._world.store.tokens.pop(token, None)
            self.expires.pop(token, None)

    def _issue_access(self, grant: _Grant) -> str:
        token = f"2/{grant.user}/{secrets.token_hex(16)}:{secrets.token_hex(16)}"
        self._world.store.tokens[token] = grant.user
        self.expires[token] = self._world.clock.now() + ACCESS_TOKEN_LIFETIME
        grant.access_tokens.add(token)
        return token

    # ---------------------------------------------------------------- /-/oauth_authorize

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params = {key: str(value) for key, value in (await request.post()).items()}
        app = self.apps.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if app is None or redirect_uri != app.redirect_uri:
            # Asana shows a plain-text error for these instead of redirecting (the redirect could be anyone's).
            return web.Response(status=400, text="invalid_request: unknown client_id or mismatched redirect_uri")
        state = params.get("state", "")

        def back(**answer: str) -> web.StreamResponse:
            query = urlencode({**answer, **({"state": state} if state else {})})
            location = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"
            return web.Response(status=302, headers={"Location": location})

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if not state:
            return back(error="invalid_request", error_description="state is required")
        challenge = params.get("code_challenge") or None
        if challenge is not None and params.get("code_challenge_method") != "S256":
            return back(error="invalid_request", error_description="code_challenge_method must be S256")
        user = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if user is None:
            return web.Response(status=200, content_type="text/html", text="<h1>Log in to Asana</h1>")
        if request.method == "GET":
            return web.Response(status=200, content_type="text/html", text=_consent_page(app, params, user, self))
        if params.get("decision") != "allow":
            return back(error="access_denied", error_description="The user denied the request")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            user=user,
            challenge=challenge,
            expires_at=self._world.clock.now() + CODE_LIFETIME,
        )
        return back(code=code)

    # ---------------------------------------------------------------- /-/oauth_token and /-/oauth_revoke

    async def token(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if isinstance(form, web.Response):
            return form
        app = self._client(form)
        if app is None:
            return self._error(request, form, 401, "invalid_client", "client authentication failed")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(request, form, app)
        if grant_type == "refresh_token":
            grant = self.grants.get(form.get("refresh_token", ""))
            if grant is None or grant.client_id != app.client_id:
                return self._error(request, form, 400, "invalid_grant", "refresh_token is invalid or revoked")
            return self._tokens(request, form, grant, refresh=None)
        return self._error(request, form, 400, "unsupported_grant_type", f"unknown grant_type {grant_type!r}")

    def _code_grant(self, request: web.Request, form: dict[str, str], app: OAuthApp) -> web.Response:
        code = self._codes.get(form.get("code", ""))
        if code is None or code.client_id != app.client_id:
            return self._error(request, form, 400, "invalid_grant", "code is invalid")
        if code.used:
            if code.refresh_token:
                self._revoke_grant(code.refresh_token)  # a replayed code: what it gave is revoked
            return self._error(request, form, 400, "invalid_grant", "code was already used")
        code.used = True
        if self._world.clock.now() >= code.expires_at:
            return self._error(request, form, 400, "invalid_grant", "code expired")
        if form.get("redirect_uri") != code.redirect_uri:
            return self._error(request, form, 400, "invalid_grant", "redirect_uri does not match")
        if code.challenge is not None and _s256(form.get("code_verifier", "")) != code.challenge:
            return self._error(request, form, 400, "invalid_grant", "code_verifier does not match the challenge")
        refresh = f"2/{code.user}/{secrets.token_hex(24)}"
        self.grants[refresh] = _Grant(client_id=app.client_id, user=code.user)
        code.refresh_token = refresh
        return self._tokens(request, form, self.grants[refresh], refresh=refresh)

    def _tokens(
        self, request: web.Request, form: dict[str, str], grant: _Grant, *, refresh: str | None
    ) -> web.Response:
        user = self._world.store.users[grant.user]
        body: dict[str, Any] = {
            "access_token": self._issue_access(grant),
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "token_type": "bearer",
            "data": {"id": int(user.gid), "gid": user.gid, "name": user.name, "email": user.email},
        }
        if refresh is not None:
            body["refresh_token"] = refresh  # the refresh grant keeps the one it was given
        self.requests.append(OAuthRecord(request.method, request.path, form, 200))
        return web.json_response(body)

    async def revoke(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if isinstance(form, web.Response):
            return form
        if self._client(form) is None:
            return self._error(request, form, 401, "invalid_client", "client authentication failed")
        token = form.get("token", "")
        if token in self.grants:
            self._revoke_grant(token)
        else:
            self._world.store.tokens.pop(token, None)
            for grant in self.grants.values():
                grant.access_tokens.discard(token)
        self.requests.append(OAuthRecord(request.method, request.path, form, 200))
        return web.Response(status=200)  # unknown tokens too (RFC 7009 §2.2)

    def _client(self, form: dict[str, str]) -> OAuthApp | None:
        """The app whose client id and secret the form carries (client_secret_post), else None."""
        app = self.apps.get(form.get("client_id", ""))
        if app is None or not secrets.compare_digest(form.get("client_secret", ""), app.client_secret):
            return None
        return app

    async def _form(self, request: web.Request) -> dict[str, str] | web.Response:
        if request.content_type != FORM:
            return self._error(request, {}, 400, "invalid_request", "the body must be form-encoded")
        return {key: str(value) for key, value in (await request.post()).items()}

    def _error(
        self, request: web.Request, form: dict[str, str], status: int, error: str, description: str
    ) -> web.Response:
        self.requests.append(OAuthRecord(request.method, request.path, form, status))
        return web.json_response({"error": error, "error_description": description}, status=status)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _consent_page(app: OAuthApp, params: dict[str, str], user_gid: str, server: OAuthServer) -> str:
    user = server._world.store.users[user_gid]
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k != "decision"
    )
    return (
        f"<h1>Allow this app to access your Asana account?</h1><p>Logged in as {html.escape(user.name)}</p>"
        f'<form method="post" action="/-/oauth_authorize">{hidden}'
        '<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button></form>'
    )


def routes(server: OAuthServer) -> list[web.RouteDef]:
    return [
        web.get("/-/oauth_authorize", server.authorize),
        web.post("/-/oauth_authorize", server.authorize),
        web.post("/-/oauth_token", server.token),
        web.post("/-/oauth_revoke", server.revoke),
    ]
