"""The Slack Web API emulator driven by the real slack_sdk AsyncWebClient over HTTP on 127.0.0.1: state,
Slack's errors and limits, faults, response_url, and response shapes checked against real samples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bridge.sandbox.slack_emulator import SlackEmulator
from tests.fixtures_slack import ManualClock, key_diff, populate, sample, slack_client, slack_emulator

# Fixtures imported so this module runs on its own too (tests/conftest.py registers tests.fixtures_slack).
FIXTURES = (slack_client, slack_emulator)


def client_for(emu: SlackEmulator, **options: Any) -> AsyncWebClient:
    options.setdefault("token", emu.bot_token)
    return AsyncWebClient(base_url=emu.api_url, **options)


async def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    """HTTP status and body of a call that must fail."""
    with pytest.raises(SlackApiError) as failure:
        await call
    return failure.value.response.status_code, failure.value.response.data


async def error_code(call: Any) -> str:
    """The Slack error code of a call that must fail."""
    return str((await error_of(call))[1]["error"])


@pytest_asyncio.fixture
async def clocked() -> AsyncIterator[tuple[SlackEmulator, ManualClock]]:
    clock = ManualClock()
    async with SlackEmulator(clock=clock) as emu:
        yield populate(emu), clock


# auth and identity


async def test_auth_test_identifies_the_bot_like_slack(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    response = await slack_client.auth_test()

    assert key_diff(response.data, sample("web_api.auth.test.response.json")) == []
    bot = slack_emulator.team.bot
    assert (response["user_id"], response["bot_id"], response["team_id"]) == (
        bot.user_id,
        bot.bot_id,
        slack_emulator.team.team_id,
    )
    assert bot.token.startswith("xoxb-")
    assert response.headers["x-oauth-scopes"]


async def test_bad_or_missing_token_is_refused_with_http_200(slack_emulator: SlackEmulator) -> None:
    assert await error_of(client_for(slack_emulator, token="xoxb-nope").auth_test()) == (
        200,
        {"ok": False, "error": "invalid_auth"},
    )
    assert await error_of(client_for(slack_emulator, token=None).auth_test()) == (
        200,
        {"ok": False, "error": "not_authed"},
    )


async def test_unknown_method_answers_unknown_method(slack_client: AsyncWebClient) -> None:
    status, body = await error_of(slack_client.api_call("chat.teleport"))
    assert (status, body["error"]) == (200, "unknown_method")


async def test_form_and_json_bodies_and_token_placement(slack_emulator: SlackEmulator) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*form*"}}]
    url = f"{slack_emulator.api_url}chat.postMessage"
    async with aiohttp.ClientSession() as session:
        form = {"token": slack_emulator.bot_token, "channel": "#questions", "text": "f", "blocks": json.dumps(blocks)}
        async with session.post(url, data=form) as response:
            assert (await response.json())["ok"] is True
        # Slack reads no token from a JSON body: JSON calls must carry the Authorization header.
        payload = {"token": slack_emulator.bot_token, "channel": "#questions", "text": "j"}
        async with session.post(url, json=payload) as response:
            assert await response.json() == {"ok": False, "error": "not_authed"}
        headers = {"Authorization": f"Bearer {slack_emulator.bot_token}"}
        async with session.post(url, json={**payload, "blocks": blocks}, headers=headers) as response:
            assert (await response.json())["ok"] is True
    texts = [m.text for m in slack_emulator.messages("#questions")]
    assert texts == ["f", "j"]
    stored = slack_emulator.messages("#questions")[0].blocks
    assert stored is not None and stored[0]["text"]["text"] == "*form*"


# chat.postMessage and threads


async def test_post_message_stores_and_answers_like_slack(slack_emulator: SlackEmulator) -> None:
    # The published example is a legacy bot_message with a custom username, which needs chat:write.customize.
    slack_emulator.team.bot.scopes.add("chat:write.customize")
    client = client_for(slack_emulator)
    response = await client.chat_postMessage(
        channel="#questions",
        text="Here's a message for you",
        username="ecto1",
        attachments=[{"text": "This is an attachment", "fallback": "This is an attachment's fallback"}],
    )

    # Modern Slack also names the app and team on bot messages; the doc example predates that.
    assert key_diff(response.data, sample("web_api.chat.postMessage.response.ok.json")) == [
        "+message.app_id",
        "+message.team",
    ]
    [stored] = slack_emulator.messages("#questions")
    assert (stored.ts, stored.text, stored.username, stored.subtype) == (
        response["ts"],
        "Here's a message for you",
        "ecto1",
        "bot_message",
    )


async def test_message_timestamps_strictly_increase(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    ts = [(await slack_client.chat_postMessage(channel="#questions", text=str(i)))["ts"] for i in range(3)]
    assert ts == sorted(ts, key=float) and len(set(ts)) == 3
    assert all(len(t.split(".")[1]) == 6 for t in ts)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "#questions"}, "no_text"),
        ({"channel": "#questions", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C0NOPE", "text": "hi"}, "channel_not_found"),
        ({"channel": "#questions", "text": "hi", "thread_ts": "1.000001"}, "thread_not_found"),
        ({"channel": "#questions", "text": "hi", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
    ],
)
async def test_post_message_errors(slack_client: AsyncWebClient, arguments: dict[str, Any], error: str) -> None:
    assert await error_of(slack_client.api_call("chat.postMessage", json=arguments)) == (
        200,
        {"ok": False, "error": error},
    )


async def test_chat_write_public_semantics(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    ana = slack_emulator.team.user_named("ana").id
    slack_emulator.add_channel("lobby", members=[ana])
    slack_emulator.add_channel("secret", members=[ana], is_private=True)

    await slack_client.chat_postMessage(channel="#lobby", text="public, not joined: fine")
    assert await error_code(slack_client.chat_postMessage(channel="#secret", text="no")) == "not_in_channel"

    slack_emulator.team.bot.scopes.discard("chat:write.public")
    assert await error_code(slack_client.chat_postMessage(channel="#lobby", text="no")) == "not_in_channel"
    assert [m.text for m in slack_emulator.messages("#lobby")] == ["public, not joined: fine"]


async def test_thread_replies_and_metadata_round_trip(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    metadata = {"event_type": "task_posted", "event_payload": {"task_gid": "1209", "key": "capture:C1:1.2"}}
    parent = await slack_client.chat_postMessage(channel="#questions", text="Task: fix login", metadata=metadata)
    channel = parent["channel"]
    first = await slack_client.chat_postMessage(channel=channel, text="✅ completed by Ana", thread_ts=parent["ts"])
    await slack_client.chat_postMessage(channel=channel, text="💬 Bo: thanks", thread_ts=parent["ts"])

    assert (
        await error_code(slack_client.chat_postMessage(channel=channel, text="x", thread_ts=first["ts"]))
        == "invalid_thread_ts"
    )
    replies = await slack_client.conversations_replies(channel=channel, ts=parent["ts"], include_all_metadata=True)
    root, *rest = replies["messages"]
    assert root["metadata"] == metadata
    assert (root["reply_count"], root["latest_reply"]) == (2, rest[-1]["ts"])
    assert [m["text"] for m in rest] == ["✅ completed by Ana", "💬 Bo: thanks"]
    assert all(m["thread_ts"] == parent["ts"] for m in rest)

    history = await slack_client.conversations_history(channel=channel, include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [parent["ts"]]  # replies stay in the thread
    assert history["messages"][0]["metadata"] == metadata
    plain = await slack_client.conversations_history(channel=channel)
    assert "metadata" not in plain["messages"][0]
    assert [m.text for m in slack_emulator.thread(channel, parent["ts"])][1:] == [m["text"] for m in rest]


async def test_reply_broadcast_shows_in_history(slack_client: AsyncWebClient) -> None:
    parent = await slack_client.chat_postMessage(channel="#questions", text="root")
    await slack_client.chat_postMessage(channel="#questions", text="also", thread_ts=parent["ts"], reply_broadcast=True)
    history = await slack_client.conversations_history(channel=parent["channel"])
    assert [(m["text"], m.get("subtype")) for m in history["messages"]] == [
        ("also", "thread_broadcast"),
        ("root", None),
    ]


async def test_history_paginates_with_cursors(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    slack_emulator.limits.enabled = False  # five posts at once exceed the per-channel burst allowance
    for i in range(5):
        await slack_client.chat_postMessage(channel="#questions", text=f"m{i}")
    first = await slack_client.conversations_history(channel="#questions", limit=2)
    pages = [[m["text"] async for m in _texts(page)] async for page in first]
    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]


async def _texts(page: Any) -> AsyncIterator[dict[str, Any]]:
    for message in page["messages"]:
        yield message


# chat.update / delete / ephemeral / permalink / unfurl


async def test_update_edits_only_the_bots_own_messages(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(channel="#questions", text="Fix login")
    updated = await slack_client.chat_update(channel=posted["channel"], ts=posted["ts"], text="~Fix login~ ✅")

    # The doc example trims `message` to text and user; Slack returns the whole message.
    assert key_diff(updated.data, sample("web_api.chat.update.response.ok.json")) == [
        "+message.app_id",
        "+message.bot_id",
        "+message.edited",
        "+message.team",
        "+message.ts",
        "+message.type",
    ]
    [stored] = slack_emulator.messages("#questions")
    assert stored.edited is not None
    assert (stored.text, stored.edited["user"]) == ("~Fix login~ ✅", slack_emulator.team.bot.user_id)

    ana = slack_emulator.team.user_named("ana")
    theirs = slack_emulator.team.post(slack_emulator.team.channel("#questions"), user=ana, text="mine")
    _, body = await error_of(slack_client.chat_update(channel=posted["channel"], ts=theirs.ts, text="x"))
    assert body == sample("web_api.chat.update.response.error.json")
    _, body = await error_of(slack_client.chat_update(channel=posted["channel"], ts="1.000002", text="x"))
    assert body["error"] == "message_not_found"


async def test_delete_removes_a_message_and_tombstones_a_parent(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    lone = await slack_client.chat_postMessage(channel="#questions", text="oops")
    parent = await slack_client.chat_postMessage(channel="#questions", text="root")
    await slack_client.chat_postMessage(channel="#questions", text="reply", thread_ts=parent["ts"])
    await slack_client.chat_delete(channel=lone["channel"], ts=lone["ts"])
    await slack_client.chat_delete(channel=parent["channel"], ts=parent["ts"])

    [root] = slack_emulator.messages("#questions")
    assert (root.ts, root.subtype) == (parent["ts"], "tombstone")
    assert [m.text for m in slack_emulator.thread("#questions", parent["ts"])[1:]] == ["reply"]


async def test_post_ephemeral(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    ana = slack_emulator.team.user_named("ana").id
    response = await slack_client.chat_postEphemeral(channel="#questions", user=ana, text="Only you can see this")
    assert key_diff(response.data, sample("web_api.chat.postEphemeral.response.ok.json")) == []
    [seen] = slack_emulator.ephemerals("ana")
    assert (seen.text, seen.ts, seen.source) == ("Only you can see this", response["message_ts"], "chat.postEphemeral")
    assert slack_emulator.messages("#questions") == []

    outsider = slack_emulator.add_user("cy", "cy@example.com")
    _, body = await error_of(slack_client.chat_postEphemeral(channel="#questions", user=outsider, text="x"))
    assert body == sample("web_api.chat.postEphemeral.response.error.json")


async def test_get_permalink_for_messages_and_replies(slack_client: AsyncWebClient) -> None:
    parent = await slack_client.chat_postMessage(channel="#questions", text="root")
    reply = await slack_client.chat_postMessage(channel="#questions", text="r", thread_ts=parent["ts"])
    top = await slack_client.chat_getPermalink(channel=parent["channel"], message_ts=parent["ts"])
    threaded = await slack_client.chat_getPermalink(channel=parent["channel"], message_ts=reply["ts"])

    assert key_diff(top.data, sample("web_api.chat.getPermalink.response.ok.json")) == []
    assert top["permalink"].endswith(f"/archives/{parent['channel']}/p{parent['ts'].replace('.', '')}")
    assert f"?thread_ts={parent['ts']}&cid={parent['channel']}" in threaded["permalink"]
    _, body = await error_of(slack_client.chat_getPermalink(channel=parent["channel"], message_ts="1.000003"))
    assert body["error"] == "message_not_found"


async def test_unfurl_needs_the_shared_url(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    ws = slack_emulator.team
    url = "https://app.asana.com/0/1209/1210"
    shared = ws.post(ws.channel("#questions"), user=ws.user_named("ana"), text=f"see <{url}>")
    unfurl = {url: {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Fix login*"}}]}}
    await slack_client.chat_unfurl(channel=shared.channel, ts=shared.ts, unfurls=unfurl)

    [stored] = slack_emulator.unfurls()
    assert (stored.url, stored.ts) == (url, shared.ts)
    other = {"https://example.com/x": {"text": "x"}}
    _, body = await error_of(slack_client.chat_unfurl(channel=shared.channel, ts=shared.ts, unfurls=other))
    assert body["error"] == "cannot_unfurl_url"


# users, conversations, reactions


async def test_users_info_and_lookup_by_email(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    ana = slack_emulator.team.user_named("ana").id
    info = await slack_client.users_info(user=ana)
    found = await slack_client.users_lookupByEmail(email="ana@example.com")

    assert key_diff(info.data, sample("web_api.users.info.response.ok.json")) == []
    # image_original appears only for people who uploaded a picture; the lookup example has none.
    assert key_diff(found.data, sample("web_api.users.lookupByEmail.response.ok.json")) == [
        "+user.profile.image_original"
    ]
    assert info["user"]["profile"]["email"] == "ana@example.com" and found["user"]["id"] == ana
    assert (await error_of(slack_client.users_info(user="U0NOPE")))[1] == sample(
        "web_api.users.info.response.error.json"
    )
    assert (await error_of(slack_client.users_lookupByEmail(email="nobody@example.com")))[1] == sample(
        "web_api.users.lookupByEmail.response.error.json"
    )


@pytest.mark.parametrize(
    ("tz", "label", "offsets"),
    [
        ("America/Los_Angeles", ("Pacific Standard Time", "Pacific Daylight Time"), (-28800, -25200)),
        ("Asia/Tokyo", ("Japan Standard Time",), (32400,)),
        ("Europe/Berlin", ("Central European Time", "Central European Summer Time"), (3600, 7200)),
    ],
)
async def test_users_info_tells_each_persons_timezone(
    slack_emulator: SlackEmulator,
    slack_client: AsyncWebClient,
    tz: str,
    label: tuple[str, ...],
    offsets: tuple[int, ...],
) -> None:
    ana = slack_emulator.team.user_named("ana").id
    slack_emulator.set_timezone(ana, tz)
    user = (await slack_client.users_info(user=ana))["user"]
    assert user["tz"] == tz and user["tz_label"] in label and user["tz_offset"] in offsets
    assert label.index(user["tz_label"]) == offsets.index(user["tz_offset"])  # standard or summer time, both


async def test_email_needs_the_users_read_email_scope(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.team.bot.scopes.discard("users:read.email")
    info = await slack_client.users_info(user=slack_emulator.team.user_named("bo").id)
    assert "email" not in info["user"]["profile"]
    _, body = await error_of(slack_client.users_lookupByEmail(email="bo@example.com"))
    assert (body["error"], body["needed"]) == ("missing_scope", "users:read.email")


async def test_conversations_info_channel_dm_and_hidden_private(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    info = await slack_client.conversations_info(channel="#questions", include_num_members=True)
    # is_member and num_members are real fields the doc example leaves out.
    assert key_diff(info.data, sample("web_api.conversations.info.response.ok.json")) == [
        "+channel.is_member",
        "+channel.num_members",
    ]
    assert (info["channel"]["name"], info["channel"]["num_members"], info["channel"]["is_member"]) == (
        "questions",
        3,
        True,
    )

    ana = slack_emulator.team.user_named("ana").id
    opened = await slack_client.conversations_open(users=ana)
    await slack_client.chat_postMessage(channel=opened["channel"]["id"], text="Psssst!")
    # Reading a DM's info needs im:read, which the manifest does not request.
    assert await error_code(slack_client.conversations_info(channel=opened["channel"]["id"])) == "missing_scope"
    slack_emulator.team.bot.scopes.add("im:read")
    dm = await slack_client.conversations_info(channel=opened["channel"]["id"])
    # `latest` is the full message object here; the example shows a trimmed one.
    assert key_diff(dm.data, sample("web_api.conversations.info.response.ok1.json")) == [
        "+channel.latest.app_id",
        "+channel.latest.bot_id",
        "+channel.latest.team",
    ]
    assert dm["channel"]["user"] == ana

    hidden = slack_emulator.add_channel("hr", members=[ana], is_private=True)
    assert await error_code(slack_client.conversations_info(channel=hidden)) == "channel_not_found"


async def test_members_join_and_open(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    ana = slack_emulator.team.user_named("ana").id
    lobby = slack_emulator.add_channel("lobby", members=[ana])
    assert (await slack_client.conversations_members(channel=lobby))["members"] == [ana]
    assert await error_code(slack_client.conversations_history(channel=lobby)) == "not_in_channel"

    joined = await slack_client.conversations_join(channel=lobby)
    again = await slack_client.conversations_join(channel=lobby)
    assert joined["channel"]["is_member"] and again["warning"] == "already_in_channel"
    assert (await slack_client.conversations_members(channel=lobby))["members"] == [
        ana,
        slack_emulator.team.bot.user_id,
    ]

    first = await slack_client.conversations_open(users=ana)
    second = await slack_client.conversations_open(users=ana)
    assert first["channel"]["id"].startswith("D") and second["channel"]["id"] == first["channel"]["id"]
    assert second["already_open"] is True and "already_open" not in first.data


async def test_reactions_add(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    posted = await slack_client.chat_postMessage(channel="#questions", text="triage me")
    await slack_client.reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="ticket")
    assert (
        await error_code(slack_client.reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="ticket"))
        == "already_reacted"
    )
    [message] = slack_emulator.messages("#questions")
    assert message.reactions == {"ticket": [slack_emulator.team.bot.user_id]}


async def test_workspaces_are_separate(slack_emulator: SlackEmulator) -> None:
    other = slack_emulator.add_team("Other", "other")
    mine = other.add_channel("general", members=[other.bot.user_id])
    client = client_for(slack_emulator, token=other.bot.token)
    assert (await client.auth_test())["team_id"] == other.team_id
    assert (await client.conversations_info(channel=mine.id))["ok"]
    questions = slack_emulator.team.channel("#questions").id
    assert await error_code(client.conversations_info(channel=questions)) == "channel_not_found"


# views


MODAL = sample("web_api.views.open.response.ok.json")["view"]
MODAL_ARGS = {k: MODAL[k] for k in ("type", "title", "submit", "blocks", "private_metadata", "callback_id")}


async def test_views_open_needs_a_fresh_unused_trigger(clocked: tuple[SlackEmulator, ManualClock]) -> None:
    emu, clock = clocked
    client = client_for(emu)
    ana = emu.team.user_named("ana").id
    trigger = emu.team.mint_trigger(ana)
    opened = await client.views_open(trigger_id=trigger, view=MODAL_ARGS)

    # Modal objects also carry close, previous_view_id and app_installed_team_id (as in view_submission.json).
    assert key_diff(opened.data, sample("web_api.views.open.response.ok.json")) == [
        "+view.app_installed_team_id",
        "+view.close",
        "+view.previous_view_id",
    ]
    assert set(opened["view"]) == set(sample("view_submission.json")["view"])
    assert [v.id for v in emu.open_views("ana")] == [opened["view"]["id"]]

    assert await error_code(client.views_open(trigger_id=trigger, view=MODAL_ARGS)) == "exchanged_trigger_id"
    late = emu.team.mint_trigger(ana)
    clock.advance(3.01)
    assert await error_code(client.views_open(trigger_id=late, view=MODAL_ARGS)) == "expired_trigger_id"
    assert (await error_of(client.views_open(trigger_id="123.456.abc", view=MODAL_ARGS)))[1] == sample(
        "web_api.views.open.response.error.json"
    )


async def test_views_update_push_and_hash(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    ana = slack_emulator.team.user_named("ana").id
    full = {**MODAL_ARGS, "external_id": "capture-1"}
    loading = {**full, "blocks": [section("Loading…")]}
    opened = (await slack_client.views_open(trigger_id=slack_emulator.team.mint_trigger(ana), view=loading))["view"]

    updated = await slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=full)
    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    stale = slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=full)
    assert await error_code(stale) == "hash_conflict"
    by_external = await slack_client.views_update(external_id="capture-1", view=full)
    assert by_external["view"]["id"] == opened["id"]

    for _ in range(2):
        await slack_client.views_push(trigger_id=slack_emulator.team.mint_trigger(ana), view=MODAL_ARGS)
    pushed = slack_client.views_push(trigger_id=slack_emulator.team.mint_trigger(ana), view=MODAL_ARGS)
    assert await error_code(pushed) == "push_limit_reached"
    stack = slack_emulator.open_views("ana")
    assert [v.previous_view_id for v in stack] == [None, stack[0].id, stack[1].id]
    assert {v.to_json()["root_view_id"] for v in stack} == {opened["id"]}


async def test_views_publish_home(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    published = sample("web_api.views.publish.response.ok.json")["view"]
    home = {k: published[k] for k in ("type", "blocks", "private_metadata", "callback_id")}
    home["blocks"] = [{k: v for k, v in b.items() if k != "block_id"} for b in home["blocks"]]
    ana = slack_emulator.team.user_named("ana").id
    first = await slack_client.views_publish(user_id=ana, view=home)

    assert key_diff(first.data, sample("web_api.views.publish.response.ok.json")) == []
    second = await slack_client.views_publish(user_id=ana, view=home, hash=first["view"]["hash"])
    assert second["view"]["id"] == first["view"]["id"]
    stale = slack_client.views_publish(user_id=ana, view=home, hash=first["view"]["hash"])
    assert await error_code(stale) == "hash_conflict"
    published = slack_emulator.home("ana")
    assert published is not None and published.hash == second["view"]["hash"]
    assert (await error_of(slack_client.views_publish(user_id="U0NOPE", view=home)))[1] == sample(
        "web_api.views.publish.response.error.json"
    )


# Block Kit limits


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "Done", value: str = "1", action_id: str = "task_done") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "value": value, "action_id": action_id}


def select(options: int) -> dict[str, Any]:
    choices = [{"text": {"type": "plain_text", "text": f"P{i}"}, "value": f"p{i}"} for i in range(options)]
    return {"type": "static_select", "action_id": "prio", "options": choices}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


AT_LIMITS = [
    section("x" * 3000, block_id="b" * 255),
    actions(button("b" * 75, "v" * 2000, "a" * 255), select(100)),
    actions(*[button(action_id=f"a{i}") for i in range(25)]),
    *[{"type": "divider"}] * 47,
]


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        ([{"type": "divider"}] * 51, "too_many_blocks"),
        ([section("x" * 3001)], "invalid_blocks"),
        ([actions(button(text="b" * 76))], "invalid_blocks"),
        ([actions(button(value="v" * 2001))], "invalid_blocks"),
        ([actions(button(action_id="a" * 256))], "invalid_blocks"),
        ([section("x", block_id="b" * 256)], "invalid_blocks"),
        ([actions(select(101))], "invalid_blocks"),
        ([actions(*[button(action_id=f"a{i}") for i in range(26)])], "invalid_blocks"),
        ([section("x", block_id="same"), section("y", block_id="same")], "invalid_blocks"),
        ([actions({**button(), "text": {"type": "mrkdwn", "text": "*b*"}})], "invalid_blocks"),
        ([{"type": "carousel"}], "invalid_blocks"),
    ],
)
async def test_message_block_limits(slack_client: AsyncWebClient, blocks: list[dict[str, Any]], error: str) -> None:
    status, body = await error_of(slack_client.chat_postMessage(channel="#questions", text="t", blocks=blocks))
    assert (status, body["error"]) == (200, error)
    assert body["response_metadata"]["messages"][0].startswith("[ERROR]")


async def test_blocks_exactly_at_the_limits_are_accepted(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    assert len(AT_LIMITS) == 50
    await slack_client.chat_postMessage(channel="#questions", text="t", blocks=AT_LIMITS)
    [stored] = slack_emulator.messages("#questions")
    assert all(b.get("block_id") for b in stored.blocks or [])  # Slack fills in block_ids


def modal(**changes: Any) -> dict[str, Any]:
    return {**MODAL_ARGS, **changes}


@pytest.mark.parametrize(
    ("view", "error"),
    [
        (modal(blocks=[{"type": "divider"}] * 101), "too_many_blocks"),
        (modal(title={"type": "plain_text", "text": "t" * 25}), "invalid_arguments"),
        (modal(submit={"type": "plain_text", "text": "s" * 25}), "invalid_arguments"),
        (modal(close={"type": "plain_text", "text": "c" * 25}), "invalid_arguments"),
        (modal(private_metadata="m" * 3001), "invalid_arguments"),
        (modal(submit=None), "invalid_arguments"),  # input blocks need a submit button
        (modal(blocks=[section("x" * 3000)] * 100), "view_too_large"),
        (modal(blocks=[section("x" * 3001)]), "invalid_arguments"),
    ],
)
async def test_view_limits(slack_emulator: SlackEmulator, view: dict[str, Any], error: str) -> None:
    client = client_for(slack_emulator)
    trigger = slack_emulator.team.mint_trigger(slack_emulator.team.user_named("ana").id)
    assert await error_code(client.views_open(trigger_id=trigger, view=view)) == error


async def test_view_exactly_at_the_limits_is_accepted(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    view = modal(
        title={"type": "plain_text", "text": "t" * 24},
        private_metadata="m" * 3000,
        blocks=[*MODAL_ARGS["blocks"], *[{"type": "divider"}] * 99],
    )
    trigger = slack_emulator.team.mint_trigger(slack_emulator.team.user_named("ana").id)
    assert (await slack_client.views_open(trigger_id=trigger, view=view))["ok"]


# rate limits and faults


async def test_post_message_is_paced_per_channel(clocked: tuple[SlackEmulator, ManualClock]) -> None:
    emu, clock = clocked
    client = client_for(emu)  # no retry handler: see the 429 itself
    emu.add_channel("other", members=[emu.team.bot.user_id])
    burst = emu.limits.burst
    for i in range(burst):
        await client.chat_postMessage(channel="#questions", text=f"burst {i}")
    status, body = await error_of(client.chat_postMessage(channel="#questions", text="one too many"))
    assert (status, body) == (429, {"ok": False, "error": "ratelimited"})
    assert emu.calls[-1].status == 429
    await client.chat_postMessage(channel="#other", text="another channel has its own allowance")

    clock.advance(1.0)
    await client.chat_postMessage(channel="#questions", text="one per second again")
    assert len(emu.messages("#questions")) == burst + 1


async def test_tier_limits_are_optional(clocked: tuple[SlackEmulator, ManualClock]) -> None:
    emu, _ = clocked
    client = client_for(emu)
    emu.limits.tiers = True
    for _ in range(50):  # conversations.info is Tier 3: 50+ per minute
        await client.conversations_info(channel="#questions")
    with pytest.raises(SlackApiError) as failure:
        await client.conversations_info(channel="#questions")
    assert failure.value.response.status_code == 429
    assert int(failure.value.response.headers["Retry-After"]) >= 1


async def test_429_with_retry_after_is_retried_by_slack_sdk(slack_emulator: SlackEmulator) -> None:
    slack_emulator.faults.add("chat.postMessage", status=429, retry_after=1, times=1)
    client = client_for(slack_emulator, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    response = await client.chat_postMessage(channel="#questions", text="eventually")

    assert response["ok"]
    assert [c.status for c in slack_emulator.calls_to("chat.postMessage")] == [429, 200]
    assert [m.text for m in slack_emulator.messages("#questions")] == ["eventually"]


async def test_server_errors_and_injected_api_errors(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack_emulator.faults.add("chat.postMessage", status=503)
    slack_emulator.faults.add("users.info", error="fatal_error")
    assert (await error_of(slack_client.chat_postMessage(channel="#questions", text="x")))[0] == 503
    assert (await error_of(slack_client.users_info(user="U1")))[1] == {"ok": False, "error": "fatal_error"}
    assert slack_emulator.messages("#questions") == []
    await slack_client.chat_postMessage(channel="#questions", text="fault used up")


async def test_dropped_connection_before_and_after_processing(slack_emulator: SlackEmulator) -> None:
    # slack_sdk retries a dropped connection once by default: nothing was posted, so nothing is lost.
    slack_emulator.faults.add("chat.postMessage", drop=True)
    assert (await client_for(slack_emulator).chat_postMessage(channel="#questions", text="a"))["ok"]
    # Posted, then the answer was lost: the caller sees an error although Slack has the message.
    slack_emulator.faults.add("chat.postMessage", drop=True, processed=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client_for(slack_emulator, retry_handlers=[]).chat_postMessage(channel="#questions", text="b")
    assert [m.text for m in slack_emulator.messages("#questions")] == ["a", "b"]


async def test_slow_answers_and_seeded_probability(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    slack_emulator.faults.add("auth.test", delay=0.2)
    started = asyncio_time()
    await slack_client.auth_test()
    assert asyncio_time() - started >= 0.2

    def outcomes(seed: int) -> list[bool]:
        emu = SlackEmulator(seed=seed)
        emu.faults.add("auth.test", error="fatal_error", times=None, probability=0.5)
        return [emu.faults.pick("auth.test", {}) is not None for _ in range(20)]

    assert outcomes(7) == outcomes(7) and 0 < sum(outcomes(7)) < 20


def asyncio_time() -> float:
    import asyncio

    return asyncio.get_running_loop().time()


# response_url


async def test_response_url_ephemeral_in_channel_replace_delete(slack_emulator: SlackEmulator) -> None:
    ws = slack_emulator.team
    ana = ws.user_named("ana").id
    channel = ws.channel("#questions").id
    url = slack_emulator.hooks.mint(ws, channel, ana)
    assert url.startswith(slack_emulator.root_url + "/response_url/") and "/api/" not in url
    hook = AsyncWebhookClient(url)

    assert (await hook.send(text="Creating task…")).status_code == 200
    assert [e.text for e in slack_emulator.ephemerals("ana")] == ["Creating task…"]
    await hook.send(text="Replaced", replace_original=True)
    assert [(e.text, e.source) for e in slack_emulator.ephemerals("ana")] == [("Replaced", "response_url")]
    await hook.send(text="Posted for all", response_type="in_channel")
    assert [m.text for m in slack_emulator.messages("#questions")] == ["Posted for all"]
    await hook.send(text="edited", replace_original=True)
    assert [m.text for m in slack_emulator.messages("#questions")] == ["edited"]
    await hook.send(delete_original=True)
    assert slack_emulator.messages("#questions") == []
    # Five uses within thirty minutes, as Slack allows.
    assert (await hook.send(text="sixth")).status_code == 404
    assert slack_emulator.calls[-1].response == {"ok": False, "error": "used_url"}


async def test_response_url_expires_after_thirty_minutes(clocked: tuple[SlackEmulator, ManualClock]) -> None:
    emu, clock = clocked
    url = emu.hooks.mint(emu.team, emu.team.channel("#questions").id, emu.team.user_named("bo").id)
    clock.advance(30 * 60 + 1)
    response = await AsyncWebhookClient(url).send(text="late")
    assert (response.status_code, json.loads(response.body)) == (404, {"ok": False, "error": "expired_url"})
    assert emu.ephemerals("bo") == []


# recording


async def test_calls_are_recorded_and_wait_for_polls(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    await slack_client.chat_postMessage(channel="#questions", text="recorded")
    [call] = slack_emulator.calls_to("chat.postMessage")
    assert (call.params["text"], call.status, call.response["ok"], call.team_id) == (
        "recorded",
        200,
        True,
        slack_emulator.team.team_id,
    )
    assert "token" not in call.params
    found = await slack_emulator.wait_for(lambda: slack_emulator.messages("#questions"))
    assert found[0].text == "recorded"
    with pytest.raises(TimeoutError):
        await slack_emulator.wait_for(lambda: slack_emulator.ephemerals("ana"), timeout=0.05)
