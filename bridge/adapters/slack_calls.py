"""One call to Slack's Web API: with the bot token of the workspace it acts for, its errors mapped to SlackError,
counted and timed. Shared by every workspace's view of the gateway (adapters/slack_api.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bridge.adapters.slack_installations import WorkspaceTokens
from bridge.errors import SlackError
from bridge.metrics import Metrics

log = logging.getLogger(__name__)


# Answers that mean the bot token itself no longer works: an operator must act (/healthz says so).
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})

# Methods that create something: a 5xx may come after Slack did it, so retrying blindly could do it twice.
NOT_REPEATABLE = ("chat.postMessage", "chat.postEphemeral")


class RepeatableServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's 5xx retry, except for methods that create messages: those are retried by the bridge itself,
    which first looks in the thread for the key the first attempt carried (relay) instead of posting again."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(NOT_REPEATABLE):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class SlackCalls:
    """With `tokens` (the multi-workspace install), a call uses the bot token of the workspace it names; without,
    every call uses `client`'s one token."""

    def __init__(
        self, client: AsyncWebClient, *, metrics: Metrics | None = None, tokens: WorkspaceTokens | None = None
    ) -> None:
        self.client = client
        self._tokens = tokens
        self._team_clients: dict[str, AsyncWebClient] = {}
        self._metrics = metrics
        self.count = 0
        # The error of the last call Slack refused for the token's sake; cleared by the next call that works.
        self.auth_error: str | None = None

    async def __call__(self, team: str | None, name: str, method: str, **kwargs: Any) -> dict[str, Any]:
        """`method` of AsyncWebClient (chat_postMessage…), Slack's `name` for it, for workspace `team`."""
        started = time.perf_counter()
        self.count += 1
        outcome = "ok"
        try:
            client = await self._client_of(team, name)
            response = await getattr(client, method)(**kwargs)
            self.auth_error = None
            return dict(response.data) if isinstance(response.data, dict) else {}
        except SlackError as exc:
            outcome = exc.code or "error"
            raise
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            outcome = code
            if code in AUTH_ERRORS:
                self.auth_error = code
            if exc.response.status_code == 429 and self._metrics:
                self._metrics.api_rate_limited.labels("slack").inc()
            status = exc.response.status_code
            raise SlackError(
                f"{name}: {code}",
                status=status,
                code=code,
                retryable=status == 429 or status >= 500,
                retry_after=_retry_after(exc.response.headers) if status == 429 else 0.0,
            ) from exc
        except (SlackClientError, OSError, TimeoutError) as exc:
            outcome = "network"
            raise SlackError(f"{name}: {type(exc).__name__}", retryable=True) from exc
        finally:
            if self._metrics:
                self._metrics.api_calls.labels("slack", name, outcome).inc()
                self._metrics.api_latency.labels("slack").observe(time.perf_counter() - started)

    async def _client_of(self, team: str | None, name: str) -> AsyncWebClient:
        """The client holding the token of workspace `team`."""
        if self._tokens is None:
            return self.client
        token = await self._tokens.bot_token(team) if team else None
        if token is None:
            # Never fall back to another workspace's token: that would post into the wrong workspace.
            raise SlackError(f"{name}: the app is not installed in workspace {team}", code="not_installed")
        client = self._team_clients.get(team or "")
        if client is None or client.token != token:
            base = self.client  # the same API URL, session and retries, that workspace's token
            client = AsyncWebClient(
                token=token,
                base_url=base.base_url,
                session=base.session,
                timeout=base.timeout,
                retry_handlers=base.retry_handlers,
            )
            self._team_clients[team or ""] = client
        return client

    def forget_team(self, team_id: str) -> None:
        """An uninstall or revoked token: look the workspace's token up again before its next call."""
        if self._tokens is not None:
            self._tokens.forget(team_id)


def _retry_after(headers: Any) -> float:
    """Seconds a 429 asks to wait (Slack sends whole seconds); 1 when it does not say."""
    try:
        return max(0.0, float((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or 1))
    except (TypeError, ValueError):
        return 1.0
