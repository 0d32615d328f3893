"""The buttons of a routing ping ("Keep it", "Hand it back"): ack at once, let the router act in the background."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bridge import wording
from bridge.domain.model import ChannelId, MessageTs, SlackUserId, TaskGid, TeamId
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, clicker_teller
from bridge.services.routing_clicks import RoutingClick

log = logging.getLogger(__name__)


async def on_routing(
    deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()  # within Slack's 3 s; Asana is called afterwards
    click = to_routing_click(body, action)
    if click is None:
        log.warning("ignoring a routing action that names no task or message: %r", action.get("action_id"))
        return
    say = clicker_teller(deps, body, click.team_id, click.channel_id, click.user, respond)

    async def act() -> None:
        note = await deps.routing.click(click)
        if note:
            await say(note)

    deps.background.spawn(answering(act, say), name=f"routing click {click.task_gid}")


LISTENERS = (Listener("action", re.compile(wording.ROUTING_ACTION_PATTERN), on_routing),)


def to_routing_click(body: dict[str, Any], action: dict[str, Any]) -> RoutingClick | None:
    """A click on a routing ping: the task from the block_id, the ping from the message it came from."""
    block_id = str(action.get("block_id") or "")
    task_gid = block_id.removeprefix(wording.ROUTING_ACTIONS_BLOCK)
    container = body.get("container") or {}
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    user = body.get("user") or {}
    if not block_id.startswith(wording.ROUTING_ACTIONS_BLOCK) or not task_gid.isdigit():
        return None
    if not ts or not channel or not user.get("id"):
        return None
    return RoutingClick(
        team_id=TeamId((body.get("team") or {}).get("id") or user.get("team_id") or ""),
        channel_id=ChannelId(str(channel)),
        user=SlackUserId(str(user["id"])),
        task_gid=TaskGid(task_gid),
        message_ts=MessageTs(str(ts)),
        keep=action.get("action_id") == wording.ROUTING_KEEP,
    )
