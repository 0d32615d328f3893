"""Bolt listeners: ack at once, parse, hand the work to one service in the background, answer the person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse

from bridge.adapters import blocks
from bridge.adapters.errors import AsanaRateLimited, AsanaUnavailable
from bridge.domain.commands import CommandError, parse_task_command
from bridge.domain.model import ChannelId, SlackUserId, TeamId
from bridge.entrypoints.background import Background
from bridge.ports import Clock, Store
from bridge.services.capture import Capture
from bridge.services.errors import UserError
from bridge.services.links import Links

log = logging.getLogger(__name__)

# Events the manifest subscribes to; each needs a listener, or Bolt answers 404 and Slack retries (gotcha #3).
SUBSCRIBED_EVENTS = (
    "message",
    "reaction_added",
    "app_home_opened",
    "app_mention",
    "link_shared",
    "app_uninstalled",
    "tokens_revoked",
)


def register(
    app: AsyncApp, *, links: Links, capture: Capture, store: Store, clock: Clock, background: Background
) -> None:
    """Attach every listener to the Bolt app."""

    @app.middleware
    async def drop_retries(body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        # Slack re-sends an event it thinks we missed with the same event_id: handle it once.
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not await store.remember_slack_event(event_id, clock.now()):
            log.info("dropping repeated Slack event %s", event_id)
            return BoltResponse(status=200, body="")
        return await next()

    @app.command("/asana")
    async def asana_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        words = (command.get("text") or "").split(maxsplit=1)
        verb = words[0].lower() if words else "help"
        rest = words[1] if len(words) > 1 else ""
        team, channel, user = _ids(command)
        if verb == "link":
            if not rest:
                await ack(text="Which project? `/asana link https://app.asana.com/0/<project>/list`")
                return
            await ack(text=blocks.WORKING_ON_LINK)

            async def link() -> None:
                outcome = await links.link(team, channel, user, rest)
                await respond(text=outcome.message, response_type="in_channel")

            background.spawn(_answering(link, respond), name=f"link {channel}")
        elif verb == "unlink":
            await ack()
            background.spawn(
                _answering(lambda: _say(respond, links.unlink(team, channel), in_channel=True), respond),
                name=f"unlink {channel}",
            )
        elif verb == "status":
            await ack()
            background.spawn(_answering(lambda: _say(respond, links.status(team, channel)), respond), name="status")
        elif verb == "help":
            await ack(text=blocks.HELP)
        else:
            await ack(text=blocks.UNKNOWN_SUBCOMMAND.format(word=blocks.escape(verb)))

    @app.command("/task")
    async def task_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        team, channel, user = _ids(command)
        try:
            parsed = parse_task_command(command.get("text") or "", today=capture.today(team, channel).date())
        except CommandError as exc:
            await ack(text=f"{exc}.")  # a typo is answered in the ack itself: nothing was sent to Asana
            return
        if await store.get_link(team, channel) is None:
            await ack(text=blocks.NOT_LINKED)  # one fast read, so the answer comes with the ack
            return
        await ack(text=blocks.WORKING_ON_TASK)

        async def create() -> None:
            await capture.create_from_command(team, channel, user, parsed)

        background.spawn(_answering(create, respond), name=f"task {channel}")

    for event in SUBSCRIBED_EVENTS:
        app.event(event)(_ignore)


async def _ignore() -> None:
    """Events that later capabilities act on; acknowledged (Bolt auto-acks events) and otherwise left alone."""


def _ids(command: dict[str, Any]) -> tuple[TeamId, ChannelId, SlackUserId]:
    return TeamId(command["team_id"]), ChannelId(command["channel_id"]), SlackUserId(command["user_id"])


async def _say(respond: AsyncRespond, message: Awaitable[str], *, in_channel: bool = False) -> None:
    await respond(text=await message, response_type="in_channel" if in_channel else "ephemeral")


async def _answering(work: Callable[[], Awaitable[None]], respond: AsyncRespond) -> None:
    """Run work a person asked for; whatever goes wrong is told to that person (STYLE habit 9)."""
    try:
        await work()
    except UserError as exc:
        await respond(text=str(exc), response_type="ephemeral")
    except (AsanaUnavailable, AsanaRateLimited) as exc:
        log.warning("asana unavailable for a user request: %s", exc)
        await respond(text=blocks.ASANA_BUSY.format(reason=exc), response_type="ephemeral")
    except Exception:
        log.exception("request failed")
        await respond(text=blocks.INTERNAL_ERROR, response_type="ephemeral")
