"""The Slack gateway: slack_sdk's AsyncWebClient with per-channel pacing, mapped errors and call counting."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bridge.adapters.limits import ChannelPacer, SharedChannelPacer
from bridge.adapters.slack_installations import WorkspaceTokens
from bridge.domain.model import MessageTs
from bridge.errors import SlackError
from bridge.lookups import Lookups
from bridge.metrics import Metrics
from bridge.tenancy import current_team

log = logging.getLogger(__name__)


# Answers that mean the bot token itself no longer works: an operator must act (/healthz says so).
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})

# Methods that create something: a 5xx may come after Slack did it, so retrying blindly could do it twice.
NOT_REPEATABLE = ("chat.postMessage", "chat.postEphemeral")

ZONE_CACHE_SECONDS = 6 * 3600.0  # a person's timezone (users.info tz) is read again after this
NAME_SECONDS = 3600.0  # names, channels and the Slack user of an email address are read again after this
MISS_SECONDS = 60.0  # "no such user" is believed this long: a person who joins Slack is found within a minute


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


class SlackGateway:
    """With `tokens` (the multi-workspace install), each call uses the bot token of the workspace the running work
    acts for (bridge.tenancy); without, every call uses `client`'s one token."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        metrics: Metrics | None = None,
        post_interval: float = 1.0,
        pacer: ChannelPacer | SharedChannelPacer | None = None,
        tokens: WorkspaceTokens | None = None,
        timer: Callable[[], float] = time.monotonic,  # what the lookups' lifetimes are counted on (tests move it)
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._team_clients: dict[str, AsyncWebClient] = {}
        self._metrics = metrics
        # chat.postMessage allows about one message per second per channel; pace instead of collecting 429s.
        self._pacer = pacer or ChannelPacer(post_interval)
        self.calls = 0
        # What Slack said of people and channels, remembered a while (bridge.lookups): found answers for an hour,
        # "nobody" for a minute, bounded in size.
        self._names: Lookups[str, str] = Lookups(found_seconds=NAME_SECONDS, missing_seconds=MISS_SECONDS, timer=timer)
        self._people: Lookups[str, str] = Lookups(found_seconds=NAME_SECONDS, missing_seconds=MISS_SECONDS, timer=timer)
        self._zones: Lookups[str, str] = Lookups(
            found_seconds=ZONE_CACHE_SECONDS, missing_seconds=ZONE_CACHE_SECONDS, timer=timer
        )
        # The error of the last call Slack refused for the token's sake; cleared by the next call that works.
        self.auth_error: str | None = None

    @property
    def client(self) -> AsyncWebClient:
        return self._client

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        unfurl_links: bool = False,
    ) -> MessageTs:
        await self._pacer.wait(channel)
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": unfurl_links}
        if blocks is not None:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        data = await self._call("chat.postMessage", self._client.chat_postMessage, **kwargs)
        return MessageTs(str(data["ts"]))

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            kwargs["blocks"] = blocks
        await self._call("chat.update", self._client.chat_update, **kwargs)

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if blocks is not None:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        await self._call("chat.postEphemeral", self._client.chat_postEphemeral, **kwargs)

    async def delete_message(self, channel: str, ts: str) -> None:
        await self._call("chat.delete", self._client.chat_delete, channel=channel, ts=ts)

    async def permalink(self, channel: str, ts: str) -> str:
        data = await self._call("chat.getPermalink", self._client.chat_getPermalink, channel=channel, message_ts=ts)
        return str(data["permalink"])

    async def is_private(self, channel: str) -> bool:
        """Whether a channel is private (its work is suggested in that channel only)."""
        data = await self._call("conversations.info", self._client.conversations_info, channel=channel)
        return bool((data.get("channel") or {}).get("is_private"))

    async def user_email(self, user_id: str) -> str | None:
        data = await self._call("users.info", self._client.users_info, user=user_id)
        user = data.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return str(email) if email else None

    async def user_name(self, user_id: str) -> str:
        """A person's display name for attributions, remembered a while: names change rarely, replies come in bursts."""

        async def read() -> str:
            data = await self._call("users.info", self._client.users_info, user=user_id)
            user = data.get("user") or {}
            profile = user.get("profile") or {}
            return str(profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user_id)

        return await self._names.get_or_load(f"user:{current_team()}:{user_id}", read) or user_id

    async def channel_name(self, channel: str) -> str:
        """A channel's name, for a mention Slack sent without one (`<#C…>`), remembered like people's names."""

        async def read() -> str:
            data = await self._call("conversations.info", self._client.conversations_info, channel=channel)
            return str((data.get("channel") or {}).get("name") or channel)

        return await self._names.get_or_load(f"channel:{current_team()}:{channel}", read) or channel

    async def user_timezone(self, user_id: str) -> str | None:
        """A person's timezone (users.info `tz`), remembered for ZONE_CACHE_SECONDS: people move, but seldom."""

        async def read() -> str | None:
            try:
                data = await self._call("users.info", self._client.users_info, user=user_id)
            except SlackError as exc:
                if exc.code != "user_not_found":
                    raise
                return None  # someone Slack does not know (any more): the team's timezone is used
            zone = (data.get("user") or {}).get("tz")
            return str(zone) if zone else None

        return await self._zones.get_or_load(f"{current_team()}:{user_id}", read)

    async def user_by_email(self, email: str) -> str | None:
        """The Slack user with this email (a triager named in bridge.toml); None if nobody, for a minute only: someone
        who joins Slack later is found then, without a restart."""

        async def read() -> str | None:
            try:
                data = await self._call("users.lookupByEmail", self._client.users_lookupByEmail, email=email)
            except SlackError as exc:
                if exc.code != "users_not_found":
                    raise
                return None
            return str((data.get("user") or {}).get("id") or "") or None

        # One address is a different person in each workspace.
        return await self._people.get_or_load(f"{current_team()}:{email.lower()}", read)

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One top-level message by its ts (a reacted-to message), or None when it is gone."""
        data = await self._call(
            "conversations.history",
            self._client.conversations_history,
            channel=channel,
            latest=ts,
            oldest=ts,
            inclusive=True,
            limit=1,
        )
        messages = data.get("messages") or []
        return dict(messages[0]) if messages and messages[0].get("ts") == ts else None

    async def posts_by_key(self, channel: str, thread_ts: str) -> dict[str, str]:
        data = await self._call(
            "conversations.replies",
            self._client.conversations_replies,
            channel=channel,
            ts=thread_ts,
            include_all_metadata=True,
            limit=200,
        )
        return _keyed(data.get("messages") or [])

    async def recent_posts_by_key(self, channel: str, *, oldest: float) -> dict[str, str]:
        """Outbox key → ts of the bridge's top-level posts in a channel since `oldest` (a Unix time) that carry one."""
        data = await self._call(
            "conversations.history",
            self._client.conversations_history,
            channel=channel,
            oldest=f"{oldest:.6f}",
            include_all_metadata=True,
            limit=200,
        )
        return _keyed(data.get("messages") or [])

    async def channel_members(self, channel: str) -> set[str]:
        members: set[str] = set()
        cursor = ""
        while True:
            data = await self._call(
                "conversations.members", self._client.conversations_members, channel=channel, cursor=cursor, limit=1000
            )
            members.update(str(m) for m in data.get("members") or ())
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return members

    async def unfurl(self, channel: str, ts: str, unfurls: dict[str, Any]) -> None:
        await self._call("chat.unfurl", self._client.chat_unfurl, channel=channel, ts=ts, unfurls=unfurls)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        data = await self._call("views.open", self._client.views_open, trigger_id=trigger_id, view=view)
        return str(data["view"]["id"])

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._call("views.publish", self._client.views_publish, user_id=user_id, view=view)

    async def auth_test(self) -> dict[str, Any]:
        return await self._call("auth.test", self._client.auth_test)

    async def _team_client(self, name: str) -> AsyncWebClient:
        """The client holding the token of the workspace the running work acts for."""
        if self._tokens is None:
            return self._client
        team = current_team()
        token = await self._tokens.bot_token(team) if team else None
        if token is None:
            # Never fall back to another workspace's token: that would post into the wrong workspace.
            raise SlackError(f"{name}: the app is not installed in workspace {team}", code="not_installed")
        client = self._team_clients.get(team or "")
        if client is None or client.token != token:
            base = self._client  # the same API URL, session and retries, that workspace's token
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

    async def _call(self, name: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        started = time.perf_counter()
        self.calls += 1
        outcome = "ok"
        try:
            client = await self._team_client(name)
            if client is not self._client:
                method = getattr(client, method.__name__)  # the same method on that workspace's client
            response = await method(**kwargs)
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


def _keyed(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Outbox key → ts of the messages that carry one in their metadata."""
    posts = {}
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if isinstance(payload.get("key"), str):
            posts[payload["key"]] = str(message["ts"])
    return posts


def _retry_after(headers: Any) -> float:
    """Seconds a 429 asks to wait (Slack sends whole seconds); 1 when it does not say."""
    try:
        return max(0.0, float((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or 1))
    except (TypeError, ValueError):
        return 1.0
