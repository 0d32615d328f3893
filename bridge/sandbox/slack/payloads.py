"""The request bodies Slack sends to an app, built field for field like the real samples in
tests/data/specs/slack-payloads/ (events, slash commands, block_actions, shortcuts, view submissions)."""

from __future__ import annotations

import base64
import json
from typing import Any

from .blocks import STATE_KEYS, interactive_elements
from .models import JSON, Channel, Message, User
from .surfaces import View
from .workspace import Workspace

# initial_* key of an element for each state key, to report untouched elements as Slack does.
_INITIAL = {
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
    "value": "initial_value",
    "rich_text_value": "initial_value",
}


def team(ws: Workspace) -> JSON:
    body: JSON = {"id": ws.team_id, "domain": ws.domain}
    if ws.enterprise_id:
        body.update({"enterprise_id": ws.enterprise_id, "enterprise_name": ws.enterprise_name})
    return body


def user(u: User) -> JSON:
    return {"id": u.id, "username": u.name, "name": u.name, "team_id": u.team_id}


def event_callback(ws: Workspace, event: JSON, *, event_id: str, event_time: int) -> JSON:
    """The Events API envelope (event_callback.app_mention.with_authorizations.json)."""
    context = {"et": event["type"], "tid": ws.team_id, "aid": ws.bot.app_id, "cid": event.get("channel")}
    body: JSON = {"token": ws.verification_token, "team_id": ws.team_id}
    if ws.enterprise_id:
        body["enterprise_id"] = ws.enterprise_id
    body.update(
        {
            "api_app_id": ws.bot.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": ws.enterprise_id,
                    "team_id": ws.team_id,
                    "user_id": ws.bot.user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + base64.urlsafe_b64encode(json.dumps(context).encode()).decode().rstrip("="),
        }
    )
    return body


def message_event(channel: Channel, message: Message) -> JSON:
    """A `message` event (event_callback.message.json); replies carry thread_ts and parent_user_id."""
    return {**message.to_json(), "channel": channel.id, "event_ts": message.ts, "channel_type": channel.channel_type}


def app_mention_event(channel: Channel, message: Message) -> JSON:
    body = {k: v for k, v in message.to_json().items() if k not in {"parent_user_id"}}
    return {**body, "type": "app_mention", "channel": channel.id, "event_ts": message.ts}


def message_changed_event(channel: Channel, message: Message, previous: JSON, event_ts: str) -> JSON:
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": message.to_json(),
        "previous_message": previous,
        "channel": channel.id,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel.channel_type,
    }


def message_deleted_event(channel: Channel, previous: JSON, event_ts: str) -> JSON:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel.id,
        "hidden": True,
        "deleted_ts": previous["ts"],
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel.channel_type,
    }


def reaction_added_event(reactor: str, reaction: str, message: Message, event_ts: str) -> JSON:
    return {
        "type": "reaction_added",
        "user": reactor,
        "reaction": reaction,
        "item_user": message.user or message.bot_id,
        "item": {"type": "message", "channel": message.channel, "ts": message.ts},
        "event_ts": event_ts,
    }


def app_home_opened_event(user_id: str, channel: Channel, home: View | None, event_ts: str) -> JSON:
    body: JSON = {"type": "app_home_opened", "user": user_id, "channel": channel.id, "tab": "home"}
    if home is not None:
        body["view"] = home.to_json()
    body["event_ts"] = event_ts
    return body


def link_shared_event(channel: Channel, message: Message, urls: list[str], *, unfurl_id: str, bot_member: bool) -> JSON:
    body: JSON = {
        "type": "link_shared",
        "channel": channel.id,
        "is_bot_user_member": bot_member,
        "user": message.user,
        "message_ts": message.ts,
        "unfurl_id": unfurl_id,
        "source": "conversations_history",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": message.ts,
    }
    if message.thread_ts:
        body["thread_ts"] = message.thread_ts
    return body


def slash_command(
    ws: Workspace, u: User, channel: Channel, command: str, text: str, *, response_url: str, trigger_id: str
) -> dict[str, str]:
    """The form fields of a slash command (slash_command.decoded.json, plus api_app_id as Slack sends today)."""
    fields = {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.domain,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": u.id,
        "user_name": u.name,
        "command": command,
        "text": text,
        "api_app_id": ws.bot.app_id,
        "is_enterprise_install": "false",
    }
    if ws.enterprise_id and ws.enterprise_name:
        fields.update({"enterprise_id": ws.enterprise_id, "enterprise_name": ws.enterprise_name})
    fields.update({"response_url": response_url, "trigger_id": trigger_id})
    return fields


def message_action(
    ws: Workspace,
    u: User,
    channel: Channel,
    message: Message,
    *,
    callback_id: str,
    action_ts: str,
    trigger_id: str,
    response_url: str,
) -> JSON:
    """A message shortcut (message_action.message_shortcut.json)."""
    return {
        "type": "message_action",
        "token": ws.verification_token,
        "action_ts": action_ts,
        "team": team(ws),
        "user": {"id": u.id, "name": u.name},
        "channel": {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name},
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message.ts,
        "message": channel.message_json(message),
        "response_url": response_url,
    }


def block_actions(
    ws: Workspace,
    u: User,
    action: JSON,
    *,
    container: JSON,
    trigger_id: str,
    channel: Channel | None = None,
    message: JSON | None = None,
    view: JSON | None = None,
    state: JSON | None = None,
    response_url: str | None = None,
) -> JSON:
    """block_actions from a message (block_actions.button_on_bot_message.json), an ephemeral message
    (…button_ephemeral.json: no `message`) or a view (container type "view", the view instead of a channel)."""
    body: JSON = {
        "type": "block_actions",
        "user": user(u),
        "api_app_id": ws.bot.app_id,
        "token": ws.verification_token,
        "container": container,
        "trigger_id": trigger_id,
        "team": team(ws),
        "enterprise": {"id": ws.enterprise_id, "name": ws.enterprise_name} if ws.enterprise_id else None,
        "is_enterprise_install": False,
    }
    if view is not None:
        body["view"] = view
    if channel is not None:
        body["channel"] = {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}
    if message is not None:
        body["message"] = message
    if state is not None:
        body["state"] = state
    if response_url is not None:
        body["response_url"] = response_url
    body["actions"] = [action]
    return body


def view_submission(ws: Workspace, u: User, view: View, *, trigger_id: str) -> JSON:
    """A modal submission (view_submission.json); `view.state.values` holds what the user entered."""
    return {
        "type": "view_submission",
        "team": team(ws),
        "user": user(u),
        "api_app_id": ws.bot.app_id,
        "token": ws.verification_token,
        "trigger_id": trigger_id,
        "view": view.to_json(),
        "response_urls": [],
        "is_enterprise_install": False,
    }


def view_closed(ws: Workspace, u: User, view: View, *, is_cleared: bool) -> JSON:
    return {
        "type": "view_closed",
        "team": team(ws),
        "user": user(u),
        "api_app_id": ws.bot.app_id,
        "token": ws.verification_token,
        "view": view.to_json(),
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
    }


def url_verification(ws: Workspace, challenge: str) -> JSON:
    return {"token": ws.verification_token, "challenge": challenge, "type": "url_verification"}


def state_values(blocks: list[JSON], changes: dict[tuple[str, str], Any] | None = None) -> dict[str, dict[str, JSON]]:
    """`state.values` for the stateful elements in `blocks`: the changed ones, else their initial value or null."""
    changes = changes or {}
    values: dict[str, dict[str, JSON]] = {}
    for block in blocks:
        for element in interactive_elements(block):
            key = STATE_KEYS.get(element.get("type", ""))
            if key is None:
                continue
            where = (block["block_id"], element["action_id"])
            value = changes[where] if where in changes else element.get(_INITIAL[key])
            values.setdefault(where[0], {})[where[1]] = {"type": element["type"], key: value}
    return values
