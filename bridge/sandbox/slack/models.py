"""What the emulated Slack keeps: bots, users, channels, messages, ephemerals, views, unfurls and recorded calls."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

JSON = dict[str, Any]


@dataclass
class Bot:
    """The app's bot user in one workspace and the token it calls the Web API with."""

    token: str
    user_id: str
    bot_id: str
    app_id: str
    name: str
    scopes: set[str]


@dataclass
class User:
    id: str
    team_id: str
    name: str
    email: str | None
    real_name: str
    is_bot: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    deleted: bool = False
    tz: str = "America/New_York"

    def to_json(self, *, with_email: bool) -> JSON:
        """The users.info object, field for field as Slack documents it."""
        image = f"https://avatars.slack-edge.example/{self.id}.png"
        profile: JSON = {
            "avatar_hash": f"g{self.id[-8:].lower()}",
            "status_text": "",
            "status_emoji": "",
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "email": self.email,
            "image_original": image,
            **{f"image_{size}": image for size in (24, 32, 48, 72, 192, 512)},
            "team": self.team_id,
        }
        # The email is only visible to tokens holding users:read.email.
        if not with_email or self.email is None:
            del profile["email"]
        if self.is_bot:
            profile.update({"bot_id": self.bot_id, "api_app_id": self.app_id, "always_active": True})
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            **_zone_now(self.tz),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "updated": 1700000000,
            "is_app_user": False,
            "has_2fa": False,
        }


@dataclass
class Message:
    channel: str
    ts: str
    user: str | None
    text: str
    team: str
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    username: str | None = None
    subtype: str | None = None
    client_msg_id: str | None = None
    metadata: JSON | None = None
    edited: JSON | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_json(self, *, include_metadata: bool = False) -> JSON:
        """The message object as conversations.history returns it (thread summary fields are added by the channel)."""
        body: JSON = {}
        if self.client_msg_id:
            body["client_msg_id"] = self.client_msg_id
        body["type"] = "message"
        if self.subtype:
            body["subtype"] = self.subtype
        body["text"] = self.text
        if self.user:
            body["user"] = self.user
        if self.username:
            body["username"] = self.username
        body["ts"] = self.ts
        if self.bot_id:
            body["bot_id"] = self.bot_id
        if self.app_id:
            body["app_id"] = self.app_id
        if self.blocks is not None:
            body["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            body["attachments"] = copy.deepcopy(self.attachments)
        body["team"] = self.team
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.parent_user_id:
            body["parent_user_id"] = self.parent_user_id
        if self.edited:
            body["edited"] = dict(self.edited)
        if self.reactions:
            body["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)} for name, users in self.reactions.items()
            ]
        if include_metadata and self.metadata is not None:
            body["metadata"] = copy.deepcopy(self.metadata)
        return body


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    members: list[str] = field(default_factory=list)
    # Every message, top-level and replies, in ts order: the one list that history, replies and threads read.
    messages: list[Message] = field(default_factory=list)

    @property
    def channel_type(self) -> str:
        return "im" if self.is_im else "group" if self.is_private else "channel"

    def find(self, ts: str) -> Message | None:
        return next((m for m in self.messages if m.ts == ts), None)

    def replies(self, ts: str) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == ts and m.ts != ts]

    def message_json(self, message: Message, *, include_metadata: bool = False) -> JSON:
        body = message.to_json(include_metadata=include_metadata)
        replies = self.replies(message.ts)
        if replies and not message.is_reply:
            users = list(dict.fromkeys(r.user or "" for r in replies))
            body.update(
                {
                    "thread_ts": message.ts,
                    "reply_count": len(replies),
                    "reply_users_count": len(users),
                    "latest_reply": replies[-1].ts,
                    "reply_users": users,
                    "is_locked": False,
                    "subscribed": False,
                }
            )
        return body

    def to_json(self, *, member: bool, include_num_members: bool = False) -> JSON:
        """The conversations.info object: a channel, or the shorter shape Slack gives direct messages."""
        if self.is_im:
            latest = self.messages[-1].to_json() if self.messages else None
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "last_read": self.messages[-1].ts if self.messages else "0000000000.000000",
                "latest": latest,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "locale": "en-US",
                "priority": 0,
            }
        body: JSON = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": False,
            "is_general": self.name == "general",
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_frozen": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": self.created * 1000,
            "parent_conversation": None,
            "creator": self.creator,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "properties": {"tabs": [{"id": "files", "label": "", "type": "files"}]},
            "previous_names": [],
        }
        if include_num_members:
            body["num_members"] = len(self.members)
        return body


@dataclass
class Ephemeral:
    """A message only one user saw; Slack keeps no copy, the emulator records it for assertions."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON] | None
    thread_ts: str | None
    source: str  # "chat.postEphemeral", "response_url" or "ack"
    deleted: bool = False


@dataclass
class Unfurl:
    channel: str
    ts: str
    url: str
    unfurl: JSON


@dataclass
class Trigger:
    id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass(frozen=True)
class Call:
    """One request the emulator answered, as the test sees it afterwards."""

    method: str
    params: JSON
    status: int
    response: JSON
    team_id: str | None


def _zone_now(name: str) -> JSON:
    """`tz_label` and `tz_offset` as Slack gives them: the zone's name and UTC offset in seconds right now."""
    now = datetime.now(ZoneInfo(name))
    offset = now.utcoffset()
    return {
        "tz_label": _LABELS.get(now.tzname() or "", now.tzname()),
        "tz_offset": int(offset.total_seconds()) if offset else 0,
    }


_LABELS = {
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "JST": "Japan Standard Time",
    "UTC": "Coordinated Universal Time",
}
