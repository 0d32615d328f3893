"""The Slack gateway over real HTTP against the emulator: pacing per channel, errors as our own, metadata kept."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bridge.adapters.slack_api import SlackGateway
from bridge.errors import SlackError
from bridge.sandbox.slack_emulator import SlackEmulator


def _channel(emu: SlackEmulator) -> str:
    return next(c.id for c in emu.team.channels.values() if c.name == "questions")


async def test_posts_to_one_channel_are_paced_and_others_are_not(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack = SlackGateway(slack_client, post_interval=0.2)
    channel = _channel(slack_emulator)
    other = slack_emulator.add_channel("other", members=[slack_emulator.team.bot.user_id])
    started = time.monotonic()
    for text in ("one", "two", "three"):
        await slack.post_message(channel, text)
    paced = time.monotonic() - started
    started = time.monotonic()
    await slack.post_message(other, "elsewhere")
    assert paced >= 0.38 and time.monotonic() - started < 0.2
    assert [m.text for m in slack_emulator.messages(channel)][-3:] == ["one", "two", "three"]


async def test_thread_replies_and_metadata(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    slack = SlackGateway(slack_client, post_interval=0.0)
    channel = _channel(slack_emulator)
    root = await slack.post_message(channel, "root")
    reply = await slack.post_message(
        channel, "reply", thread_ts=root, metadata={"event_type": "bridge_post", "event_payload": {"key": "k1"}}
    )
    thread = slack_emulator.thread(channel, root)
    assert [m.ts for m in thread][-1] == reply


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda s: s.post_message("C999", "x"), "channel_not_found"),
        (lambda s: s.update_message("C999", "1.2", "x"), "channel_not_found"),
        (lambda s: s.user_email("U999"), "user_not_found"),
    ],
)
async def test_errors_carry_slacks_code(
    slack_client: AsyncWebClient, call: Callable[[SlackGateway], Awaitable[object]], code: str
) -> None:
    with pytest.raises(SlackError) as caught:
        await call(SlackGateway(slack_client, post_interval=0.0))
    assert caught.value.code == code


async def test_user_email(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    slack = SlackGateway(slack_client)
    ana = slack_emulator.team.user_named("ana").id
    assert await slack.user_email(ana) == "ana@example.com"


async def test_user_timezone_is_read_once_and_kept(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    slack = SlackGateway(slack_client)
    ana = slack_emulator.team.user_named("ana").id
    slack_emulator.set_timezone(ana, "Asia/Tokyo")
    assert await slack.user_timezone(ana) == "Asia/Tokyo"
    calls = slack.calls
    slack_emulator.set_timezone(ana, "Europe/Berlin")
    assert await slack.user_timezone(ana) == "Asia/Tokyo"  # cached: people move seldom
    assert slack.calls == calls


async def test_an_unknown_user_has_no_timezone(slack_client: AsyncWebClient) -> None:
    assert await SlackGateway(slack_client).user_timezone("U0NOBODY") is None


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_someone_not_in_slack_yet_is_found_a_minute_after_they_join(
    slack_emulator: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = _Clock()
    slack = SlackGateway(slack_client, timer=clock)
    assert await slack.user_by_email("lead@example.com") is None
    lead = slack_emulator.add_user("lead", "lead@example.com")  # the triager joins Slack
    clock.now += 30
    assert await slack.user_by_email("lead@example.com") is None  # "nobody" is believed a little while
    clock.now += 31
    assert await slack.user_by_email("LEAD@example.com") == lead  # then asked again: found, without a restart
    calls = len(slack_emulator.calls_to("users.lookupByEmail"))
    clock.now += 3000
    assert await slack.user_by_email("lead@example.com") == lead  # a found person is kept longer
    assert len(slack_emulator.calls_to("users.lookupByEmail")) == calls


async def test_names_are_read_again_after_an_hour(slack_emulator: SlackEmulator, slack_client: AsyncWebClient) -> None:
    clock = _Clock()
    slack = SlackGateway(slack_client, timer=clock)
    ana = slack_emulator.team.user_named("ana")
    assert await slack.user_name(ana.id) == "ana"
    ana.name = "ana.lopez"  # she changes her display name
    assert await slack.user_name(ana.id) == "ana"  # attributions in a burst read Slack once
    clock.now += 3601
    assert await slack.user_name(ana.id) == "ana.lopez"
