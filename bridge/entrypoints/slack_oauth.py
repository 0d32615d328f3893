"""The multi-workspace OAuth install: Bolt's OAuth flow on our stores, its two GET routes, our own pages."""

from __future__ import annotations

import logging
from typing import cast
from urllib.parse import urljoin

from aiohttp import web
from cachetools import LRUCache
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.authorization.authorize_result import AuthorizeResult
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bridge import wording

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
AUTHORIZED_TOKENS = 5_000  # auth.test answers Bolt keeps, least recently used first out

# The bot scopes manifest.yml asks for (tests/unit/test_oauth_scopes.py keeps the two equal).
BOT_SCOPES = (
    "app_mentions:read", "channels:history", "channels:join", "channels:read", "chat:write", "chat:write.public",
    "commands", "groups:history", "groups:read", "im:write", "links:read", "links:write", "reactions:read",
    "reactions:write", "users:read", "users:read.email",
)  # fmt: skip


def authorize_url(api_url: str) -> str:
    """Slack's consent page lives beside its Web API (https://slack.com/api/ → https://slack.com/oauth/v2/authorize)."""
    return urljoin(api_url if api_url.endswith("/") else api_url + "/", "../oauth/v2/authorize")


def oauth_settings(
    *,
    client_id: str,
    client_secret: str,
    api_url: str,
    public_url: str | None,
    installations: AsyncInstallationStore,
    states: AsyncOAuthStateStore,
) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        # Slack requires the token exchange to name the redirect URL the consent page was asked with, if any.
        redirect_uri=f"{public_url.rstrip('/')}{REDIRECT_PATH}" if public_url else None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # Straight to Slack's consent page: Bolt's own "Add to Slack" page would be words we do not own.
        install_page_rendering_enabled=False,
        authorization_url=authorize_url(api_url),
        installation_store=installations,
        state_store=states,
        callback_options=AsyncCallbackOptions(success=_installed, failure=_not_installed),
    )


def cached_authorize(
    *, client_id: str, client_secret: str, installations: AsyncInstallationStore, client: AsyncWebClient
) -> AsyncInstallationStoreAuthorize:
    """Bolt's installation-store authorize with its cache on: without it, every request costs an auth.test."""
    authorize = AsyncInstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt.authorize"),
        installation_store=installations,
        client_id=client_id,
        client_secret=client_secret,
        cache_enabled=True,
        client=client,
    )
    # Bolt keeps each token's auth.test answer in a plain dict for the life of the process: bounded here instead
    # (bridge.lookups' size policy). No expiry is needed: a token's answer does not change (a reinstall brings a
    # new token), and Bolt reads it with `in` then `[]`, which an expiry falling in between would break.
    authorize.authorize_result_cache = cast(dict[str, AuthorizeResult], LRUCache(maxsize=AUTHORIZED_TOKENS))
    return authorize


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    # Bolt stored the installation (through our store, sealed) before calling this.
    log.info("installed in %s (%s)", args.installation.team_id, args.installation.team_name)
    return _page(200, wording.install_succeeded_page(args.installation.team_name or ""))


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    log.warning("install failed: %s", args.reason)
    return _page(args.suggested_status_code, wording.install_failed_page(args.reason))


def _page(status: int, body: str) -> BoltResponse:
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


def install_routes(flow: AsyncOAuthFlow) -> list[web.RouteDef]:
    """GET /slack/install (sets the state cookie, redirects to Slack) and GET /slack/oauth_redirect."""

    async def install(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def redirect(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    return [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, redirect)]
