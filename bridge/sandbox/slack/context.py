"""What a Web API method handler gets: the calling workspace, the call's arguments and the scope rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError
from .hooks import Hooks
from .models import JSON, Channel
from .params import Params
from .workspace import Workspace

# What the emulated bot is granted unless a test says otherwise: the manifest's bot scopes.
BOT_SCOPES = frozenset(
    {
        "app_mentions:read", "channels:history", "channels:join", "channels:read", "chat:write",
        "chat:write.public", "commands", "groups:history", "groups:read", "im:write", "links:read", "links:write",
        "reactions:read", "reactions:write", "users:read", "users:read.email",
    }
)  # fmt: skip

# The scope each emulated method needs (docs.slack.dev method pages); conversation methods depend on the
# conversation type, see `Context.need_for`. views.*, auth.test and chat.getPermalink need none.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.unfurl": "links:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "conversations.join": "channels:join",
    "conversations.open": "im:write",
    "reactions.add": "reactions:write",
}
CONVERSATION_SCOPES = {
    "read": {"channel": "channels:read", "group": "groups:read", "im": "im:read"},
    "history": {"channel": "channels:history", "group": "groups:history", "im": "im:history"},
}


@dataclass
class Context:
    ws: Workspace
    params: Params
    hooks: Hooks
    method: str

    def need(self, scope: str | None = None) -> None:
        scope = scope or METHOD_SCOPES.get(self.method)
        if scope and scope not in self.ws.bot.scopes:
            raise ApiError("missing_scope", needed=scope, provided=",".join(sorted(self.ws.bot.scopes)))

    def need_for(self, channel: Channel, kind: str) -> None:
        self.need(CONVERSATION_SCOPES[kind][channel.channel_type])

    def visible_channel(self, key: str = "channel") -> Channel:
        """The conversation named by `key`; private ones the bot is not in do not exist for it."""
        channel = self.ws.channel(self.params.get(key))
        if (channel.is_private or channel.is_im) and not self.ws.bot_is_member(channel):
            raise ApiError("channel_not_found")
        return channel


Handler = Callable[[Context], JSON]
