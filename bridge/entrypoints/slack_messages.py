"""Channel messages and reactions: auto-capture, thread replies as comments (with edits and deletes)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bridge.domain.model import CaptureMode, ChannelId, MessageTs, SlackUserId, TeamId
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, ephemeral_to
from bridge.services.capture_request import AlreadyCaptured, CaptureRequest
from bridge.services.capture_retries import capture_with_retries

log = logging.getLogger(__name__)

# Subtypes that are not someone writing: joins, topic changes, bot posts, … (edits/deletes are handled apart).
HUMAN_SUBTYPES = (None, "thread_broadcast", "file_share")
# Events the manifest subscribes to that no capability acts on yet; each needs a listener, or Bolt answers 404 and
# Slack retries (reference/slack.md gotcha #3).
QUIET_EVENTS = ("app_mention", "app_uninstalled", "tokens_revoked")


async def on_message(deps: Listeners, event: dict[str, Any], body: dict[str, Any]) -> None:
    team = TeamId(body.get("team_id") or event.get("team") or "")
    subtype = event.get("subtype")
    # Bolt runs listeners as untracked tasks; anything that touches the database goes to our tracked
    # background instead, so that shutdown drains it rather than cutting it off mid-query.
    if subtype == "message_changed":
        deps.background.spawn(_edited(deps, team, event), name="message_changed")
    elif subtype == "message_deleted":
        deps.background.spawn(_deleted(deps, team, event), name="message_deleted")
    elif subtype in HUMAN_SUBTYPES and event.get("user") and not event.get("bot_id"):
        deps.background.spawn(_posted(deps, team, event), name="message")


async def on_reaction(deps: Listeners, event: dict[str, Any], body: dict[str, Any]) -> None:
    deps.background.spawn(_reacted(deps, TeamId(body.get("team_id") or ""), event), name="reaction_added")


async def ignored(deps: Listeners) -> None:
    """Acknowledged (Bolt auto-acks events) and otherwise left alone for now."""


LISTENERS = (
    Listener("event", "message", on_message),
    Listener("event", "reaction_added", on_reaction),
    *(Listener("event", name, ignored) for name in QUIET_EVENTS),
)


async def _reacted(deps: Listeners, team: TeamId, event: dict[str, Any]) -> None:
    item = event.get("item") or {}
    if item.get("type") != "message":
        return
    channel = ChannelId(item["channel"])
    link = await deps.link_reads.get_link(team, channel)
    if link is None or link.capture_mode is not CaptureMode.REACTION:
        return
    if event.get("reaction") != deps.policy.for_project(link.project_gid).capture.reaction:
        return
    user = SlackUserId(event["user"])
    ts = MessageTs(item["ts"])
    await answering(lambda: _capture_reacted(deps, team, channel, user, ts), ephemeral_to(deps, team, channel, user))


async def _posted(deps: Listeners, team: TeamId, event: dict[str, Any]) -> None:
    channel = ChannelId(event["channel"])
    ts = MessageTs(event["ts"])
    user = SlackUserId(event["user"])
    thread_ts = event.get("thread_ts")
    say = ephemeral_to(deps, team, channel, user, thread_ts)
    if thread_ts and thread_ts != ts:
        text = event.get("text") or ""
        deps.background.spawn(
            answering(lambda: deps.threads.reply_posted(team, channel, MessageTs(thread_ts), ts, user, text), say),
            name=f"reply {channel}",
        )
        return
    link = await deps.link_reads.get_link(team, channel)
    if link is None or link.capture_mode is not CaptureMode.ALL:
        return
    # The channel's policy captures it, not a person: the bridge acts (askers may have no Asana seat to connect).
    request = replace(await _message_request(deps, team, channel, user, event), by_policy=True)
    deps.background.spawn(answering(lambda: _capture(deps, request, say), say), name=f"capture {channel}")


async def _capture_reacted(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, ts: MessageTs) -> None:
    message = await deps.slack.for_team(team).message(channel, ts)
    if message is None or message.get("bot_id"):
        return  # gone, or the bridge's own post: nothing to capture
    author = SlackUserId(message.get("user") or user)
    request = replace(await _message_request(deps, team, channel, author, message), actor=user)  # the reactor acts
    await _capture(deps, request, ephemeral_to(deps, team, channel, user))


async def _capture(deps: Listeners, request: CaptureRequest, say: Any) -> None:
    result = await capture_with_retries(deps.capture, request, say, delays=deps.retry_delays)
    if isinstance(result, AlreadyCaptured):
        log.info("message %s in %s was captured already", request.source_ts, request.channel_id)


async def _message_request(
    deps: Listeners, team: TeamId, channel: ChannelId, author: SlackUserId, message: dict[str, Any]
) -> CaptureRequest:
    ts = MessageTs(message["ts"])
    read = await deps.capture.reader.message(team, channel, author, message)
    return CaptureRequest(
        team_id=team,
        channel_id=channel,
        requester=author,
        title=read.title,
        notes=read.notes,
        source_ts=ts,
        source_thread_ts=MessageTs(message.get("thread_ts") or ts),
    )


async def _edited(deps: Listeners, team: TeamId, event: dict[str, Any]) -> None:
    message = event.get("message") or {}
    if not message.get("user") or message.get("bot_id") or not message.get("thread_ts"):
        return
    channel = ChannelId(event["channel"])
    ts = MessageTs(message["ts"])
    user = SlackUserId(message["user"])
    deps.background.spawn(
        answering(
            lambda: deps.threads.reply_edited(team, channel, ts, user, message.get("text") or ""),
            ephemeral_to(deps, team, channel, user),
        ),
        name=f"edit {channel}",
    )


async def _deleted(deps: Listeners, team: TeamId, event: dict[str, Any]) -> None:
    channel = ChannelId(event["channel"])
    ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
    author = (event.get("previous_message") or {}).get("user")
    if ts:
        deps.background.spawn(
            deps.threads.reply_deleted(team, channel, MessageTs(ts), SlackUserId(author) if author else None),
            name=f"delete {channel}",
        )
