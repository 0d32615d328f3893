"""The Slack calls the services make, for one workspace at a time."""

from __future__ import annotations

from typing import Any, Protocol

from bridge.domain.model import (
    MessageTs,
)


class SlackTeams(Protocol):
    """Slack as the services reach it: every call names the workspace it acts for (a link's, a request's), so a
    multi-workspace install posts with that workspace's bot token and looks people up among that workspace's."""

    def for_team(self, team_id: str) -> SlackPort:
        """The calls of one workspace (a cheap view: make one per piece of work)."""
        ...


class SlackPort(Protocol):
    """The Slack calls the services make in one workspace (adapters/slack_api.py implements it)."""

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        unfurl_links: bool = False,
    ) -> MessageTs: ...

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None: ...

    async def delete_message(self, channel: str, ts: str) -> None:
        """Delete one of the bridge's own posts."""
        ...

    async def user_email(self, user_id: str) -> str | None: ...

    async def user_name(self, user_id: str) -> str: ...

    async def channel_name(self, channel: str) -> str: ...

    async def user_by_email(self, email: str) -> str | None: ...

    async def user_timezone(self, user_id: str) -> str | None:
        """Their IANA timezone from their Slack profile (cached with an expiry); None when Slack gives none."""
        ...

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None: ...

    async def permalink(self, channel: str, ts: str) -> str: ...

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str: ...

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None: ...

    async def unfurl(self, channel: str, ts: str, unfurls: dict[str, Any]) -> None: ...

    async def channel_members(self, channel: str) -> set[str]:
        """The user ids of a channel's members (conversations.members, every page)."""
        ...

    async def posts_by_key(self, channel: str, thread_ts: str) -> dict[str, str]:
        """Outbox key → ts of the bridge's posts in a thread that carry a key in their metadata (crash recovery)."""
        ...

    async def recent_posts_by_key(self, channel: str, *, oldest: float) -> dict[str, str]:
        """Outbox key → ts of the bridge's top-level posts in a channel since `oldest` (Unix time) carrying one."""
        ...
