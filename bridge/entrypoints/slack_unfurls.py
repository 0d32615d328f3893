"""Pasted Asana task links: `link_shared` previews them, and the preview's buttons act for whoever clicks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from bridge import wording
from bridge.domain.model import SlackUserId, TaskGid, TeamId
from bridge.entrypoints.slack_listener import Listener, Listeners, Say, answering, ephemeral_to

log = logging.getLogger(__name__)

Click = Callable[[TeamId, SlackUserId, TaskGid], Awaitable[str]]


async def on_link_shared(deps: Listeners, event: dict[str, Any], context: AsyncBoltContext) -> None:
    if event.get("source") == "composer":
        # A preview while typing is unfurled by unfurl_id, which the gateway does not speak; the posted message
        # arrives again as its own link_shared, and that one is unfurled.
        return
    urls = [str(link["url"]) for link in event.get("links") or () if link.get("url")]
    channel, ts = event.get("channel"), event.get("message_ts")
    if not urls or not channel or not ts:
        return
    team = TeamId(context.team_id or "")  # the workspace Slack signed the event for (none: refused if OAuth)
    deps.background.spawn(deps.unfurls.unfurl(team, str(channel), str(ts), urls), name=f"unfurl {channel}")


async def done(
    deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()
    _click(deps, body, action, respond, deps.unfurls.complete)


async def assign_me(
    deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()
    _click(deps, body, action, respond, deps.unfurls.assign_to_me)


LISTENERS = (
    Listener("event", "link_shared", on_link_shared),
    Listener("action", wording.UNFURL_DONE, done),
    Listener("action", wording.UNFURL_ASSIGN_ME, assign_me),
)


def _click(deps: Listeners, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, work: Click) -> None:
    user = SlackUserId(body["user"]["id"])
    team = TeamId((body.get("team") or {}).get("id") or body["user"].get("team_id") or "")
    value = str(action.get("value") or "")
    if not value.isdigit():
        log.warning("ignoring an unfurl button without a task gid: %r", value)
        return
    say = _teller(deps, body, team, user, respond)

    async def act() -> None:
        await say(await work(team, user, TaskGid(value)))

    deps.background.spawn(answering(act, say), name=f"unfurl click {value}")


def _teller(deps: Listeners, body: dict[str, Any], team: TeamId, user: SlackUserId, respond: AsyncRespond) -> Say:
    """Answer only the clicker: through the action's response_url, else as an ephemeral message in the channel."""
    if body.get("response_url"):

        async def say(text: str) -> None:
            # The preview belongs to the person who pasted the link: never replace it, add a private note.
            await respond(text=text, response_type="ephemeral", replace_original=False)

        return say
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return ephemeral_to(deps, team, channel, user)
