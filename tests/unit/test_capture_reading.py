"""Reading a message for a capture when Slack will not say who wrote it, nor give its permalink: still a task."""

from __future__ import annotations

from bridge.domain.model import ChannelId, SlackUserId, TeamId
from bridge.errors import SlackError
from bridge.services.capture_reading import Reader
from bridge.services.people import People
from tests.unit.fakes import FakeAsana, FakeClock, FakeMappings, FakeSlack


class UnhelpfulSlack(FakeSlack):
    """users.info knows only Bo; chat.getPermalink fails."""

    async def user_name(self, user_id: str) -> str:
        if user_id != "U0BO":
            raise SlackError("users.info: user_not_found", code="user_not_found")
        return "bo"

    async def permalink(self, channel: str, ts: str) -> str:
        raise SlackError("chat.getPermalink: message_not_found", code="message_not_found")


def _reader() -> Reader:
    slack = UnhelpfulSlack()
    people = People(store=FakeMappings(), slack=slack, asana=FakeAsana(), clock=FakeClock())
    return Reader(slack=slack, people=people)


async def test_an_author_slack_will_not_show_is_named_by_the_event_or_by_their_id() -> None:
    message = {
        "ts": "1.2",
        "text": "Hi <@U0BO>, *export* fails",
        "user_profile": {"display_name": "Gia (Globex)", "real_name": "Gia Rossi"},
    }
    read = await _reader().message(TeamId("T1"), ChannelId("C1"), SlackUserId("U0GIA"), message)
    assert read.title == "Hi @bo, export fails"
    assert read.notes == "<strong>Gia (Globex)</strong> wrote in Slack:\n\nHi @bo, <strong>export</strong> fails"

    bare = await _reader().message(TeamId("T1"), ChannelId("C1"), SlackUserId("U0GIA"), {"ts": "1.3", "text": ""})
    assert bare.title == "Question from Slack" and bare.notes.startswith("a Slack user (U0GIA) wrote in Slack:")
