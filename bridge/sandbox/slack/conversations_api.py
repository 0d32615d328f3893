"""Read and membership methods of the emulated Web API: auth, users, conversations and reactions."""

from __future__ import annotations

import base64

from .context import Context, Handler
from .errors import ApiError
from .models import JSON, Message

MAX_PAGE = 999


def auth_test(ctx: Context) -> JSON:
    ws = ctx.ws
    body: JSON = {
        "ok": True,
        "url": ws.url,
        "team": ws.name,
        "user": ws.bot.name,
        "team_id": ws.team_id,
        "user_id": ws.bot.user_id,
        "bot_id": ws.bot.bot_id,
    }
    if ws.enterprise_id:
        body.update({"enterprise_id": ws.enterprise_id, "is_enterprise_install": False})
    return body


def users_info(ctx: Context) -> JSON:
    ctx.need()
    user = ctx.ws.user(ctx.params.get("user"))
    return {"ok": True, "user": user.to_json(with_email="users:read.email" in ctx.ws.bot.scopes)}


def users_lookup_by_email(ctx: Context) -> JSON:
    ctx.need()
    user = ctx.ws.user_by_email(ctx.params.require("email", "users_not_found"))
    return {"ok": True, "user": user.to_json(with_email=True)}


def conversations_info(ctx: Context) -> JSON:
    channel = ctx.visible_channel()
    ctx.need_for(channel, "read")
    member = ctx.ws.bot_is_member(channel)
    counted = ctx.params.flag("include_num_members")
    return {"ok": True, "channel": channel.to_json(member=member, include_num_members=counted)}


def _cursor(ts: str) -> str:
    # Slack's cursors are base64 of "next_ts:<ts digits>"; clients only pass them back.
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _page(ctx: Context, messages: list[Message], default_limit: int) -> tuple[list[Message], str]:
    limit = min(max(ctx.params.number("limit", default_limit), 1), MAX_PAGE)
    cursor = ctx.params.get("cursor")
    start = 0
    if cursor:
        try:
            ts = base64.b64decode(cursor).decode().removeprefix("next_ts:")
        except ValueError:
            raise ApiError("invalid_cursor") from None
        start = next((i for i, m in enumerate(messages) if m.ts == ts), None) or 0
        if start == 0:
            raise ApiError("invalid_cursor")
    page = messages[start : start + limit]
    rest = messages[start + limit :]
    return page, _cursor(rest[0].ts) if rest else ""


def conversations_history(ctx: Context) -> JSON:
    channel = ctx.visible_channel()
    ctx.need_for(channel, "history")
    if not ctx.ws.bot_is_member(channel):
        raise ApiError("not_in_channel")
    oldest, latest = float(ctx.params.get("oldest") or 0), float(ctx.params.get("latest") or "inf")
    inclusive = ctx.params.flag("inclusive")
    shown = [
        m
        for m in reversed(channel.messages)
        if (not m.is_reply or m.subtype == "thread_broadcast")
        and (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
    ]
    page, next_cursor = _page(ctx, shown, 100)
    metadata = ctx.params.flag("include_all_metadata")
    return {
        "ok": True,
        "messages": [channel.message_json(m, include_metadata=metadata) for m in page],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_replies(ctx: Context) -> JSON:
    channel = ctx.visible_channel()
    ctx.need_for(channel, "history")
    if not ctx.ws.bot_is_member(channel):
        raise ApiError("not_in_channel")
    parent = channel.find(ctx.params.require("ts", "thread_not_found"))
    if parent is None:
        raise ApiError("thread_not_found")
    thread = [parent] if parent.is_reply else [parent, *channel.replies(parent.ts)]
    page, next_cursor = _page(ctx, thread, 1000)
    metadata = ctx.params.flag("include_all_metadata")
    return {
        "ok": True,
        "messages": [channel.message_json(m, include_metadata=metadata) for m in page],
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_members(ctx: Context) -> JSON:
    channel = ctx.visible_channel()
    ctx.need_for(channel, "read")
    return {"ok": True, "members": list(channel.members), "response_metadata": {"next_cursor": ""}}


def conversations_join(ctx: Context) -> JSON:
    ctx.need()
    channel = ctx.visible_channel()
    if channel.is_private or channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    body: JSON = {"ok": True}
    if ctx.ws.bot_is_member(channel):
        body.update({"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}})
    else:
        channel.members.append(ctx.ws.bot.user_id)
    body["channel"] = channel.to_json(member=True)
    return body


def conversations_open(ctx: Context) -> JSON:
    ctx.need()
    users = [u for u in (ctx.params.get("users") or "").split(",") if u]
    if ctx.params.get("channel"):
        channel = ctx.visible_channel()
        existed = True
    elif len(users) == 1:
        user = ctx.ws.user(users[0])
        existed = any(c.is_im and c.im_user == user.id for c in ctx.ws.channels.values())
        channel = ctx.ws.dm(user.id)
    else:
        # Group DMs (mpim) are not emulated; a single user or an existing channel is what the bridge opens.
        raise ApiError("users_list_not_supplied" if not users else "not_supported")
    summary = channel.to_json(member=True) if ctx.params.flag("return_im") else {"id": channel.id}
    return {"ok": True, **({"no_op": True, "already_open": True} if existed else {}), "channel": summary}


def reactions_add(ctx: Context) -> JSON:
    ctx.need()
    channel = ctx.visible_channel()
    name = ctx.params.get("name")
    if not name:
        raise ApiError("no_reaction")
    if ":" in name.replace("::skin-tone-", "") or " " in name:
        raise ApiError("invalid_name")
    message = ctx.ws.message(channel, ctx.params.get("timestamp"))
    users = message.reactions.setdefault(name, [])
    if ctx.ws.bot.user_id in users:
        raise ApiError("already_reacted")
    users.append(ctx.ws.bot.user_id)
    return {"ok": True}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.members": conversations_members,
    "conversations.join": conversations_join,
    "conversations.open": conversations_open,
    "reactions.add": reactions_add,
}
