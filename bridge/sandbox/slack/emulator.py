"""The Slack Web API emulator: an aiohttp app on 127.0.0.1 that keeps workspace state, enforces Slack's
rules and limits, injects faults and records every call, for the real slack_sdk client to talk to; it also
serves Socket Mode (apps.connections.open and the WebSocket link, see socket_mode.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from . import chat_api, conversations_api, views_api
from .context import BOT_SCOPES, METHOD_SCOPES, Context, Handler
from .errors import ApiError
from .faults import Fault, Faults
from .hooks import Hooks
from .ids import Clock, Minter
from .limits import RateLimits
from .models import JSON, Bot, Call, Ephemeral, Message, Unfurl
from .oauth import OAuth
from .params import Params
from .socket_mode import SocketMode
from .surfaces import View
from .workspace import Workspace

T = TypeVar("T")
METHODS: dict[str, Handler] = {**chat_api.METHODS, **conversations_api.METHODS, **views_api.METHODS}


class SlackEmulator:
    """Slack for one app installed in one or more workspaces; `team` is the first, made by the constructor."""

    def __init__(self, *, clock: Clock = time.time, seed: int = 0, rate_limits: bool = True) -> None:
        self.minter = Minter(clock, seed)
        self.faults = Faults(seed)
        self.limits = RateLimits(clock, enabled=rate_limits)
        self.calls: list[Call] = []
        self.hooks = Hooks(lambda: self.root_url)
        self.teams: dict[str, Workspace] = {}
        self.app_id = self.minter.id("A")
        self.oauth = OAuth(self, seed=seed)
        self._runner: web.AppRunner | None = None
        self._root = ""
        self.team = self.add_team("Sandbox", "sandbox")
        self.socket_mode = SocketMode(app_id=self.app_id, seed=seed, root_url=lambda: self.root_url)

    # workspaces

    def add_team(
        self,
        name: str,
        domain: str,
        *,
        bot_name: str = "asana-bridge",
        scopes: set[str] | None = None,
        enterprise_id: str | None = None,
        installed: bool = True,
    ) -> Workspace:
        """A workspace; with `installed=False` its bot token works only once the app is installed through OAuth."""
        team_id = self.minter.id("T")
        bot = Bot(
            token=f"xoxb-{self.minter.numeric(12)}-{self.minter.numeric(13)}-{self.minter.token(24)}",
            user_id=self.minter.id("U"),
            bot_id=self.minter.id("B"),
            app_id=self.app_id,
            name=bot_name,
            scopes=set(BOT_SCOPES if scopes is None else scopes),
        )
        ws = Workspace(
            team_id=team_id,
            name=name,
            domain=domain,
            minter=self.minter,
            bot=bot,
            enterprise_id=enterprise_id,
            enterprise_name=f"{name} Org" if enterprise_id else None,
        )
        ws.installed = installed
        self.teams[team_id] = ws
        return ws

    def workspace(self, team_id: str | None = None) -> Workspace:
        return self.teams[team_id] if team_id else self.team

    @property
    def bot_token(self) -> str:
        return self.team.bot.token

    @property
    def app_token(self) -> str:
        """The app-level ``xapp-`` token (connections:write) that opens Socket Mode links."""
        return self.socket_mode.app_token

    def add_user(self, name: str, email: str | None = None, is_bot: bool = False, *, team_id: str | None = None) -> str:
        return self.workspace(team_id).add_user(name, email, is_bot=is_bot).id

    def set_timezone(self, user_id: str, tz: str, *, team_id: str | None = None) -> None:
        """Where a person lives, as their Slack profile says (users.info `tz`, `tz_label`, `tz_offset`)."""
        self.workspace(team_id).user(user_id).tz = tz

    def add_channel(
        self, name: str, members: list[str] | None = None, is_private: bool = False, *, team_id: str | None = None
    ) -> str:
        """A channel; `members` are user ids or names, and the bot is in it only if listed (its id or name)."""
        return self.workspace(team_id).add_channel(name, members, is_private=is_private).id

    # server

    @property
    def root_url(self) -> str:
        if not self._root:
            raise RuntimeError("SlackEmulator is not started")
        return self._root

    @property
    def api_url(self) -> str:
        """The `base_url` for slack_sdk clients."""
        return f"{self.root_url}/api/"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response_url/{hook:.+}", self._response_url)
        app.router.add_get("/link/", self.socket_mode.handle)
        app.router.add_get("/oauth/v2/authorize", self.oauth.authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self._root = f"http://{host}:{bound[1]}"

    async def stop(self) -> None:
        await self.socket_mode.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            raw, token = await _read(request)
        except ApiError as exc:
            return self._answer(method, {}, None, 200, exc.body())
        if method == "apps.connections.open":
            return await self._connections_open(request, raw, token)
        if method == "oauth.v2.access":
            # Authenticated by the app's client id and secret, not by a token.
            try:
                body = self.oauth.access(raw, request.headers.get("Authorization", ""))
            except ApiError as exc:
                body = exc.body()
            return self._answer(method, {k: v for k, v in raw.items() if k != "client_secret"}, None, 200, body)
        handler = METHODS.get(method)
        if handler is None:
            return self._answer(method, raw, None, 200, {"ok": False, "error": "unknown_method"})
        ws = next((w for w in self.teams.values() if token and w.installed and w.bot.token == token), None)
        if ws is None:
            # An app-level token only opens Socket Mode links; Slack refuses it for everything else.
            error = "not_allowed_token_type" if token == self.app_token else "invalid_auth" if token else "not_authed"
            if token and token in self.oauth.app.revoked:
                error = "token_revoked"
            return self._answer(method, raw, None, 200, {"ok": False, "error": error})
        fault = self.faults.pick(method, raw)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and not fault.processed:
            failed = self._fail(request, method, raw, ws, fault)
            if failed is not None:
                return failed
        channel = _channel_key(ws, raw.get("channel")) if method == "chat.postMessage" else None
        retry_after = self.limits.check(ws.team_id, method, channel)
        if retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            return self._answer(method, raw, ws, 429, body, {"Retry-After": str(retry_after)})
        try:
            body = handler(Context(ws=ws, params=Params(raw), hooks=self.hooks, method=method))
        except ApiError as exc:
            body = exc.body()
        if fault is not None and fault.processed:
            failed = self._fail(request, method, raw, ws, fault)
            if failed is not None:
                return failed
        headers = {"X-OAuth-Scopes": ",".join(sorted(ws.bot.scopes))}
        if method in METHOD_SCOPES:
            headers["X-Accepted-OAuth-Scopes"] = METHOD_SCOPES[method]
        return self._answer(method, raw, ws, 200, body, headers)

    async def _connections_open(self, request: web.Request, raw: JSON, token: str | None) -> web.StreamResponse:
        """apps.connections.open: a WebSocket URL for the app-level token; bot tokens are the wrong kind."""
        method = "apps.connections.open"
        if token != self.app_token:
            is_bot = any(w.bot.token == token for w in self.teams.values())
            error = "not_authed" if not token else "not_allowed_token_type" if is_bot else "invalid_auth"
            return self._answer(method, raw, None, 200, {"ok": False, "error": error})
        fault = self.faults.pick(method, raw)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            failed = self._fail(request, method, raw, None, fault)
            if failed is not None:
                return failed
        return self._answer(method, raw, None, 200, {"ok": True, "url": self.socket_mode.open_url()})

    def _fail(
        self, request: web.Request, method: str, raw: JSON, ws: Workspace | None, fault: Fault
    ) -> web.StreamResponse | None:
        if fault.drop:
            self.calls.append(Call(method, raw, 0, {}, ws.team_id if ws else None))
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        answer = Faults.answer(fault)
        if answer is None:
            return None
        status, body, headers = answer
        return self._answer(method, raw, ws, status, body, headers)

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        hook = self.hooks.find(request.match_info["hook"])
        try:
            body = json.loads(await request.text())
        except ValueError:
            body = None
        ws = hook.workspace if hook else None
        if hook is None:
            return self._answer("response_url", {}, ws, 404, {"ok": False, "error": "no_service"})
        if not isinstance(body, dict):
            return self._answer("response_url", {}, ws, 400, {"ok": False, "error": "invalid_payload"})
        fault = self.faults.pick("response_url", body)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            failed = self._fail(request, "response_url", body, hook.workspace, fault)
            if failed is not None:
                return failed
        status, answer = self.hooks.apply(hook, body)
        return self._answer("response_url", body, ws, status, answer)

    def _answer(
        self,
        method: str,
        params: JSON,
        ws: Workspace | None,
        status: int,
        body: JSON,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self.calls.append(Call(method, params, status, body, ws.team_id if ws else None))
        return web.json_response(body, status=status, headers=headers)

    # what tests look at

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str, *, team_id: str | None = None, replies: bool = False) -> list[Message]:
        """Messages in a channel (id, ``#name`` or a user id for the bot's DM), oldest first; top-level by default."""
        found = self.workspace(team_id).channel(channel)
        return [m for m in found.messages if replies or not m.is_reply or m.subtype == "thread_broadcast"]

    def thread(self, channel: str, ts: str, *, team_id: str | None = None) -> list[Message]:
        """The parent message followed by its replies, as conversations.replies lists them."""
        found = self.workspace(team_id).channel(channel)
        parent = found.find(ts)
        return [parent, *found.replies(ts)] if parent else []

    def ephemerals(self, user: str, *, team_id: str | None = None) -> list[Ephemeral]:
        ws = self.workspace(team_id)
        user_id = ws.user_named(user).id
        return [e for e in ws.ephemerals if e.user == user_id and not e.deleted]

    @property
    def views(self) -> list[View]:
        """Every modal opened or pushed, in order, across workspaces (closed ones have `closed` set)."""
        return [v for ws in self.teams.values() for v in ws.views.all if v.type == "modal"]

    def open_views(self, user: str, *, team_id: str | None = None) -> list[View]:
        ws = self.workspace(team_id)
        return list(ws.views.stacks.get(ws.user_named(user).id, []))

    def home(self, user: str, *, team_id: str | None = None) -> View | None:
        ws = self.workspace(team_id)
        return ws.views.homes.get(ws.user_named(user).id)

    def unfurls(self, *, team_id: str | None = None) -> list[Unfurl]:
        return list(self.workspace(team_id).unfurls)

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,
        *,
        interval: float = 0.01,
    ) -> T:
        """Poll `predicate` until it returns something truthy and return that; TimeoutError after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(interval)


async def _read(request: web.Request) -> tuple[JSON, str | None]:
    """Arguments from the query and a form or JSON body, and the token (header, or a form/query field)."""
    raw: dict[str, Any] = dict(request.query)
    token = raw.pop("token", None)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise ApiError("invalid_json")
            # Slack reads no token from a JSON body: JSON calls must use the Authorization header.
            body.pop("token", None)
            raw.update(body)
        else:
            form = await request.post()
            raw.update({k: v for k, v in form.items() if isinstance(v, str)})
            token = raw.pop("token", token)
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header.removeprefix("Bearer ").strip()
    return raw, token


def _channel_key(ws: Workspace, ref: Any) -> str | None:
    if not isinstance(ref, str) or not ref:
        return None
    try:
        return ws.channel(ref).id
    except ApiError:
        return ref
