"""Nag buttons and selects, on a nag or on a task in the App Home: ack at once, parse the click, let NagActions act
for the clicker in the background. A click in the Home is answered by publishing the Home again, with a note."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bridge import wording
from bridge.domain.model import ChannelId, MessageTs, SlackUserId, TaskGid, TeamId
from bridge.domain.nag_clicks import Action, Click
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, clicker_teller, home_teller
from bridge.services.nag_click import NagClick, home_claim

log = logging.getLogger(__name__)

_BUTTONS = {wording.NAG_DONE: Action.DONE, wording.NAG_SNOOZE: Action.SNOOZE, wording.NAG_PUSH: Action.PUSH}
_MORE = {wording.NAG_MORE_SNOOZE: Click(Action.SNOOZE), wording.NAG_MORE_PUSH: Click(Action.PUSH)}


async def on_nag(
    deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()  # Slack wants the answer within 3 s; Asana is called afterwards
    click = to_nag_click(body, action)
    if click is None:
        log.warning("ignoring a nag action that names no task, message or choice: %r", action.get("action_id"))
        return
    say = (
        home_teller(deps, click.team_id, click.user)  # the App Home: no channel, no message, no response_url
        if click.channel_id is None
        else clicker_teller(deps, body, click.team_id, click.channel_id, click.user, respond)
    )

    async def act() -> None:
        note = await deps.nag_actions.act(click)
        if note:
            await say(note)

    deps.background.spawn(answering(act, say), name=f"nag click {click.task_gid}")


LISTENERS = (Listener("action", re.compile(wording.NAG_ACTION_PATTERN), on_nag),)


def to_nag_click(body: dict[str, Any], action: dict[str, Any]) -> NagClick | None:
    """A block action on a nag as a command: the task from the block_id, the nag from the message it came from.
    In the App Home (container type "view") there is no message: the click is keyed by the view's hash."""
    block_id = str(action.get("block_id") or "")
    task_gid = block_id.removeprefix(wording.NAG_ACTIONS_BLOCK)
    container = body.get("container") or {}
    message = body.get("message") or {}
    view = body.get("view") or {}
    in_home = container.get("type") == "view" and view.get("type") == "home"
    ts = home_claim(str(view.get("hash") or view.get("id") or "")) if in_home else container.get("message_ts")
    ts = ts or message.get("ts")
    channel = None if in_home else container.get("channel_id") or (body.get("channel") or {}).get("id")
    user = body.get("user") or {}
    choice = _choice(str(action.get("action_id") or ""), action, str(user.get("id") or ""))
    if not block_id.startswith(wording.NAG_ACTIONS_BLOCK) or not task_gid.isdigit():
        return None
    if not ts or not (channel or in_home) or not user.get("id") or choice is None:
        return None
    return NagClick(
        team_id=TeamId((body.get("team") or {}).get("id") or user.get("team_id") or ""),
        channel_id=ChannelId(str(channel)) if channel else None,
        user=SlackUserId(str(user["id"])),
        task_gid=TaskGid(task_gid),
        message_ts=MessageTs(str(ts)),
        message_blocks=tuple(message.get("blocks") or ()),
        click=choice,
    )


def _choice(action_id: str, action: dict[str, Any], clicker: str) -> Click | None:
    if action_id in _BUTTONS:
        return Click(_BUTTONS[action_id])
    if action_id == wording.NAG_ASSIGN_ME:
        return Click(Action.REASSIGN, value=clicker) if clicker else None
    if action_id == wording.NAG_REASSIGN:
        chosen = action.get("selected_user")
        return Click(Action.REASSIGN, value=str(chosen)) if chosen else None
    option = (action.get("selected_option") or {}).get("value")
    if not option:
        return None
    if action_id == wording.NAG_PRIORITY:
        return Click(Action.PRIORITY, value=str(option))
    if action_id == wording.NAG_MORE:
        return _MORE.get(str(option))
    field_gid = action_id.removeprefix(wording.NAG_FIELD)
    if action_id.startswith(wording.NAG_FIELD) and field_gid.isdigit():
        return Click(Action.FIELD, value=str(option), field_gid=field_gid)
    return None
