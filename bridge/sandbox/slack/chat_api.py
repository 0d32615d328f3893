"""chat.* methods of the emulated Web API: post, update, delete, ephemeral, permalink and unfurl."""

from __future__ import annotations

import re
from typing import Any

from .blocks import MESSAGE_BLOCKS, check_blocks, fill_ids
from .context import Context, Handler
from .errors import ApiError
from .models import JSON, Channel, Unfurl

TEXT_CHARS = 40_000
ATTACHMENTS = 100
_URLS = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>")


def _content(ctx: Context, *, required: bool = True) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    """text, blocks and attachments of a message, checked as Slack checks them."""
    text = ctx.params.get("text")
    blocks = ctx.params.json_list("blocks")
    attachments = ctx.params.json_list("attachments")
    if required and not text and not blocks and not attachments:
        raise ApiError("no_text")
    if text is not None and len(text) > TEXT_CHARS:
        raise ApiError("msg_too_long")
    if blocks is not None:
        check_blocks(blocks, limit=MESSAGE_BLOCKS, pointer="/blocks", error="invalid_blocks")
    if attachments is not None and len(attachments) > ATTACHMENTS:
        raise ApiError("too_many_attachments")
    return text, blocks, attachments


def _metadata(ctx: Context) -> JSON | None:
    metadata = ctx.params.json("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        raise ApiError("invalid_metadata_format")
    if not isinstance(metadata.get("event_payload", {}), dict):
        raise ApiError("invalid_metadata_schema")
    return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}


def _postable(ctx: Context) -> Channel:
    channel = ctx.ws.channel(ctx.params.get("channel"))
    # chat:write.public lets a bot post in public channels it has not joined; never in private ones.
    public_ok = not channel.is_private and "chat:write.public" in ctx.ws.bot.scopes
    if not ctx.ws.bot_is_member(channel) and not public_ok:
        raise ApiError("not_in_channel")
    return channel


def post_message(ctx: Context) -> JSON:
    ctx.need()
    channel = _postable(ctx)
    text, blocks, attachments = _content(ctx)
    metadata = _metadata(ctx)
    # A custom username needs chat:write.customize; without it Slack ignores the argument.
    username = ctx.params.get("username") if "chat:write.customize" in ctx.ws.bot.scopes else None
    message = ctx.ws.post(
        channel,
        user=ctx.ws.user(ctx.ws.bot.user_id),
        text=text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=ctx.params.get("thread_ts"),
        metadata=metadata,
        username=username,
    )
    if message.thread_ts and ctx.params.flag("reply_broadcast"):
        message.subtype = "thread_broadcast"
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_json(include_metadata=True)}


def update(ctx: Context) -> JSON:
    ctx.need()
    channel = ctx.visible_channel()
    message = ctx.ws.message(channel, ctx.params.get("ts"))
    # A bot token edits only what this bot posted (docs.slack.dev/messaging/modifying-messages).
    if message.bot_id != ctx.ws.bot.bot_id:
        raise ApiError("cant_update_message")
    text, blocks, attachments = _content(ctx)
    if text is not None:
        message.text = text
    if blocks is not None:
        message.blocks = fill_ids(blocks, ctx.ws.minter.short_id)
    if attachments is not None:
        message.attachments = [{**a, "id": i + 1} for i, a in enumerate(attachments)]
    metadata = _metadata(ctx)
    if metadata is not None:
        message.metadata = metadata
    message.edited = {"user": ctx.ws.bot.user_id, "ts": ctx.ws.minter.ts()}
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_json(include_metadata=True),
    }


def delete(ctx: Context) -> JSON:
    ctx.need()
    channel = ctx.visible_channel()
    message = ctx.ws.message(channel, ctx.params.get("ts"))
    if message.bot_id != ctx.ws.bot.bot_id:
        raise ApiError("cant_delete_message")
    ctx.ws.delete(channel, message)
    return {"ok": True, "channel": channel.id, "ts": message.ts}


def post_ephemeral(ctx: Context) -> JSON:
    ctx.need()
    channel = _postable(ctx)
    user = ctx.ws.user(ctx.params.get("user"))
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks, _ = _content(ctx)
    ephemeral = ctx.ws.post_ephemeral(
        channel,
        user.id,
        text=text or "",
        blocks=blocks,
        thread_ts=ctx.params.get("thread_ts"),
        source="chat.postEphemeral",
    )
    return {"ok": True, "message_ts": ephemeral.ts}


def get_permalink(ctx: Context) -> JSON:
    channel = ctx.visible_channel()
    message = ctx.ws.message(channel, ctx.params.get("message_ts"))
    return {"ok": True, "channel": channel.id, "permalink": ctx.ws.permalink(channel, message)}


def unfurl(ctx: Context) -> JSON:
    ctx.need()
    unfurl_id = ctx.params.get("unfurl_id")
    if unfurl_id:
        if unfurl_id not in ctx.ws.link_shares:
            raise ApiError("invalid_unfurl_id")
        channel_id, ts = ctx.ws.link_shares[unfurl_id]
    else:
        channel_id, ts = ctx.params.require("channel", "missing_channel"), ctx.params.require("ts", "missing_ts")
    channel = ctx.ws.channel(channel_id)
    message = channel.find(ts)
    if message is None:
        raise ApiError("cannot_unfurl_message")
    unfurls = ctx.params.json_object("unfurls")
    if not unfurls:
        raise ApiError("missing_unfurls")
    shared = set(_URLS.findall(message.text))
    for url, body in unfurls.items():
        if url not in shared:
            raise ApiError("cannot_unfurl_url")
        if not isinstance(body, dict):
            raise ApiError("invalid_unfurls_format")
        if "blocks" in body:
            check_blocks(body["blocks"], limit=MESSAGE_BLOCKS, pointer=f"/unfurls/{url}/blocks", error="invalid_blocks")
    for url, body in unfurls.items():
        ctx.ws.unfurls.append(Unfurl(channel=channel.id, ts=message.ts, url=url, unfurl=body))
    return {"ok": True}


METHODS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "chat.unfurl": unfurl,
}
