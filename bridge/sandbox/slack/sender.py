"""The simulated Slack platform: builds the events, commands and interactions Slack sends an app, and signs and
POSTs them to the app's Request URL exactly as Slack does (Socket Mode delivery is in socket_sender.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from typing import TYPE_CHECKING, Self
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDict

from . import payloads
from .delivery import FORM, JSON_TYPE, Delivery, SentRequest, skipped
from .models import JSON, Channel, Message
from .signing import signature, tampered
from .user import SlackUser
from .workspace import Workspace

if TYPE_CHECKING:
    from .emulator import SlackEmulator

# The bot events manifest.yml subscribes to; Slack sends nothing else.
MANIFEST_EVENTS = frozenset(
    {
        "message.channels", "message.groups", "reaction_added", "app_home_opened", "app_mention", "link_shared",
        "app_uninstalled", "tokens_revoked",
    }
)  # fmt: skip
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Slack gives an app three seconds to answer before it shows an error (or retries an event with http_timeout).
ACK_TIMEOUT = 3.0


class SlackSender:
    """What Slack sends an app for one workspace of the emulator, whatever the transport; subclasses deliver it
    (over HTTP to a Request URL, or over a Socket Mode link). Use ``async with``."""

    # The retry_reason Slack gives when the app did not answer in time on this transport.
    timeout_reason = "http_timeout"

    def __init__(
        self,
        emulator: SlackEmulator,
        *,
        team_id: str | None = None,
        events: frozenset[str] = MANIFEST_EVENTS,
        unfurl_domains: tuple[str, ...] = ("app.asana.com",),
        echo_bot_messages: bool = False,
    ) -> None:
        self.emulator = emulator
        self.workspace: Workspace = emulator.workspace(team_id)
        self.events = events
        self.unfurl_domains = unfurl_domains
        self.echo_bot_messages = echo_bot_messages
        self.sent: list[Delivery] = []
        self.started = False
        self._echoes: set[asyncio.Task[Delivery]] = set()

    async def start(self) -> None:
        self.started = True
        self.workspace.on_bot_message.append(self._echo)

    async def close(self) -> None:
        if self._echo in self.workspace.on_bot_message:
            self.workspace.on_bot_message.remove(self._echo)
        await self.drain()
        self.started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def drain(self) -> None:
        """Wait for the echoed bot-message events still in flight."""
        while self._echoes:
            await asyncio.gather(*self._echoes, return_exceptions=True)

    def user(self, ref: str) -> SlackUser:
        """A person in the workspace, by user id or name."""
        return SlackUser(self, self.workspace.user_named(ref))

    def mention(self, ref: str, *, escaped: bool = False) -> str:
        """``<@U…>`` as Slack writes mentions; ``<@U…|name>`` in slash command text when should_escape is on."""
        found = self.workspace.user_named(ref)
        return f"<@{found.id}|{found.name}>" if escaped else f"<@{found.id}>"

    def subscribed(self, event: str) -> bool:
        return event in self.events

    def message_subscription(self, channel: Channel) -> str:
        return {"channel": "message.channels", "group": "message.groups", "im": "message.im"}[channel.channel_type]

    # sending

    async def deliver(
        self, request: SentRequest, *, retry_num: int | None = None, retry_reason: str | None = None
    ) -> Delivery:
        """Send `request` to the app (as Slack's retry number `retry_num` when given) and return its answer."""
        raise NotImplementedError

    async def retry(self, previous: Delivery | SentRequest, num: int = 1, reason: str | None = None) -> Delivery:
        """Send the same payload again as Slack's retry number `num` (by default for the transport's timeout)."""
        request = previous.request if isinstance(previous, Delivery) else previous
        if request is None:
            raise ValueError("nothing was sent, so there is nothing to retry")
        return await self.deliver(request, retry_num=num, retry_reason=reason or self.timeout_reason)

    async def send_event(self, event: JSON) -> Delivery:
        ws = self.workspace
        envelope = payloads.event_callback(ws, event, event_id=ws.minter.id("Ev"), event_time=int(ws.now()))
        return await self.deliver(SentRequest("event", JSON_TYPE, json.dumps(envelope), envelope))

    async def uninstall(self) -> list[Delivery]:
        """Someone removes the app from the workspace: its tokens stop working, and Slack tells the app with
        `tokens_revoked` (the bot's and any user's) and `app_uninstalled`."""
        ws = self.workspace
        users = self.emulator.oauth.uninstall(ws)
        revoked = await self.send_event({"type": "tokens_revoked", "tokens": {"oauth": users, "bot": [ws.bot.user_id]}})
        return [revoked, await self.send_event({"type": "app_uninstalled"})]

    async def revoke_user_tokens(self, *user_ids: str) -> Delivery:
        """People revoke the app's access to their account: their xoxp- tokens stop working."""
        ws = self.workspace
        ids = [ws.user_named(ref).id for ref in user_ids]
        for user_id in ids:
            token = ws.user_tokens.pop(user_id, None)
            if token:
                self.emulator.oauth.app.revoked.add(token)
        return await self.send_event({"type": "tokens_revoked", "tokens": {"oauth": ids, "bot": []}})

    async def send_form(self, fields: dict[str, str]) -> Delivery:
        return await self.deliver(SentRequest("command", FORM, urlencode(fields), dict(fields)))

    async def send_interactive(self, payload: JSON) -> Delivery:
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        return await self.deliver(SentRequest("interactive", FORM, body, payload))

    async def message_events(self, channel: Channel, message: Message) -> Delivery:
        """Deliver what Slack sends for a new message: `message.*` and, when the bot is mentioned, `app_mention`."""
        if not self.workspace.bot_is_member(channel):
            return skipped(message.ts)
        first = skipped(message.ts)
        if self.subscribed(self.message_subscription(channel)):
            first = await self.send_event(payloads.message_event(channel, message))
        if self.subscribed("app_mention") and f"<@{self.workspace.bot.user_id}" in message.text:
            mention = await self.send_event(payloads.app_mention_event(channel, message))
            first = first if first.delivered else mention
        return dataclasses.replace(first, ts=message.ts)

    def _echo(self, channel: Channel, message: Message) -> None:
        # Slack also delivers the bot's own posts as message events (Bolt drops them); opt-in to keep tests quiet.
        if not self.echo_bot_messages or not self.started:
            return
        if self.workspace.bot_is_member(channel) and self.subscribed(self.message_subscription(channel)):
            task = asyncio.get_running_loop().create_task(self.send_event(payloads.message_event(channel, message)))
            self._echoes.add(task)
            task.add_done_callback(self._echoes.discard)


class SimulatedSlack(SlackSender):
    """Slack's side of the app's Request URL for one workspace of the emulator: signed HTTP POSTs, exactly as
    Slack sends them, over one shared aiohttp session. Use ``async with``."""

    def __init__(
        self,
        emulator: SlackEmulator,
        *,
        request_url: str,
        signing_secret: str,
        team_id: str | None = None,
        events: frozenset[str] = MANIFEST_EVENTS,
        unfurl_domains: tuple[str, ...] = ("app.asana.com",),
        ack_timeout: float = ACK_TIMEOUT,
        echo_bot_messages: bool = False,
    ) -> None:
        super().__init__(
            emulator,
            team_id=team_id,
            events=events,
            unfurl_domains=unfurl_domains,
            echo_bot_messages=echo_bot_messages,
        )
        self.request_url = request_url
        self.signing_secret = signing_secret
        self.ack_timeout = ack_timeout
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        await super().start()

    async def close(self) -> None:
        await super().close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(
        self,
        request: SentRequest,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        age: float = 0.0,
        tamper: bool = False,
    ) -> Delivery:
        """POST `request` signed with the current time minus `age` seconds (a forged signature if `tamper`)."""
        if self._session is None:
            raise RuntimeError("SimulatedSlack is not started; use `async with`")
        timestamp = str(int(time.time() - age))
        sig = signature(self.signing_secret, timestamp, request.body)
        headers = {
            "Content-Type": request.content_type,
            "User-Agent": USER_AGENT,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": tampered(sig) if tamper else sig,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self._session.post(
                self.request_url,
                data=request.body.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.ack_timeout),
            ) as response:
                body = await response.text()
                headers_in = CIMultiDict(response.headers)  # header names stay case-insensitive
                delivery = Delivery(response.status, headers_in, body, request, loop.time() - started)
        except TimeoutError:
            delivery = Delivery(0, {}, "", request, loop.time() - started, timed_out=True)
        self.sent.append(delivery)
        return delivery

    async def url_verification(self, challenge: str | None = None) -> Delivery:
        payload = payloads.url_verification(self.workspace, challenge or uuid.uuid4().hex)
        return await self.deliver(SentRequest("url_verification", JSON_TYPE, json.dumps(payload), payload))
