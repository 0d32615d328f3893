"""FakeSlack: records what the bridge says, and in which workspace."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.domain.model import (
    MessageTs,
)


@dataclass(frozen=True)
class Post:
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    ts: MessageTs
    metadata: dict[str, Any] | None = None
    team: str | None = None  # the workspace it was posted in (FakeSlack.for_team)


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None = None
    timezone: str | None = "America/New_York"


class FakeSlack:
    """Records what the bridge says, and in which workspace (`acted_for`: each call's method and team, from the view
    `for_team` gave; None when called on the unbound fake); knows the people and channel members it is given."""

    def __init__(self, people: Mapping[str, Person] | None = None, members: dict[str, set[str]] | None = None) -> None:
        self.people = dict(people or {})
        self.members = members or {}
        self.posts: list[Post] = []
        self.updates: list[Post] = []
        self.ephemerals: list[tuple[str, str, str]] = []  # channel, user, text
        self.deleted: list[tuple[str, str]] = []
        self.views: list[dict[str, Any]] = []
        self.unfurls: list[tuple[str, str, dict[str, Any]]] = []  # channel, message ts, previews by URL
        self.failures: list[Exception] = []  # what the next post_message calls raise, in order
        self.looked_up: list[str] = []  # the emails asked about with user_by_email, in order
        self.acted_for: list[tuple[str, str | None]] = []  # (method, team) of every call, in order
        self.team: str | None = None
        self._ts = itertools.count(1)

    def for_team(self, team_id: str) -> FakeSlack:
        """A view acting for one workspace: it shares every record with this fake (a shallow copy)."""
        view = copy.copy(self)
        view.team = team_id
        return view

    def teams(self, method: str) -> list[str | None]:
        """The workspace each call of `method` acted for, in order."""
        return [team for name, team in self.acted_for if name == method]

    def _acting(self, method: str) -> None:
        self.acted_for.append((method, self.team))

    def said(self, channel: str | None = None) -> list[str]:
        """The text of every post (in one channel), in order."""
        return [p.text for p in self.posts if channel is None or p.channel == channel]

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
        self._acting("post_message")
        if self.failures:
            raise self.failures.pop(0)
        ts = MessageTs(f"1700000000.{next(self._ts):06d}")
        self.posts.append(Post(channel, text, blocks or [], thread_ts, ts, metadata, self.team))
        return ts

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        self._acting("update_message")
        self.updates.append(Post(channel, text, blocks or [], None, MessageTs(ts), team=self.team))

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None:
        self._acting("post_ephemeral")
        self.ephemerals.append((channel, user, text))

    async def delete_message(self, channel: str, ts: str) -> None:
        self._acting("delete_message")
        self.deleted.append((channel, ts))

    async def user_email(self, user_id: str) -> str | None:
        self._acting("user_email")
        person = self.people.get(user_id)
        return person.email if person else None

    async def user_name(self, user_id: str) -> str:
        self._acting("user_name")
        person = self.people.get(user_id)
        return person.name if person else user_id

    async def channel_name(self, channel: str) -> str:
        self._acting("channel_name")
        return channel.lstrip("#")

    async def user_by_email(self, email: str) -> str | None:
        self._acting("user_by_email")
        self.looked_up.append(email)
        return next((uid for uid, p in self.people.items() if p.email == email), None)

    async def user_timezone(self, user_id: str) -> str | None:
        self._acting("user_timezone")
        person = self.people.get(user_id)
        return person.timezone if person else None

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        self._acting("message")
        post = next((p for p in self.posts if (p.channel, p.ts) == (channel, ts)), None)
        return None if post is None else {"ts": post.ts, "text": post.text, "blocks": post.blocks}

    async def permalink(self, channel: str, ts: str) -> str:
        self._acting("permalink")
        return f"https://slack.example/archives/{channel}/p{ts.replace('.', '')}"

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        self._acting("open_view")
        self.views.append(view)
        return f"V{len(self.views)}"

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._acting("publish_home")
        self.views.append(view)

    async def unfurl(self, channel: str, ts: str, unfurls: dict[str, Any]) -> None:
        self._acting("unfurl")
        self.unfurls.append((channel, ts, unfurls))

    async def channel_members(self, channel: str) -> set[str]:
        self._acting("channel_members")
        return set(self.members.get(channel, set()))

    async def posts_by_key(self, channel: str, thread_ts: str) -> dict[str, str]:
        self._acting("posts_by_key")
        return {
            str(p.metadata["event_payload"]["key"]): p.ts
            for p in self.posts
            if p.channel == channel and p.thread_ts == thread_ts and p.metadata
        }

    async def recent_posts_by_key(self, channel: str, *, oldest: float) -> dict[str, str]:
        self._acting("recent_posts_by_key")
        return {
            str(p.metadata["event_payload"]["key"]): p.ts
            for p in self.posts
            if p.channel == channel and p.thread_ts is None and p.metadata
        }
