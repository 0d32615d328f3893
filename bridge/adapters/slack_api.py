"""The Slack gateway: the calls the services make, in one workspace, with per-channel pacing.

The gateway made in wiring acts for no workspace (a single-workspace install's one token); `for_team` gives the
view of one workspace, which shares the connection (adapters/slack_calls.py), the pacing and the remembered
lookups (adapters/slack_lookups.py) with every other view."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bridge.adapters.limits import ChannelPacer, SharedChannelPacer
from bridge.adapters.slack_calls import SlackCalls
from bridge.adapters.slack_installations import WorkspaceTokens
from bridge.adapters.slack_lookups import SlackLookups
from bridge.domain.model import MessageTs
from bridge.metrics import Metrics


class SlackGateway:
    """With `tokens` (the multi-workspace install), a view's calls use the bot token of its workspace, and the
    gateway's own (no workspace) are refused; without, every call uses `client`'s one token."""

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
        self._calls = SlackCalls(client, metrics=metrics, tokens=tokens)
        self._lookups = SlackLookups(self._calls, timer=timer)
        # chat.postMessage allows about one message per second per channel; pace instead of collecting 429s.
        self._pacer = pacer or ChannelPacer(post_interval)
        self._team: str | None = None

    def for_team(self, team_id: str) -> SlackGateway:
        """This gateway acting for workspace `team_id` (a shallow copy: the connection, pacing and lookups are
        shared)."""
        view = copy.copy(self)
        view._team = team_id
        return view

    @property
    def client(self) -> AsyncWebClient:
        return self._calls.client

    @property
    def calls(self) -> int:
        """Calls made so far, by every workspace."""
        return self._calls.count

    @property
    def auth_error(self) -> str | None:
        return self._calls.auth_error

    def forget_team(self, team_id: str) -> None:
        self._calls.forget_team(team_id)

    async def _call(self, name: str, method: str, **kwargs: Any) -> dict[str, Any]:
        return await self._calls(self._team, name, method, **kwargs)

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
        data = await self._call("chat.postMessage", "chat_postMessage", **kwargs)
        return MessageTs(str(data["ts"]))

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            kwargs["blocks"] = blocks
        await self._call("chat.update", "chat_update", **kwargs)

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
        await self._call("chat.postEphemeral", "chat_postEphemeral", **kwargs)

    async def delete_message(self, channel: str, ts: str) -> None:
        await self._call("chat.delete", "chat_delete", channel=channel, ts=ts)

    async def permalink(self, channel: str, ts: str) -> str:
        data = await self._call("chat.getPermalink", "chat_getPermalink", channel=channel, message_ts=ts)
        return str(data["permalink"])

    async def is_private(self, channel: str) -> bool:
        """Whether a channel is private (its work is suggested in that channel only)."""
        data = await self._call("conversations.info", "conversations_info", channel=channel)
        return bool((data.get("channel") or {}).get("is_private"))

    async def user_email(self, user_id: str) -> str | None:
        data = await self._call("users.info", "users_info", user=user_id)
        user = data.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return str(email) if email else None

    async def user_name(self, user_id: str) -> str:
        return await self._lookups.user_name(self._team, user_id)

    async def channel_name(self, channel: str) -> str:
        return await self._lookups.channel_name(self._team, channel)

    async def user_timezone(self, user_id: str) -> str | None:
        return await self._lookups.user_timezone(self._team, user_id)

    async def user_by_email(self, email: str) -> str | None:
        return await self._lookups.user_by_email(self._team, email)

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One top-level message by its ts (a reacted-to message), or None when it is gone."""
        data = await self._call(
            "conversations.history",
            "conversations_history",
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
            "conversations_replies",
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
            "conversations_history",
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
                "conversations.members", "conversations_members", channel=channel, cursor=cursor, limit=1000
            )
            members.update(str(m) for m in data.get("members") or ())
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return members

    async def unfurl(self, channel: str, ts: str, unfurls: dict[str, Any]) -> None:
        await self._call("chat.unfurl", "chat_unfurl", channel=channel, ts=ts, unfurls=unfurls)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        data = await self._call("views.open", "views_open", trigger_id=trigger_id, view=view)
        return str(data["view"]["id"])

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._call("views.publish", "views_publish", user_id=user_id, view=view)

    async def auth_test(self) -> dict[str, Any]:
        return await self._call("auth.test", "auth_test")


def _keyed(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Outbox key → ts of the messages that carry one in their metadata."""
    posts = {}
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if isinstance(payload.get("key"), str):
            posts[payload["key"]] = str(message["ts"])
    return posts
