"""The simulated Slack user against a real Bolt AsyncApp served over HTTP: every request kind is accepted and
reaches the right listener with the right fields, forged or stale signatures are refused, and each payload
has the key structure of the matching real sample in tests/data/specs/slack-payloads/."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import pytest_asyncio
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bridge.sandbox.slack_emulator import Message, SlackEmulator, View
from bridge.sandbox.slack_user import SimulatedSlack, SlackUser, signature
from tests.fixtures_slack import (
    SIGNING_SECRET,
    key_diff,
    no_slack_env,
    sample,
    serve_bolt,
    simulated_slack,
    slack_emulator,
)

# Fixtures imported so this module runs on its own too (tests/conftest.py registers tests.fixtures_slack).
FIXTURES = (no_slack_env, serve_bolt, simulated_slack, slack_emulator)

MODAL_BLOCKS = [
    {
        "type": "input",
        "block_id": "title",
        "label": {"type": "plain_text", "text": "Title"},
        "optional": False,
        "element": {"type": "plain_text_input", "action_id": "title_input"},
    },
    {
        "type": "input",
        "block_id": "assignee",
        "optional": True,
        "label": {"type": "plain_text", "text": "Assignee"},
        "element": {"type": "users_select", "action_id": "assignee_input"},
    },
    {
        "type": "input",
        "block_id": "priority",
        "optional": True,
        "label": {"type": "plain_text", "text": "Priority"},
        "element": {
            "type": "static_select",
            "action_id": "priority_input",
            "options": [
                {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
            ],
        },
    },
]


@dataclass
class Seen:
    """What the Bolt listeners received."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    shortcuts: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    retries: list[tuple[str | None, str | None]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


def build_bolt(emu: SlackEmulator, seen: Seen) -> AsyncApp:
    app = AsyncApp(client=AsyncWebClient(base_url=emu.api_url, token=emu.bot_token), signing_secret=SIGNING_SECRET)

    @app.middleware
    async def note_retries(request: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        headers = request.headers
        seen.retries.append(
            (headers.get("x-slack-retry-num", [None])[0], headers.get("x-slack-retry-reason", [None])[0])
        )
        return await next()

    @app.command("/task")
    async def task(ack: AsyncAck, command: dict[str, Any]) -> None:
        seen.commands.append(command)
        await ack(f"Creating “{command['text']}”…")

    @app.command("/asana")
    async def asana(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        seen.commands.append(command)
        if command["text"] == "status":
            await ack(text="#questions → project 1209", response_type="in_channel")
            return
        await ack()
        await respond(text="Linked to project 1209", response_type="in_channel")

    for kind in ("message", "app_mention", "reaction_added"):
        app.event(kind)(_record(seen))

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append(event)
        view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Your tasks*"}}]}
        await client.views_publish(user_id=event["user"], view=view)

    @app.event("link_shared")
    async def link(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append(event)
        card = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Fix login*"}}]}
        unfurls = {shared["url"]: card for shared in event["links"]}
        await client.chat_unfurl(unfurl_id=event["unfurl_id"], source=event["source"], unfurls=unfurls)

    @app.message_shortcut("create_task")
    async def create(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        seen.shortcuts.append(shortcut)
        await ack()
        source = {"channel": shortcut["channel"]["id"], "ts": shortcut["message_ts"]}
        await client.views_open(
            trigger_id=shortcut["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "create_task_modal",
                "title": {"type": "plain_text", "text": "Create Asana task"},
                "submit": {"type": "plain_text", "text": "Create"},
                "private_metadata": json.dumps(source),
                "blocks": MODAL_BLOCKS,
            },
        )

    @app.action("task_done")
    async def done(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        seen.actions.append(body)
        await ack()
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="✅ Done", blocks=[])

    @app.action("task_reassign")
    @app.action("task_priority")
    async def choose(ack: AsyncAck, body: dict[str, Any]) -> None:
        seen.actions.append(body)
        await ack()

    @app.action("eph_ok")
    async def ephemeral(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        seen.actions.append(body)
        await ack()
        await respond(text="Thanks, noted", replace_original=True)

    @app.view("create_task_modal")
    async def submitted(ack: AsyncAck, view: dict[str, Any]) -> None:
        seen.views.append(view)
        title = view["state"]["values"]["title"]["title_input"]["value"]
        if title == "bad":
            await ack(response_action="errors", errors={"title": "Say what needs doing"})
        else:
            await ack()

    return app


def _record(seen: Seen) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def record(event: dict[str, Any]) -> None:
        seen.events.append(event)

    return record


@dataclass
class World:
    emu: SlackEmulator
    slack: SimulatedSlack
    seen: Seen
    ana: SlackUser
    bo: SlackUser
    client: AsyncWebClient


@pytest_asyncio.fixture
async def world(
    no_slack_env: None,
    slack_emulator: SlackEmulator,
    serve_bolt: Callable[[AsyncApp], Awaitable[str]],
    simulated_slack: Callable[..., Awaitable[SimulatedSlack]],
) -> World:
    seen = Seen()
    slack = await simulated_slack(await serve_bolt(build_bolt(slack_emulator, seen)), echo_bot_messages=True)
    client = AsyncWebClient(base_url=slack_emulator.api_url, token=slack_emulator.bot_token)
    return World(slack_emulator, slack, seen, slack.user("ana"), slack.user("bo"), client)


def envelope(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "event"}


async def bot_post(world: World, **arguments: Any) -> Message:
    posted = await world.client.chat_postMessage(channel="#questions", **arguments)
    found = world.emu.team.channel("#questions").find(posted["ts"])
    assert found is not None
    return found


REMINDER = [
    {
        "type": "section",
        "block_id": "8KR",
        "text": {"type": "mrkdwn", "text": "Reminder: *Fix login* is due tomorrow"},
        "accessory": {
            "type": "button",
            "action_id": "task_done",
            "text": {"type": "plain_text", "text": "Mark done"},
            "value": "1209",
        },
    },
    {
        "type": "actions",
        "block_id": "triage:1209",
        "elements": [
            {"type": "users_select", "action_id": "task_reassign", "initial_user": "U0NOBODY"},
            {
                "type": "static_select",
                "action_id": "task_priority",
                "placeholder": {"type": "plain_text", "text": "Priority"},
                "options": [
                    {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                    {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                ],
            },
        ],
    },
]


# verification and retries


async def test_url_verification_echoes_the_challenge(world: World) -> None:
    delivery = await world.slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert (delivery.status, delivery.json()) == (
        200,
        {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
    )
    assert delivery.request is not None
    assert key_diff(delivery.request.payload, sample("url_verification.json")) == []


async def test_signatures_verify_and_forged_or_stale_ones_are_refused(world: World) -> None:
    delivery = await world.ana.post_message("#questions", "hello")
    request = delivery.request
    assert request is not None and delivery.status == 200 and world.slack.sent[-1].request is request
    # slack_sdk's own verifier computes the same signature the simulated Slack sends.
    timestamp = str(int(time.time()))
    expected = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=request.body)
    assert expected == signature(SIGNING_SECRET, timestamp, request.body)

    forged = await world.slack.deliver(request, tamper=True)
    stale = await world.slack.deliver(request, age=6 * 60)
    again = await world.slack.deliver(request)
    assert (forged.status, forged.json()) == (401, {"error": "invalid request"})
    assert (stale.status, again.status) == (401, 200)
    await world.emu.wait_for(lambda: len(world.seen.of_type("message")) == 2)
    assert len(world.seen.of_type("message")) == 2  # the original and the validly signed copy, nothing more


async def test_retry_resends_the_same_body_with_retry_headers(world: World) -> None:
    first = await world.ana.post_message("#questions", "capture me")
    retried = await world.slack.retry(first, num=1, reason="http_timeout")

    assert retried.status == 200 and retried.request == first.request
    await world.emu.wait_for(lambda: len(world.seen.of_type("message")) == 2)
    assert world.seen.retries == [(None, None), ("1", "http_timeout")]
    events = world.seen.of_type("message")
    assert events[0] == events[1]


# events


async def test_post_message_delivers_a_message_event(world: World) -> None:
    delivery = await world.ana.post_message("#questions", "How do I rotate a webhook secret?")
    [stored] = world.emu.messages("#questions")
    assert delivery.ts == stored.ts and delivery.status == 200

    [event] = await world.emu.wait_for(lambda: world.seen.of_type("message"))
    channel = world.emu.team.channel("#questions")
    assert (event["user"], event["text"], event["channel"], event["ts"], event["channel_type"]) == (
        world.ana.id,
        "How do I rotate a webhook secret?",
        channel.id,
        stored.ts,
        "channel",
    )
    assert delivery.request is not None
    payload = delivery.request.payload
    assert key_diff(payload["event"], sample("event_callback.message.json")["event"]) == []
    # The older samples show `token`; the modern envelope is the authorizations one.
    assert key_diff(envelope(payload), envelope(sample("event_callback.app_mention.with_authorizations.json"))) == [
        "+token"
    ]
    assert payload["authorizations"][0]["user_id"] == world.emu.team.bot.user_id
    assert payload["event_id"].startswith("Ev") and isinstance(payload["event_time"], int)


async def test_thread_reply_event_names_its_parent(world: World) -> None:
    parent = await world.ana.post_message("#questions", "question")
    await world.bo.post_message("#questions", "answer", thread_ts=parent.ts)
    await world.emu.wait_for(lambda: len(world.seen.of_type("message")) == 2)
    events = world.seen.of_type("message")
    assert (events[1]["thread_ts"], events[1]["parent_user_id"]) == (parent.ts, world.ana.id)


async def test_no_event_where_slack_would_send_none(world: World) -> None:
    world.emu.add_channel("elsewhere", members=["ana"])
    outside = await world.ana.post_message("#elsewhere", "bot is not here")
    in_dm = await world.ana.post_message(world.ana.id, "a DM; message.im is not subscribed")
    assert (outside.delivered, in_dm.delivered) == (False, False)
    assert outside.ts == world.emu.messages("#elsewhere")[0].ts


async def test_mentioning_the_bot_also_sends_app_mention(world: World) -> None:
    text = f"{world.slack.mention(world.emu.team.bot.user_id)} hey"
    await world.ana.post_message("#questions", text)
    [mention] = await world.emu.wait_for(lambda: world.seen.of_type("app_mention"))
    assert mention["text"] == text
    sent = [d.request.payload for d in world.slack.sent if d.request and d.request.kind == "event"]
    app_mention = next(p for p in sent if p["event"]["type"] == "app_mention")
    # The with_authorizations sample was trimmed of client_msg_id, which event_callback.app_mention.json shows.
    assert key_diff(app_mention["event"], sample("event_callback.app_mention.with_authorizations.json")["event"]) == [
        "+client_msg_id"
    ]
    assert app_mention["event"]["blocks"][0]["elements"][0]["elements"][0] == {
        "type": "user",
        "user_id": world.emu.team.bot.user_id,
    }


async def test_reaction_added(world: World) -> None:
    question = await world.bo.post_message("#questions", "capture with a ticket")
    assert question.ts is not None
    await world.ana.add_reaction("#questions", question.ts, "ticket")
    [event] = await world.emu.wait_for(lambda: world.seen.of_type("reaction_added"))
    assert (event["user"], event["reaction"], event["item_user"], event["item"]["ts"]) == (
        world.ana.id,
        "ticket",
        world.bo.id,
        question.ts,
    )
    assert world.emu.messages("#questions")[0].reactions == {"ticket": [world.ana.id]}


async def test_app_home_opened_and_published_home(world: World) -> None:
    await world.ana.open_home()
    home = await world.emu.wait_for(lambda: world.emu.home("ana"))
    assert home.blocks[0]["text"]["text"] == "*Your tasks*"
    await world.ana.open_home()
    await world.emu.wait_for(lambda: len(world.seen.of_type("app_home_opened")) == 2)
    first, second = world.seen.of_type("app_home_opened")
    assert (first["tab"], first["user"], first["channel"][0], "view" in first) == ("home", world.ana.id, "D", False)
    assert second["view"]["id"] == home.id


async def test_link_shared_and_unfurl(world: World) -> None:
    url = "https://app.asana.com/0/1209/1210"
    delivery = await world.ana.share_link("#questions", url)
    [unfurl] = await world.emu.wait_for(world.emu.unfurls)
    [event] = world.seen.of_type("link_shared")
    assert (event["links"], event["message_ts"], unfurl.url, unfurl.ts) == (
        [{"domain": "app.asana.com", "url": url}],
        delivery.ts,
        url,
        delivery.ts,
    )
    elsewhere = await world.ana.share_link("#questions", "https://example.com/x")
    assert not elsewhere.delivered


async def test_bot_posts_are_echoed_and_bolt_ignores_them(world: World) -> None:
    await world.client.chat_postMessage(channel="#questions", text="from the bot")
    await world.slack.drain()
    echo = world.slack.sent[-1]
    assert echo.request is not None
    assert echo.status == 200 and echo.request.payload["event"]["bot_id"] == world.emu.team.bot.bot_id
    assert world.seen.of_type("message") == []


# slash commands


async def test_slash_command_and_its_ack_shown_to_the_user(world: World) -> None:
    text = f"Fix login {world.slack.mention('bo', escaped=True)} due:fri p1"
    delivery = await world.ana.slash_command("/task", text, channel="#questions")

    assert delivery.status == 200
    [command] = world.seen.commands
    assert (command["command"], command["text"], command["user_id"]) == ("/task", text, world.ana.id)
    assert f"<@{world.bo.id}|bo>" in command["text"]
    [shown] = world.emu.ephemerals("ana")
    assert (shown.text, shown.source) == (f"Creating “{text}”…", "ack")

    request = delivery.request
    assert request is not None and request.content_type == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(request.body)) == request.payload
    # Enterprise fields come only from Grid workspaces; api_app_id and is_enterprise_install are sent today.
    assert key_diff(request.payload, sample("slash_command.decoded.json")) == [
        "+api_app_id",
        "-enterprise_id",
        "-enterprise_name",
        "+is_enterprise_install",
    ]
    assert request.payload["response_url"].startswith(world.emu.root_url + "/response_url/")


async def test_a_json_ack_with_in_channel_is_posted_for_everyone(world: World) -> None:
    delivery = await world.bo.slash_command("/asana", "status", channel="#questions")
    assert delivery.headers["Content-Type"].startswith("application/json")
    [posted] = world.emu.messages("#questions")
    assert (posted.text, posted.user) == ("#questions → project 1209", world.emu.team.bot.user_id)
    assert world.emu.ephemerals("bo") == []


async def test_respond_through_response_url_posts_in_channel(world: World) -> None:
    await world.ana.slash_command("/asana", "link 1209", channel="#questions")
    [posted] = await world.emu.wait_for(lambda: world.emu.messages("#questions"))
    assert (posted.text, posted.user) == ("Linked to project 1209", world.emu.team.bot.user_id)


# interactivity


async def test_message_shortcut_opens_a_modal_within_the_trigger_window(world: World) -> None:
    question = await world.ana.post_message("#questions", f"{world.slack.mention('bo')} test")
    assert question.ts is not None
    delivery = await world.bo.message_shortcut("create_task", "#questions", question.ts)

    assert delivery.status == 200
    [modal] = await world.emu.wait_for(lambda: world.emu.views)
    assert (modal.user_id, modal.callback_id) == (world.bo.id, "create_task_modal")
    assert json.loads(modal.private_metadata) == {"channel": world.emu.team.channel("#questions").id, "ts": question.ts}
    [shortcut] = world.seen.shortcuts
    assert shortcut["message"]["text"] == question_text(world)
    assert delivery.request is not None
    assert key_diff(delivery.request.payload, sample("message_action.message_shortcut.json")) == [
        "-team.enterprise_id",
        "-team.enterprise_name",
    ]


def question_text(world: World) -> str:
    return f"<@{world.bo.id}> test"


async def test_click_button_on_a_bot_message(world: World) -> None:
    # The same layout as block_actions.button_on_bot_message.json: one section with a button accessory.
    reminder = await bot_post(world, text="Reminder: Fix login is due tomorrow", blocks=REMINDER[:1])
    delivery = await world.ana.click_button(reminder, "task_done")

    assert delivery.status == 200
    [body] = world.seen.actions
    action = body["actions"][0]
    assert (action["action_id"], action["value"], body["user"]["id"]) == ("task_done", "1209", world.ana.id)
    assert (body["container"]["message_ts"], body["message"]["ts"]) == (reminder.ts, reminder.ts)
    await world.emu.wait_for(lambda: reminder.edited)
    assert (reminder.text, reminder.blocks) == ("✅ Done", [])

    # The bot-message sample was trimmed by its authors; the ephemeral sample shows these fields Slack sends.
    assert delivery.request is not None
    assert key_diff(delivery.request.payload, sample("block_actions.button_on_bot_message.json")) == [
        "+channel.name",
        "+team.domain",
        "+token",
        "+user.name",
        "+user.team_id",
        "+user.username",
    ]


async def test_select_user_and_option_report_the_choice_and_state(world: World) -> None:
    reminder = await bot_post(world, text="Triage: Fix login", blocks=REMINDER)
    await world.ana.select_user(reminder, "task_reassign", world.bo.id)
    await world.ana.select_option(reminder, "task_priority", "high")

    reassign, priority = world.seen.actions
    assert reassign["actions"][0]["selected_user"] == world.bo.id
    assert reassign["actions"][0]["initial_user"] == "U0NOBODY"
    assert reassign["state"]["values"]["triage:1209"]["task_reassign"] == {
        "type": "users_select",
        "selected_user": world.bo.id,
    }
    assert priority["actions"][0]["selected_option"] == {
        "text": {"type": "plain_text", "text": "High"},
        "value": "high",
    }
    with pytest.raises(LookupError):
        await world.ana.select_option(reminder, "task_priority", "p9")
    with pytest.raises(LookupError):
        await world.ana.click_button(reminder, "not_there")


async def test_click_button_on_an_ephemeral_message(world: World) -> None:
    button = {"type": "button", "action_id": "eph_ok", "text": {"type": "plain_text", "text": "Button", "emoji": True}}
    await world.client.chat_postEphemeral(
        channel="#questions",
        user=world.ana.id,
        text="Confirm?",
        blocks=[{"type": "actions", "block_id": "b", "elements": [{**button, "value": "click_me_123"}]}],
    )
    [ephemeral] = world.emu.ephemerals("ana")
    delivery = await world.ana.click_button(ephemeral, "eph_ok")

    [body] = world.seen.actions
    assert (body["container"]["is_ephemeral"], "message" in body) == (True, False)
    await world.emu.wait_for(lambda: world.emu.ephemerals("ana")[0].text == "Thanks, noted")
    assert delivery.request is not None
    assert key_diff(delivery.request.payload, sample("block_actions.button_ephemeral.json")) == [
        "+enterprise",
        "+is_enterprise_install",
        "+state",
        "-team.enterprise_id",
        "-team.enterprise_name",
    ]


async def open_modal(world: World) -> View:
    question = await world.ana.post_message("#questions", "Webhooks stopped arriving")
    assert question.ts is not None
    await world.ana.message_shortcut("create_task", "#questions", question.ts)
    [modal] = await world.emu.wait_for(lambda: world.emu.open_views("ana"))
    return modal


async def test_submit_view_with_values_errors_then_closes(world: World) -> None:
    modal = await open_modal(world)
    refused = await world.ana.submit_view(modal, {"title_input": "bad"})
    assert (refused.status, modal.errors, modal.closed) == (200, {"title": "Say what needs doing"}, False)

    delivery = await world.ana.submit_view(
        modal, {"title_input": "Fix webhooks", "assignee_input": world.bo.id, "priority_input": "high"}
    )
    assert delivery.status == 200 and modal.closed and world.emu.open_views("ana") == []
    submitted = world.seen.views[-1]
    values = submitted["state"]["values"]
    assert values["title"]["title_input"] == {"type": "plain_text_input", "value": "Fix webhooks"}
    assert values["assignee"]["assignee_input"]["selected_user"] == world.bo.id
    assert values["priority"]["priority_input"]["selected_option"]["value"] == "high"
    assert json.loads(submitted["private_metadata"])["channel"] == world.emu.team.channel("#questions").id

    assert delivery.request is not None
    payload = delivery.request.payload
    first_block = {**payload, "view": {**payload["view"], "blocks": payload["view"]["blocks"][:1]}}
    # Our modal's block ids differ from the sample's; view_submission.with_response_urls.json shows the last field.
    assert key_diff(first_block, sample("view_submission.json")) == [
        "+is_enterprise_install",
        "-team.enterprise_id",
        "-team.enterprise_name",
        "+view.state.values.assignee",
        "-view.state.values.hspI",
        "+view.state.values.priority",
        "+view.state.values.title",
    ]


async def test_required_inputs_must_be_filled(world: World) -> None:
    modal = await open_modal(world)
    with pytest.raises(ValueError, match="required input"):
        await world.ana.submit_view(modal, {"assignee_input": world.bo.id})
    with pytest.raises(KeyError):
        await world.ana.submit_view(modal, {"title_input": "x", "nope": "y"})
    assert world.seen.views == []
