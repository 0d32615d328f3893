"""One emulated Slack workspace: its bot, people, channels and messages, and the rules that hold between them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from .blocks import fill_ids, rich_text
from .errors import ApiError
from .ids import Minter
from .models import JSON, Bot, Channel, Ephemeral, Message, Trigger, Unfurl, User
from .surfaces import Surfaces

# Slack's modal trigger_ids are good for one views.open/push, within three seconds of the interaction.
TRIGGER_TTL = 3.0


class Workspace:
    """A team (``T0…``) with its installed bot; the Web API methods and the simulated users act on it."""

    def __init__(
        self,
        *,
        team_id: str,
        name: str,
        domain: str,
        minter: Minter,
        bot: Bot,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
    ) -> None:
        self.team_id = team_id
        self.name = name
        self.domain = domain
        self.enterprise_id = enterprise_id
        self.enterprise_name = enterprise_name
        self.minter = minter
        self.bot = bot
        self.verification_token = minter.token(24)
        self.home_tab_enabled = True
        self.installed = True  # the app is installed here (False: made for an OAuth install still to come)
        self.user_tokens: dict[str, str] = {}  # user id → xoxp- token granted through an OAuth install
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemerals: list[Ephemeral] = []
        self.unfurls: list[Unfurl] = []
        # link_shared unfurl_id → (channel, message ts), so chat.unfurl can be called with unfurl_id + source.
        self.link_shares: dict[str, tuple[str, str]] = {}
        self.triggers: dict[str, Trigger] = {}
        self.views = Surfaces(team_id=team_id, bot=bot, minter=minter)
        # Called after the bot's own chat.postMessage is stored, so a simulated Slack can echo it as an event.
        self.on_bot_message: list[Callable[[Channel, Message], None]] = []
        self.users[bot.user_id] = User(
            id=bot.user_id,
            team_id=team_id,
            name=bot.name,
            email=None,
            real_name=bot.name,
            is_bot=True,
            bot_id=bot.bot_id,
            app_id=bot.app_id,
        )

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"

    def now(self) -> float:
        return self.minter.clock()

    # people

    def add_user(self, name: str, email: str | None, *, is_bot: bool = False, real_name: str | None = None) -> User:
        user = User(
            id=self.minter.id("U"),
            team_id=self.team_id,
            name=name,
            email=email,
            real_name=real_name or name.capitalize(),
            is_bot=is_bot,
            bot_id=self.minter.id("B") if is_bot else None,
        )
        self.users[user.id] = user
        return user

    def user(self, user_id: str | None) -> User:
        if user_id is None or user_id not in self.users:
            raise ApiError("user_not_found")
        return self.users[user_id]

    def user_named(self, ref: str) -> User:
        """A user by id or by name (``ana`` or ``@ana``), for tests and the simulated user."""
        name = ref.removeprefix("@")
        found = self.users.get(ref) or next((u for u in self.users.values() if u.name == name), None)
        if found is None:
            raise KeyError(f"no user {ref!r} in {self.team_id}")
        return found

    def user_by_email(self, email: str) -> User:
        found = next((u for u in self.users.values() if u.email and u.email.lower() == email.lower()), None)
        if found is None:
            raise ApiError("users_not_found")
        return found

    # channels

    def add_channel(self, name: str, members: list[str] | None = None, *, is_private: bool = False) -> Channel:
        creator = members[0] if members else self.bot.user_id
        channel = Channel(
            id=self.minter.id("C"),  # private channels have C ids too since 2021
            team_id=self.team_id,
            name=name.removeprefix("#"),
            created=int(self.now()),
            creator=creator,
            is_private=is_private,
            members=list(dict.fromkeys(self.user_named(m).id for m in members or [])),
        )
        self.channels[channel.id] = channel
        return channel

    def channel(self, ref: str | None) -> Channel:
        """A conversation by id, by name (``#questions``) or, for a user id, that user's DM with the bot."""
        if not ref:
            raise ApiError("channel_not_found")
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self.dm(ref)
        name = ref.removeprefix("#")
        found = next((c for c in self.channels.values() if c.name == name and not c.is_im), None)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def dm(self, user_id: str) -> Channel:
        found = next((c for c in self.channels.values() if c.is_im and c.im_user == user_id), None)
        if found is None:
            found = Channel(
                id=self.minter.id("D"),
                team_id=self.team_id,
                name=user_id,
                created=int(self.now()),
                creator=self.bot.user_id,
                is_im=True,
                im_user=user_id,
                members=[user_id, self.bot.user_id],
            )
            self.channels[found.id] = found
        return found

    def bot_is_member(self, channel: Channel) -> bool:
        return self.bot.user_id in channel.members

    # messages

    def post(
        self,
        channel: Channel,
        *,
        user: User,
        text: str,
        blocks: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        thread_ts: str | None = None,
        metadata: JSON | None = None,
        username: str | None = None,
    ) -> Message:
        """Store a message by a person (typed, so with rich_text blocks) or by a bot (as sent)."""
        parent = None
        if thread_ts:
            parent = channel.find(thread_ts)
            if parent is None:
                raise ApiError("thread_not_found")
            if parent.is_reply:
                # Replies hang off the parent's ts; Slack asks for the parent, not a reply.
                raise ApiError("invalid_thread_ts")
        by_bot = user.is_bot
        if blocks is None and not by_bot and text:
            blocks = rich_text(text, self.minter.short_id())
        message = Message(
            channel=channel.id,
            ts=self.minter.ts(),
            user=None if username else user.id,
            text=text,
            team=self.team_id,
            blocks=fill_ids(blocks, self.minter.short_id) if blocks is not None else None,
            attachments=[{**a, "id": i + 1} for i, a in enumerate(attachments)] if attachments is not None else None,
            thread_ts=parent.ts if parent else None,
            parent_user_id=(parent.user or parent.bot_id) if parent else None,
            bot_id=user.bot_id if by_bot else None,
            app_id=user.app_id if by_bot else None,
            username=username,
            subtype="bot_message" if username else None,
            client_msg_id=None if by_bot else str(uuid.UUID(int=self.minter.rng.getrandbits(128), version=4)),
            metadata=metadata,
        )
        channel.messages.append(message)
        if user.id == self.bot.user_id:
            for listener in list(self.on_bot_message):
                listener(channel, message)
        return message

    def message(self, channel: Channel, ts: str | None) -> Message:
        found = channel.find(ts) if ts else None
        if found is None:
            raise ApiError("message_not_found")
        return found

    def delete(self, channel: Channel, message: Message) -> None:
        if not message.is_reply and channel.replies(message.ts):
            # A parent with replies stays behind as a tombstone so the thread still hangs together.
            message.subtype, message.text, message.blocks = "tombstone", "This message was deleted.", None
            message.user = None
            return
        channel.messages.remove(message)

    def permalink(self, channel: Channel, message: Message) -> str:
        link = f"{self.url}archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return link

    def post_ephemeral(
        self,
        channel: Channel,
        user_id: str,
        *,
        text: str,
        blocks: list[JSON] | None,
        thread_ts: str | None,
        source: str,
    ) -> Ephemeral:
        ephemeral = Ephemeral(
            channel=channel.id,
            user=user_id,
            ts=self.minter.ts(),
            text=text,
            blocks=fill_ids(blocks, self.minter.short_id) if blocks is not None else None,
            thread_ts=thread_ts,
            source=source,
        )
        self.ephemerals.append(ephemeral)
        return ephemeral

    # interactions

    def mint_trigger(self, user_id: str) -> str:
        trigger = Trigger(id=self.minter.trigger_id(), user_id=user_id, issued_at=self.now())
        self.triggers[trigger.id] = trigger
        return trigger.id

    def use_trigger(self, trigger_id: str | None) -> Trigger:
        trigger = self.triggers.get(trigger_id or "")
        if trigger is None:
            raise ApiError("invalid_arguments", messages=["invalid `trigger_id`"])
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.now() - trigger.issued_at > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger
