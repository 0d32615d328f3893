"""A simulated person in Slack: types messages and commands, reacts, clicks, submits modals, opens the Home tab.
Every action changes the emulator's state the way Slack's client would and sends the app what Slack sends."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from . import payloads, submissions
from .blocks import interactive_elements, rich_text
from .delivery import Delivery, skipped
from .models import JSON, Channel, Ephemeral, Message, User
from .surfaces import View

if TYPE_CHECKING:
    from .sender import SlackSender

Target = Message | Ephemeral | View


class SlackUser:
    def __init__(self, slack: SlackSender, user: User) -> None:
        self.slack = slack
        self.ws = slack.workspace
        self.user = user

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    def _channel(self, ref: str) -> Channel:
        channel = self.ws.channel(ref)
        if self.id not in channel.members:
            raise ValueError(f"{self.name} is not in {ref}: a person can only type where they are a member")
        return channel

    # messages

    async def post_message(self, channel: str, text: str, thread_ts: str | None = None) -> Delivery:
        """Type a message (a reply when `thread_ts` is given); the Delivery carries the new message's `ts`."""
        found = self._channel(channel)
        message = self.ws.post(found, user=self.user, text=text, thread_ts=thread_ts)
        return await self.slack.message_events(found, message)

    async def edit_message(self, channel: str, ts: str, text: str) -> Delivery:
        found = self._channel(channel)
        message = self._own(found, ts)
        previous = message.to_json()
        message.text = text
        message.blocks = rich_text(text, self.ws.minter.short_id())
        message.edited = {"user": self.id, "ts": self.ws.minter.ts()}
        event = payloads.message_changed_event(found, message, previous, self.ws.minter.ts())
        return await self._channel_event(found, event)

    async def delete_message(self, channel: str, ts: str) -> Delivery:
        found = self._channel(channel)
        message = self._own(found, ts)
        previous = message.to_json()
        self.ws.delete(found, message)
        return await self._channel_event(found, payloads.message_deleted_event(found, previous, self.ws.minter.ts()))

    async def add_reaction(self, channel: str, ts: str, name: str) -> Delivery:
        found = self._channel(channel)
        message = self.ws.message(found, ts)
        users = message.reactions.setdefault(name, [])
        if self.id in users:
            raise ValueError(f"{self.name} already reacted with :{name}:")
        users.append(self.id)
        if not self.ws.bot_is_member(found) or not self.slack.subscribed("reaction_added"):
            return skipped()
        return await self.slack.send_event(payloads.reaction_added_event(self.id, name, message, self.ws.minter.ts()))

    async def share_link(self, channel: str, url: str, thread_ts: str | None = None) -> Delivery:
        """Post a link; the app gets `link_shared` when the domain is one of its unfurl domains."""
        found = self._channel(channel)
        message = self.ws.post(found, user=self.user, text=f"<{url}>", thread_ts=thread_ts)
        await self.slack.message_events(found, message)
        domain = url.split("/")[2] if "//" in url else ""
        if domain not in self.slack.unfurl_domains or not self.slack.subscribed("link_shared"):
            return skipped(message.ts)
        unfurl_id = f"C-{self.ws.minter.upper(10)}"
        self.ws.link_shares[unfurl_id] = (found.id, message.ts)
        event = payloads.link_shared_event(
            found, message, [url], unfurl_id=unfurl_id, bot_member=self.ws.bot_is_member(found)
        )
        delivery = await self.slack.send_event(event)
        return dataclasses.replace(delivery, ts=message.ts)

    async def open_home(self) -> Delivery:
        if not self.slack.subscribed("app_home_opened"):
            return skipped()
        event = payloads.app_home_opened_event(
            self.id, self.ws.dm(self.id), self.ws.views.homes.get(self.id), self.ws.minter.ts()
        )
        return await self.slack.send_event(event)

    # commands and shortcuts

    def slash_command_fields(self, command: str, text: str, channel: str) -> dict[str, str]:
        """The form Slack would send for `/command text`, with its own response_url and trigger_id."""
        found = self._channel(channel)
        response_url = self.slack.emulator.hooks.mint(self.ws, found.id, self.id)
        trigger_id = self.ws.mint_trigger(self.id)
        return payloads.slash_command(
            self.ws, self.user, found, command, text, response_url=response_url, trigger_id=trigger_id
        )

    async def slash_command(self, command: str, text: str, channel: str) -> Delivery:
        """Run `/command text`; Slack shows the app's immediate answer (HTTP body or ack payload) to the user."""
        fields = self.slash_command_fields(command, text, channel)
        response_url = fields["response_url"]
        delivery = await self.slack.send_form(fields)
        if delivery.status == 200 and delivery.body:
            hook = self.slack.emulator.hooks.find(response_url)
            if hook is not None:
                self.slack.emulator.hooks.apply(hook, _ack_message(delivery), source="ack")
        return delivery

    async def message_shortcut(self, callback_id: str, channel: str, message_ts: str) -> Delivery:
        found = self._channel(channel)
        message = self.ws.message(found, message_ts)
        payload = payloads.message_action(
            self.ws,
            self.user,
            found,
            message,
            callback_id=callback_id,
            action_ts=self.ws.minter.ts(),
            trigger_id=self.ws.mint_trigger(self.id),
            response_url=self.slack.emulator.hooks.mint(self.ws, found.id, self.id),
        )
        return await self.slack.send_interactive(payload)

    # Block Kit interactions

    async def click_button(
        self, target: Target, action_id: str, value: str | None = None, *, block_id: str | None = None
    ) -> Delivery:
        """Click the button with `action_id` (in the block `block_id`, where several blocks have one, as a Home
        listing tasks with the same buttons does)."""
        block, element = _element(target, action_id, {"button"}, block_id)
        action: JSON = {
            "action_id": action_id,
            "block_id": block["block_id"],
            "text": element["text"],
            "value": element.get("value") if value is None else value,
            "type": "button",
            "action_ts": self.ws.minter.ts(),
        }
        if "style" in element:
            action["style"] = element["style"]
        return await self._act(target, action, None)

    async def select_user(
        self, target: Target, action_id: str, user_id: str, *, block_id: str | None = None
    ) -> Delivery:
        block, element = _element(target, action_id, {"users_select"}, block_id)
        action: JSON = {
            "type": "users_select",
            "action_id": action_id,
            "block_id": block["block_id"],
            "selected_user": user_id,
            "action_ts": self.ws.minter.ts(),
        }
        if "initial_user" in element:
            action["initial_user"] = element["initial_user"]
        return await self._act(target, action, user_id)

    async def select_option(
        self, target: Target, action_id: str, value: str, *, block_id: str | None = None
    ) -> Delivery:
        block, element = _element(target, action_id, {"static_select"}, block_id)
        option = submissions.option(element, value)
        action: JSON = {
            "type": "static_select",
            "action_id": action_id,
            "block_id": block["block_id"],
            "selected_option": option,
            "action_ts": self.ws.minter.ts(),
        }
        for key in ("initial_option", "placeholder"):
            if key in element:
                action[key] = element[key]
        return await self._act(target, action, option)

    async def choose_overflow(
        self, target: Target, action_id: str, value: str, *, block_id: str | None = None
    ) -> Delivery:
        """Open an overflow menu (the "⋮" of a message) and pick the option with `value`."""
        block, element = _element(target, action_id, {"overflow"}, block_id)
        option = next((o for o in element.get("options") or () if o.get("value") == value), None)
        if option is None:
            raise LookupError(f"the overflow menu {action_id!r} has no option {value!r}")
        action: JSON = {
            "type": "overflow",
            "action_id": action_id,
            "block_id": block["block_id"],
            "selected_option": option,
            "action_ts": self.ws.minter.ts(),
        }
        return await self._act(target, action, option)

    async def submit_view(self, view: View | str, values: dict[str, Any] | None = None) -> Delivery:
        """Submit a modal with `values` by action_id (text, user id, option value, date…), then do what the
        app's response_action says: close (empty 200 or clear), update, push, or show errors."""
        target = view if isinstance(view, View) else self.ws.views.find(view)
        if target.closed or target.user_id != self.id:
            raise ValueError(f"view {target.id} is not open for {self.name}")
        target.state_values = submissions.submitted_state(target, values or {})
        payload = payloads.view_submission(self.ws, self.user, target, trigger_id=self.ws.mint_trigger(self.id))
        delivery = await self.slack.send_interactive(payload)
        if delivery.status == 200:
            submissions.apply_view_response(self.ws, target, delivery.body)
        return delivery

    async def close_view(self, view: View) -> Delivery:
        """Press Cancel: the view closes, and the app hears about it only if it asked (notify_on_close)."""
        self.ws.views.close(view)
        if not view.notify_on_close:
            return skipped()
        return await self.slack.send_interactive(payloads.view_closed(self.ws, self.user, view, is_cleared=False))

    async def _act(self, target: Target, action: JSON, selected: Any) -> Delivery:
        stateless = action["type"] in ("button", "overflow")  # neither keeps a value in the state
        change = {} if stateless else {(action["block_id"], action["action_id"]): selected}
        trigger_id = self.ws.mint_trigger(self.id)
        if isinstance(target, View):
            target.state_values = {**target.state_values, **payloads.state_values(target.blocks, change)}
            payload = payloads.block_actions(
                self.ws,
                self.user,
                action,
                container={"type": "view", "view_id": target.id},
                trigger_id=trigger_id,
                view=target.to_json(),
            )
            return await self.slack.send_interactive(payload)
        channel = self.ws.channel(target.channel)
        is_ephemeral = isinstance(target, Ephemeral)
        payload = payloads.block_actions(
            self.ws,
            self.user,
            action,
            container={
                "type": "message",
                "message_ts": target.ts,
                "channel_id": channel.id,
                "is_ephemeral": is_ephemeral,
            },
            trigger_id=trigger_id,
            channel=channel,
            message=None if isinstance(target, Ephemeral) else channel.message_json(target),
            state={"values": payloads.state_values(target.blocks or [], change)},
            response_url=self.slack.emulator.hooks.mint(self.ws, channel.id, self.id, original=target),
        )
        return await self.slack.send_interactive(payload)

    def _own(self, channel: Channel, ts: str) -> Message:
        message = self.ws.message(channel, ts)
        if message.user != self.id:
            raise ValueError(f"{self.name} can only change their own messages")
        return message

    async def _channel_event(self, channel: Channel, event: JSON) -> Delivery:
        if not self.ws.bot_is_member(channel) or not self.slack.subscribed(self.slack.message_subscription(channel)):
            return skipped()
        return await self.slack.send_event(event)


def _ack_message(delivery: Delivery) -> JSON:
    """A slash command's answer as a message: JSON with text/blocks/response_type, or plain text."""
    if delivery.headers.get("Content-Type", "").startswith("application/json"):
        body = json.loads(delivery.body)
        if isinstance(body, dict):
            return body
    return {"text": delivery.body}


def _element(target: Target, action_id: str, kinds: set[str], block_id: str | None = None) -> tuple[JSON, JSON]:
    """The block and element a user can see with this action_id; a test cannot click what is not there."""
    for block in target.blocks or []:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in interactive_elements(block):
            if element.get("action_id") == action_id and element.get("type") in kinds:
                return block, element
    where = f" of block {block_id!r}" if block_id is not None else ""
    raise LookupError(f"no {'/'.join(sorted(kinds))} with action_id {action_id!r}{where} in {type(target).__name__}")
