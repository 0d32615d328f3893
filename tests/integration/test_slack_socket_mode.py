"""The Slack emulator's Socket Mode against slack_sdk's own aiohttp SocketModeClient (and Bolt's handler on top of
it): apps.connections.open, hello, envelopes shaped like the real samples, acks, retries, ping/pong, reconnects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bridge.sandbox.slack import SlackEmulator, SocketModeSlack
from tests.fixtures_slack import key_diff, no_slack_env, sample, slack_emulator
from tests.support import eventually

# Fixtures imported so this module runs on its own too (tests/conftest.py registers tests.fixtures_slack).
FIXTURES = (no_slack_env, slack_emulator)


class App:
    """A Socket Mode app made of slack_sdk's client: it records what arrives and acks unless told to stay silent."""

    def __init__(self, emu: SlackEmulator, *, ping_interval: float) -> None:
        web_client = AsyncWebClient(base_url=emu.api_url)
        self.client = SocketModeClient(app_token=emu.app_token, web_client=web_client, ping_interval=ping_interval)
        self.messages: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        self.silent: Callable[[SocketModeRequest], bool] = lambda request: False
        self.reply: Callable[[SocketModeRequest], dict[str, Any] | None] = lambda request: None
        self.client.message_listeners.append(self._message)
        self.client.socket_mode_request_listeners.append(self._request)

    async def _message(self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None) -> None:
        self.messages.append(message)

    async def _request(self, client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        self.requests.append(request)
        if not self.silent(request):
            response = SocketModeResponse(envelope_id=request.envelope_id, payload=self.reply(request))
            await client.send_socket_mode_response(response)


@pytest_asyncio.fixture
async def connect(slack_emulator: SlackEmulator) -> AsyncIterator[Callable[..., Awaitable[App]]]:
    """Factory: a connected App (ack timeout 0.3 s, one immediate retry); every client is closed at teardown."""
    slack_emulator.socket_mode.ack_timeout = 0.3
    slack_emulator.socket_mode.retry_delays = (0.0,)
    apps: list[App] = []

    async def connected(ping_interval: float = 5.0) -> App:
        app = App(slack_emulator, ping_interval=ping_interval)
        apps.append(app)
        await app.client.connect()
        await eventually(lambda: app.messages)  # hello
        return app

    yield connected
    for app in apps:
        await app.client.close()


@pytest_asyncio.fixture
async def slack(slack_emulator: SlackEmulator) -> AsyncIterator[SocketModeSlack]:
    async with SocketModeSlack(slack_emulator) as sender:
        yield sender


def without_payload(envelope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k != "payload"}


# apps.connections.open


async def test_connections_open_takes_only_the_app_level_token(slack_emulator: SlackEmulator) -> None:
    client = AsyncWebClient(base_url=slack_emulator.api_url)
    opened = await client.apps_connections_open(app_token=slack_emulator.app_token)
    ws_root = slack_emulator.root_url.replace("http://", "ws://")
    assert opened["ok"] is True and opened["url"].startswith(f"{ws_root}/link/?ticket=")
    assert slack_emulator.app_token.startswith(f"xapp-1-{slack_emulator.app_id}-")

    async def refused(token: str) -> str:
        with pytest.raises(SlackApiError) as failure:
            await client.apps_connections_open(app_token=token)
        return str(failure.value.response["error"])

    assert await refused(slack_emulator.bot_token) == "not_allowed_token_type"
    assert await refused("xapp-1-A0-1-forged") == "invalid_auth"
    with pytest.raises(SlackApiError) as failure:
        await AsyncWebClient(base_url=slack_emulator.api_url, token=slack_emulator.app_token).auth_test()
    assert failure.value.response["error"] == "not_allowed_token_type"  # an app token is not a bot token

    # One link per URL: the ticket is spent by the first connection.
    async with aiohttp.ClientSession() as http, http.ws_connect(opened["url"]) as first:
        hello = await first.receive_json()
        assert hello["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as second:
            await http.ws_connect(opened["url"])
        assert second.value.status == 401


# the link


async def test_hello_is_the_first_message_and_shaped_like_slacks(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]]
) -> None:
    app = await connect()
    [connection] = slack_emulator.socket_mode.live
    hello = app.messages[0]
    assert key_diff(hello, sample("socket_mode.hello.json")) == []
    assert (hello["type"], hello["num_connections"], hello["connection_info"]) == (
        "hello",
        1,
        {"app_id": slack_emulator.app_id},
    )
    assert connection.sent == [hello] and await app.client.is_connected()


async def test_slash_command_envelope_and_its_ack_payload(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    app.reply = lambda request: {"text": f"Working on “{request.payload['text']}”"}
    delivery = await slack.user("ana").slash_command("/task", "Fix login", "#questions")

    assert (delivery.status, delivery.body, delivery.timed_out) == (200, "Working on “Fix login”", False)
    [request] = app.requests
    assert (request.type, request.payload["command"], request.accepts_response_payload) == (
        "slash_commands",
        "/task",
        True,
    )
    assert delivery.envelope == app.messages[-1] and delivery.ack == {
        "envelope_id": request.envelope_id,
        "payload": {"text": "Working on “Fix login”"},
    }
    # The payload is the HTTP form's fields; is_enterprise_install is sent today but not in the older sample.
    assert key_diff(delivery.envelope, sample("socket_mode.envelope.slash_commands.json")) == [
        "+payload.is_enterprise_install"
    ]
    [shown] = slack_emulator.ephemerals("ana")  # Slack shows the ack's payload to the person, as over HTTP
    assert (shown.text, shown.source) == ("Working on “Fix login”", "ack")


async def test_a_json_ack_payload_posts_in_channel(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    app.reply = lambda request: {"text": "Linked", "response_type": "in_channel"}
    delivery = await slack.user("bo").slash_command("/asana", "link 1209", "#questions")
    assert delivery.headers["Content-Type"] == "application/json"
    assert json.loads(delivery.body) == {"text": "Linked", "response_type": "in_channel"}
    [posted] = slack_emulator.messages("#questions")
    assert (posted.text, posted.user) == ("Linked", slack_emulator.team.bot.user_id)


async def test_events_and_interactions_arrive_in_envelopes_like_the_samples(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    bot = slack_emulator.team.bot.user_id
    posted = await slack.user("ana").post_message("#questions", f"<@{bot}> how do I rotate a secret?")
    assert posted.status == 200 and posted.ts
    message, mention = app.requests
    assert (message.payload["event"]["type"], mention.payload["event"]["type"]) == ("message", "app_mention")
    assert message.payload["event_id"] != mention.payload["event_id"]
    # The envelope is the sample's; inside, the modern event_callback (its `blocks` are in the retry sample).
    message_envelope, mention_envelope = (r for r in app.messages if r.get("type") == "events_api")
    assert key_diff(message_envelope, sample("socket_mode.envelope.events_api.message.retry.json")) == []
    assert key_diff(mention_envelope, sample("socket_mode.envelope.events_api.app_mention.json")) == []
    assert (message.retry_attempt, message.retry_reason, message.accepts_response_payload) == (0, "", False)

    shortcut = await slack.user("bo").message_shortcut("create_task", "#questions", posted.ts)
    assert (shortcut.status, shortcut.body) == (200, "")
    assert shortcut.envelope is not None and shortcut.envelope["payload"]["type"] == "message_action"
    # The interactive sample is a global shortcut: the envelope around it is the same.
    shortcut_sample = sample("socket_mode.envelope.interactive_shortcut.json")
    assert key_diff(without_payload(shortcut.envelope), without_payload(shortcut_sample)) == []


# acks and retries


async def test_an_unacked_event_is_retried_with_reason_timeout(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    app.silent = lambda request: request.retry_attempt == 0
    first = await slack.user("ana").post_message("#questions", "hello?")
    assert (first.status, first.timed_out) == (0, True)

    retry = await eventually(lambda: [r for r in app.requests if r.retry_attempt == 1])
    assert (retry[0].retry_reason, retry[0].payload) == ("timeout", app.requests[0].payload)
    assert retry[0].envelope_id != app.requests[0].envelope_id
    sent = slack_emulator.socket_mode.envelopes
    await eventually(lambda: sent[-1].acked)
    assert [(e.retry_attempt, e.retry_reason, e.acked) for e in sent] == [(0, "", False), (1, "timeout", True)]
    retry_sample = sample("socket_mode.envelope.events_api.message.retry.json")
    assert key_diff(without_payload(sent[-1].to_json()), without_payload(retry_sample)) == []


async def test_retries_stop_after_the_last_and_commands_are_never_retried(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    slack_emulator.socket_mode.retry_delays = (0.0, 0.0)
    app.silent = lambda request: True
    command = await slack.user("ana").slash_command("/task", "x", "#questions")
    await slack.user("ana").post_message("#questions", "anyone?")
    assert command.timed_out and slack_emulator.ephemerals("ana") == []
    sent = slack_emulator.socket_mode.envelopes
    await eventually(lambda: len(sent) == 4 and sent[-1].timed_out)
    assert [(e.type, e.retry_attempt, e.timed_out) for e in sent] == [
        ("slash_commands", None, True),
        ("events_api", 0, True),
        ("events_api", 1, True),
        ("events_api", 2, True),
    ]


async def test_a_manual_retry_carries_the_given_attempt(
    connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    first = await slack.user("ana").post_message("#questions", "again")
    again = await slack.retry(first, num=2)
    assert again.status == 200
    assert [(r.retry_attempt, r.retry_reason) for r in app.requests] == [(0, ""), (2, "timeout")]


async def test_without_an_open_link_the_envelope_times_out(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    slack_emulator.socket_mode.ack_timeout = 0.2
    slack_emulator.socket_mode.retry_delays = ()
    delivery = await slack.user("ana").slash_command("/task", "x", "#questions")
    assert delivery.timed_out and slack_emulator.socket_mode.envelopes[0].connection is None


# ping/pong and reconnects


async def test_pings_are_answered_both_ways(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]]
) -> None:
    app = await connect(ping_interval=0.1)
    [connection] = slack_emulator.socket_mode.live
    await eventually(lambda: connection.pings >= 2)  # slack_sdk's keepalive pings, each answered with its pong
    assert app.client.last_ping_pong_time is not None and not await app.client.is_ping_pong_failing()
    assert await slack_emulator.socket_mode.ping(connection)  # Slack's ping, answered by the client


async def test_disconnect_message_makes_the_client_open_a_new_link(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect()
    link = slack_emulator.socket_mode
    [old] = link.live
    await link.disconnect()
    assert old.sent[-1] == {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": old.host}}
    await eventually(lambda: len(link.connections) == 2 and old.closed_by)
    assert (old.closed_by, old.close_code) == ("app", 1000)
    assert len(slack_emulator.calls_to("apps.connections.open")) == 2  # a fresh URL for the new link
    delivery = await slack.user("ana").slash_command("/task", "after refresh", "#questions")
    assert delivery.status == 200 and link.envelopes[-1].connection == link.connections[1].id
    assert link.connections[1].sent[0]["type"] == "hello" and app.requests[-1].payload["text"] == "after refresh"


async def test_a_dropped_link_is_reopened_and_waiting_envelopes_go_out_on_it(
    slack_emulator: SlackEmulator, connect: Callable[..., Awaitable[App]], slack: SocketModeSlack
) -> None:
    app = await connect(ping_interval=0.1)
    link = slack_emulator.socket_mode
    link.ack_timeout = 3.0  # long enough to wait for the new link
    await link.drop()
    assert (link.connections[0].closed_by, link.connections[0].close_code) == ("slack", 1001)
    delivery = await slack.user("ana").slash_command("/task", "while reconnecting", "#questions")
    assert delivery.status == 200 and len(link.connections) == 2 and link.envelopes[0].connection == 2
    assert app.requests[-1].payload["text"] == "while reconnecting"


# Bolt's handler on the same link

TASK_MODAL = {
    "type": "modal",
    "callback_id": "task_modal",
    "title": {"type": "plain_text", "text": "Create task"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        }
    ],
}


async def test_bolt_acks_and_answers_through_the_socket_and_leaves_unhandled_events_unacked(
    no_slack_env: None, slack_emulator: SlackEmulator, slack: SocketModeSlack
) -> None:
    slack_emulator.socket_mode.ack_timeout = 0.5
    slack_emulator.socket_mode.retry_delays = (0.0,)
    bolt = AsyncApp(
        client=AsyncWebClient(base_url=slack_emulator.api_url, token=slack_emulator.bot_token),
        request_verification_enabled=False,
    )

    @bolt.command("/task")
    async def task(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(f"Creating “{command['text']}”…")

    @bolt.action("done")
    async def done(ack: AsyncAck) -> None:
        await ack()

    @bolt.message_shortcut("create_task")
    async def create(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=shortcut["trigger_id"], view=TASK_MODAL)

    @bolt.view("task_modal")
    async def submitted(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors={"title": "Say what needs doing"})

    handler = AsyncSocketModeHandler(bolt, slack_emulator.app_token)
    await handler.connect_async()
    try:
        ana = slack.user("ana")
        ack = await ana.slash_command("/task", "Fix login", "#questions")
        assert (ack.status, ack.body) == (200, "Creating “Fix login”…")
        done_button = {"type": "button", "action_id": "done", "text": {"type": "plain_text", "text": "Done"}}
        posted = await bolt.client.chat_postMessage(
            channel="#questions", text="Fix login", blocks=[{"type": "actions", "elements": [done_button]}]
        )
        message = slack_emulator.team.channel("#questions").find(posted["ts"])
        assert message is not None and (await ana.click_button(message, "done")).status == 200
        # view_submission is the interaction whose ack payload Slack acts on: here, errors shown in the modal.
        await ana.message_shortcut("create_task", "#questions", message.ts)
        [modal] = await eventually(lambda: slack_emulator.open_views("ana"))
        answer = await ana.submit_view(modal, {"title_input": "?"})
        assert answer.envelope is not None and answer.envelope["accepts_response_payload"] is True
        assert modal.errors == {"title": "Say what needs doing"} and not modal.closed
        # No listener for message events: Bolt answers 404 inside and never acks, so Slack retries (gotcha 3).
        unheard = await ana.post_message("#questions", "nobody listens")
        assert unheard.timed_out
        await eventually(lambda: slack_emulator.socket_mode.envelopes[-1].retry_attempt == 1)
    finally:
        await handler.close_async()
