"""AsanaEmulator: a stateful Asana REST API on 127.0.0.1 for the real `asana` client, with knobs for tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

from bridge.sandbox.asana import seeding
from bridge.sandbox.asana.actor import Actor
from bridge.sandbox.asana.app import Gate, RecordedRequest, build_app
from bridge.sandbox.asana.clock import Clock
from bridge.sandbox.asana.delivery import DeliveryRecord, DeliverySettings
from bridge.sandbox.asana.http import API_PREFIX
from bridge.sandbox.asana.limits import Faults, InFlight, RateLimiter
from bridge.sandbox.asana.model import Event, Webhook
from bridge.sandbox.asana.oauth import SESSION_COOKIE, OAuthApp, OAuthServer
from bridge.sandbox.asana.store import Store
from bridge.sandbox.asana.world import World


class AsanaEmulator:
    """Runs in the caller's event loop. Seed it, point `asana.Configuration.host` at `url`, inspect it after."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        batch_window: float = 0.05,
        retry_delays: Sequence[float] | None = None,
        delivery_timeout: float = 10.0,
        handshake_timeout: float = 10.0,
        failure_window: timedelta = timedelta(hours=24),
        seed: int = 0,
    ) -> None:
        self.clock = clock or Clock()
        settings = DeliverySettings(
            batch_window=batch_window,
            delivery_timeout=delivery_timeout,
            handshake_timeout=handshake_timeout,
            failure_window=failure_window,
        )
        if retry_delays is not None:
            settings.retry_delays = tuple(retry_delays)
        self._world = World(self.clock, settings, seed)
        self.faults = Faults(seed)
        self._gate = Gate(self.faults, RateLimiter(self.clock), InFlight())
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def app(self) -> web.Application:
        if self._app is None:
            self._app = build_app(self._world, self._gate)
        return self._app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}"
        self._world.api_url = self.url
        await self._world.delivery.start()

    async def stop(self) -> None:
        await self._world.delivery.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> AsanaEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the Asana emulator is not started")
        return self._base_url

    @property
    def url(self) -> str:
        """What `asana.Configuration.host` takes: http://127.0.0.1:PORT/api/1.0."""
        return self.base_url + API_PREFIX

    # ---------------------------------------------------------------- seeding (gids are returned as strings)

    def add_workspace(self, name: str) -> str:
        return seeding.add_workspace(self._world, name)

    def add_user(
        self,
        name: str,
        email: str,
        workspaces: Sequence[str] = (),
        token: str | None = None,
        *,
        guest_of: Sequence[str] = (),
    ) -> str:
        """A person; with a token they can call the API (`Authorization: Bearer <token>`); a guest of the
        workspaces in `guest_of`."""
        return seeding.add_user(self._world, name, email, workspaces, token, guest_of)

    def add_token(self, user_gid: str, token: str) -> None:
        self._world.store.tokens[token] = user_gid

    def revoke_token(self, token: str) -> None:
        self._world.store.tokens.pop(token, None)

    def add_project(
        self,
        workspace_gid: str,
        name: str,
        sections: Sequence[str] = ("Untitled section",),
        *,
        public: bool = True,
        members: Sequence[str] = (),
        owner: str | None = None,
        privacy: str | None = None,
        team: str | None = None,
    ) -> str:
        """A project; `public=False` hides it from everyone but `members` (403 for the others). `privacy` as
        Asana's privacy_setting (public_to_workspace, private_to_team with `team`, private) wins over `public`."""
        return seeding.add_project(
            self._world,
            workspace_gid,
            name,
            sections,
            public=public,
            members=members,
            owner=owner,
            privacy=privacy,
            team=team,
        )

    def add_team(self, workspace_gid: str, name: str, members: Sequence[str] = ()) -> str:
        return seeding.add_team(self._world, workspace_gid, name, members)

    def set_project_privacy(self, project_gid: str, privacy: str, *, team: str | None = None) -> None:
        project = self.store.projects[project_gid]
        project.privacy, project.public = privacy, privacy == "public_to_workspace"
        project.team = team if team is not None else project.team

    # ---------------------------------------------------------------- OAuth (people connecting their account)

    @property
    def oauth(self) -> OAuthServer:
        return self._world.oauth

    def add_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self._world.oauth.apps[client_id] = OAuthApp(client_id, client_secret, redirect_uri)

    async def consent(self, authorize_url: str, user_gid: str, *, allow: bool = True) -> str:
        """Play the person's browser on Asana's consent page (logged in as `user_gid`): open the page, click Allow
        (or Deny) and return where Asana sends them back to (the Location of its redirect), not followed."""
        cookies = {SESSION_COOKIE: self._world.oauth.login(user_gid)}
        async with aiohttp.ClientSession(cookies=cookies) as session:
            async with session.get(authorize_url, allow_redirects=False) as page:
                if page.status != 200:
                    return page.headers.get("Location") or f"status {page.status}: {await page.text()}"
            params = dict(parse_qsl(urlsplit(authorize_url).query))
            params["decision"] = "allow" if allow else "deny"
            async with session.post(self.base_url + "/-/oauth_authorize", data=params, allow_redirects=False) as answer:
                return answer.headers.get("Location") or f"status {answer.status}: {await answer.text()}"

    def add_section(self, project_gid: str, name: str) -> str:
        return seeding.create_section(self._world, project_gid, name)

    def section_gid(self, project_gid: str, name: str) -> str:
        store = self._world.store
        for gid in store.projects[project_gid].sections:
            if store.sections[gid].name == name:
                return gid
        raise KeyError(f"no section {name!r} in project {project_gid}")

    def add_enum_custom_field(
        self,
        workspace_gid: str,
        name: str,
        options: Sequence[str] = ("P0", "P1", "P2", "P3"),
        *,
        projects: Sequence[str] = (),
        is_important: bool = True,
    ) -> str:
        """An enum custom field, attached to `projects` (custom_field_settings)."""
        gid = seeding.add_enum_field(self._world, workspace_gid, name, options)
        for project in projects:
            seeding.attach_field(self._world, project, gid, is_important)
        return gid

    def attach_custom_field(self, project_gid: str, field_gid: str, is_important: bool = True) -> str:
        return seeding.attach_field(self._world, project_gid, field_gid, is_important)

    def option_gid(self, field_gid: str, name: str) -> str:
        store = self._world.store
        for gid in store.fields[field_gid].options:
            if store.options[gid].name == name:
                return gid
        raise KeyError(f"no option {name!r} on field {field_gid}")

    def disable_option(self, option_gid: str) -> None:
        self._world.store.options[option_gid].enabled = False

    def add_ooo_entry(
        self, user_gid: str, start_date: date | str, end_date: date | str, workspace_gid: str | None = None
    ) -> str:
        start = date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
        end = date.fromisoformat(end_date) if isinstance(end_date, str) else end_date
        return seeding.add_ooo(self._world, user_gid, start, end, workspace_gid, None)

    def act(self, user_gid: str) -> Actor:
        """A person changing things in Asana's UI; emits the same events and stories as the API."""
        if user_gid not in self._world.store.users:
            raise KeyError(f"no user {user_gid}")
        return Actor(self._world, user_gid)

    # ---------------------------------------------------------------- inspection

    @property
    def store(self) -> Store:
        """The records themselves (tasks, stories, webhooks…), for assertions."""
        return self._world.store

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._gate.requests

    def calls(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose method matches and whose path (below /api/1.0) matches the regex."""
        pattern = re.compile(path_pattern)
        return [r for r in self.requests if r.method == method.upper() and pattern.search(r.path)]

    @property
    def events(self) -> list[Event]:
        return self._world.hub.events

    def render(self, kind: str, gid: str, opt_fields: str | None = None) -> dict[str, Any]:
        """A record as the API would return it (e.g. render("task", gid, "name,completed"))."""
        return self._world.renderer.one(kind, gid, opt_fields)

    # ---------------------------------------------------------------- time and the Events API

    def advance(self, *, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0) -> None:
        """Move the emulator's clock forward (sync tokens, rate-limit windows, the 24 h webhook deletion)."""
        self.clock.advance(timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days))

    @property
    def sync_token_ttl(self) -> timedelta:
        return self._world.hub.sync_token_ttl

    @sync_token_ttl.setter
    def sync_token_ttl(self, value: timedelta) -> None:
        self._world.hub.sync_token_ttl = value

    def expire_sync_tokens(self) -> None:
        self._world.hub.expire_sync_tokens()

    # ---------------------------------------------------------------- webhooks

    @property
    def webhooks(self) -> list[Webhook]:
        return list(self._world.store.webhooks.values())

    @property
    def deliveries(self) -> list[DeliveryRecord]:
        return self._world.delivery.records

    @property
    def delivery_settings(self) -> DeliverySettings:
        return self._world.delivery.settings

    async def deliveries_idle(self, timeout: float = 5.0) -> None:
        """Wait until every webhook delivery (and retry) is done; TimeoutError if still busy after `timeout`."""
        await self._world.delivery.idle(timeout)

    def heartbeat(self, webhook_gid: str | None = None) -> None:
        self._world.delivery.heartbeat(webhook_gid)

    def drop_deliveries(self, batches: int = 1) -> None:
        """Lose the next N delivery batches (Asana is at-most-once)."""
        self._world.delivery.drop_next(batches)

    @property
    def delivery_loss_probability(self) -> float:
        return self._world.delivery.loss_probability

    @delivery_loss_probability.setter
    def delivery_loss_probability(self, value: float) -> None:
        self._world.delivery.loss_probability = value

    # ---------------------------------------------------------------- limits

    def rate_limit(self, per_minute: int | None) -> None:
        """Per-token quota per minute (150 free, 1500 paid); None turns it off."""
        self._gate.rate.per_minute = per_minute
        self._gate.rate.reset()

    def concurrency_limits(self, *, reads: int = 50, writes: int = 15) -> None:
        self._gate.in_flight.reads = reads
        self._gate.in_flight.writes = writes
