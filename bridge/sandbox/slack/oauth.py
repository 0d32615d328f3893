"""The app's OAuth install, as Slack runs it: the consent page (GET /oauth/v2/authorize) that sends the browser
back to the app's redirect URL with a one-time code, and oauth.v2.access, which trades the code for tokens.

Slack's rules kept here: the client id and secret must be the app's (form fields or HTTP Basic); a code is good
once and for ten minutes; a redirect_uri given to the consent page must be one of the app's redirect URLs and be
given again, the same, to oauth.v2.access. Uninstalling revokes the workspace's tokens.
"""

from __future__ import annotations

import base64
import binascii
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from .errors import ApiError
from .models import JSON
from .workspace import Workspace

if TYPE_CHECKING:
    from .emulator import SlackEmulator

CODE_TTL = 600.0  # seconds an authorization code stays good
# The browser's session cookie on the emulated slack.com: the id of the person signed in (Slack calls its own "d").
SESSION_COOKIE = "d"


@dataclass
class Grant:
    code: str
    team_id: str
    user_id: str
    scopes: tuple[str, ...]
    user_scopes: tuple[str, ...]
    redirect_uri: str | None
    issued_at: float
    used: bool = False


@dataclass
class OAuthApp:
    """The app's credentials and redirect URLs (App Management → Basic Information, OAuth & Permissions)."""

    client_id: str
    client_secret: str
    redirect_urls: list[str] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)  # tokens Slack answers `token_revoked` to


class OAuth:
    def __init__(self, emulator: SlackEmulator, *, seed: int = 0) -> None:
        self.emulator = emulator
        rng = random.Random(f"oauth-{seed}")  # its own randomness: ids minted elsewhere stay as they were
        self.app = OAuthApp(
            client_id=f"{rng.randrange(10**12, 10**13)}.{rng.randrange(10**12, 10**13)}",
            client_secret=f"{rng.getrandbits(128):032x}",
        )

    # the consent page

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("client_id") != self.app.client_id:
            return _page(400, "Invalid client_id parameter")
        redirect_uri = query.get("redirect_uri") or None
        if redirect_uri is not None and redirect_uri not in self.app.redirect_urls:
            return _page(400, "redirect_uri did not match any configured URIs")
        target = redirect_uri or (self.app.redirect_urls[0] if self.app.redirect_urls else None)
        if target is None:
            return _page(400, "no redirect URL is configured for this app")
        user = self._signed_in(request)
        if user is None:
            return _page(401, "Sign in to your workspace to continue")
        ws = self.emulator.workspace(user[0])
        wanted_team = query.get("team")
        state = query.get("state", "")
        if wanted_team and wanted_team != ws.team_id:
            return _page(400, "You are not signed in to the workspace this link is for")
        if request.cookies.get("consent") == "deny":
            return _redirect(target, {"error": "access_denied", "state": state})
        code = f"{self.emulator.minter.numeric(12)}.{self.emulator.minter.numeric(13)}.{self.emulator.minter.token(32)}"
        self.app.grants[code] = Grant(
            code=code,
            team_id=ws.team_id,
            user_id=user[1],
            scopes=_split(query.get("scope")),
            user_scopes=_split(query.get("user_scope")),
            redirect_uri=redirect_uri,
            issued_at=ws.now(),
        )
        return _redirect(target, {"code": code, "state": state})

    def _signed_in(self, request: web.Request) -> tuple[str, str] | None:
        user_id = request.cookies.get(SESSION_COOKIE, "")
        for ws in self.emulator.teams.values():
            if user_id in ws.users and not ws.users[user_id].is_bot:
                return ws.team_id, user_id
        return None

    # oauth.v2.access

    def access(self, raw: JSON, authorization: str) -> JSON:
        client_id, client_secret = raw.get("client_id"), raw.get("client_secret")
        if authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization.removeprefix("Basic ").strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError("invalid_client_id") from None
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.app.client_id:
            raise ApiError("invalid_client_id")
        if client_secret != self.app.client_secret:
            raise ApiError("bad_client_secret")
        grant_type = raw.get("grant_type") or "authorization_code"
        if grant_type != "authorization_code":
            raise ApiError("invalid_grant_type")
        grant = self.app.grants.get(str(raw.get("code") or ""))
        if grant is None or grant.used:
            raise ApiError("invalid_code")
        ws = self.emulator.workspace(grant.team_id)
        if ws.now() - grant.issued_at > CODE_TTL:
            raise ApiError("invalid_code")
        if (raw.get("redirect_uri") or None) != grant.redirect_uri:
            raise ApiError("bad_redirect_uri")
        grant.used = True  # even when what follows fails: a code is spent by its first exchange
        return self.install(ws, grant)

    def install(self, ws: Workspace, grant: Grant) -> JSON:
        """Install (or re-install) the app in the workspace: the bot token (a fresh one if it was revoked)."""
        bot = ws.bot
        if not ws.installed or bot.token in self.app.revoked:
            minter = self.emulator.minter
            bot.token = f"xoxb-{minter.numeric(12)}-{minter.numeric(13)}-{minter.token(24)}"
        ws.installed = True
        if grant.scopes:
            bot.scopes = set(grant.scopes)
        authed_user: JSON = {"id": grant.user_id}
        if grant.user_scopes:
            token = f"xoxp-{self.emulator.minter.numeric(12)}-{self.emulator.minter.numeric(13)}"
            ws.user_tokens[grant.user_id] = token
            authed_user.update({"scope": ",".join(grant.user_scopes), "access_token": token, "token_type": "user"})
        enterprise = {"name": ws.enterprise_name, "id": ws.enterprise_id} if ws.enterprise_id else None
        # Field for field as tests/data/specs/slack-payloads/web_api.oauth.v2.access.response.json.
        return {
            "ok": True,
            "access_token": bot.token,
            "token_type": "bot",
            "scope": ",".join(sorted(bot.scopes)),
            "bot_user_id": bot.user_id,
            "app_id": bot.app_id,
            "team": {"name": ws.name, "id": ws.team_id},
            "enterprise": enterprise,
            "authed_user": authed_user,
            "is_enterprise_install": False,
        }

    def uninstall(self, ws: Workspace) -> list[str]:
        """Remove the app from a workspace: its bot and user tokens stop working. Returns the user ids whose
        tokens were revoked (what the tokens_revoked event lists)."""
        ws.installed = False
        self.app.revoked.add(ws.bot.token)
        users = list(ws.user_tokens)
        self.app.revoked.update(ws.user_tokens.values())
        ws.user_tokens.clear()
        return users


def _split(scopes: str | None) -> tuple[str, ...]:
    return tuple(s for s in (scopes or "").replace(" ", ",").split(",") if s)


def _redirect(target: str, params: dict[str, str]) -> web.StreamResponse:
    joiner = "&" if "?" in target else "?"
    raise web.HTTPFound(target + joiner + urlencode(params))


def _page(status: int, text: str) -> web.StreamResponse:
    return web.Response(
        status=status, text=f"<!DOCTYPE html><html><body><p>{text}</p></body></html>", content_type="text/html"
    )
