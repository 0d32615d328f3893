"""The services' memories of Slack and Asana answers follow the one policy (bridge.lookups): a miss is asked about
again after its short lifetime, a found answer lasts longer, and however many keys a long-running process meets,
what it remembers stays bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from slack_bolt.authorization.authorize_result import AuthorizeResult
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bridge.domain.access import Privacy, ProjectAccess, Refusal
from bridge.domain.model import AsanaUserGid, ChannelId, Link, ProjectGid, SlackUserId, TeamId, WorkspaceGid
from bridge.domain.work import AsanaUser
from bridge.entrypoints.slack_oauth import AUTHORIZED_TOKENS, cached_authorize
from bridge.services.access import GUEST_CACHE_SECONDS, Access
from bridge.services.answers import PRIVACY_SECONDS, AnswerIndex
from bridge.services.people import NOT_IN_SLACK_SECONDS, People
from bridge.services.pool import UNKNOWN_USER_RETRY_SECONDS, USER_SECONDS, Pool
from tests.unit.fakes import FakeAsana, FakeClock, FakeSlack, FakeStore, Person

WS = WorkspaceGid("1")
LINK = Link(
    team_id=TeamId("T"),
    channel_id=ChannelId("C"),
    project_gid=ProjectGid("P"),
    project_name="Support",
    workspace_gid=WS,
    created_by=SlackUserId("U0ANA"),
    created_at=datetime(2026, 11, 30, tzinfo=UTC),
)
CY = AsanaUser(AsanaUserGid("13"), "Cy", "cy@example.com", (WS,))


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Channels:
    """Slack as the answer index asks it: is a channel private (it may be down)."""

    def __init__(self) -> None:
        self.private: dict[str, bool] = {}
        self.down = False
        self.asked: list[str] = []

    def for_team(self, team_id: str) -> Channels:
        return self

    async def is_private(self, channel: str) -> bool:
        self.asked.append(channel)
        if self.down:
            raise ConnectionError("Slack is down")
        return self.private[channel]


def pool(asana: FakeAsana, timer: Timer) -> Pool:
    return Pool(store=FakeStore(), asana=asana, slack=FakeSlack(), timer=timer)


@pytest.mark.parametrize(
    ("there_at_first", "later", "asked_again"),
    [
        (False, UNKNOWN_USER_RETRY_SECONDS - 1, False),  # "no such user" is believed a while...
        (False, UNKNOWN_USER_RETRY_SECONDS, True),  # ...then asked about again: Cy was invited meanwhile
        (True, UNKNOWN_USER_RETRY_SECONDS, False),  # a user found lasts longer
        (True, USER_SECONDS, True),
    ],
)
async def test_a_pool_member_without_an_asana_user_is_looked_for_again_soon(
    there_at_first: bool, later: float, asked_again: bool
) -> None:
    asana, timer = FakeAsana(), Timer()
    routing = pool(asana, timer)
    if there_at_first:
        asana.users[CY.gid] = CY
    assert await routing.user("cy@example.com", LINK) == (CY if there_at_first else None)
    asana.users[CY.gid] = CY
    timer.now = later
    assert await routing.user("cy@example.com", LINK) == (CY if there_at_first or asked_again else None)
    assert asana.calls == [("user_by_email", "cy@example.com")] * (2 if asked_again else 1)


async def test_a_pool_remembers_a_bounded_number_of_people_and_days() -> None:
    asana, timer = FakeAsana(), Timer()
    routing = pool(asana, timer)
    for n in range(10_500):  # a year of days for a large pool, in a process that never restarts
        await routing.user(f"p{n}@example.com", LINK)
        await routing.out(AsanaUserGid(str(n)), LINK, date(2026, 1, 1))
    asana.calls.clear()
    await routing.user("p10499@example.com", LINK)  # recent: still remembered
    await routing.user("p0@example.com", LINK)  # the oldest went first
    await routing.out(AsanaUserGid("0"), LINK, date(2026, 1, 1))
    assert asana.calls == [("user_by_email", "p0@example.com"), ("out_of_office", "0")]


async def test_an_asana_user_not_in_slack_is_mentioned_once_they_join() -> None:
    clock, asana, slack = FakeClock(), FakeAsana(users=[CY]), FakeSlack()
    people = People(store=FakeStore(), slack=slack, asana=asana, clock=clock)
    assert await people.slack_user(TeamId("T"), CY.gid, WS) is None
    slack.people["U0CY"] = Person("Cy", "cy@example.com")  # Cy joins Slack
    clock.advance(timedelta(seconds=NOT_IN_SLACK_SECONDS - 1))
    assert await people.slack_user(TeamId("T"), CY.gid, WS) is None  # the miss is still believed
    clock.advance(timedelta(seconds=1))
    assert await people.slack_user(TeamId("T"), CY.gid, WS) == "U0CY"
    assert slack.looked_up == ["cy@example.com", "cy@example.com"]


async def test_a_guest_answer_is_kept_an_hour() -> None:
    asana, timer = FakeAsana(), Timer()
    asana.guests.add("2")
    asana.access["P"] = ProjectAccess(privacy=Privacy.PUBLIC, members=frozenset())
    access = Access(asana=asana, timer=timer)
    assert await access.refusal(ProjectGid("P"), WS, AsanaUserGid("2")) is Refusal.GUEST
    timer.now = GUEST_CACHE_SECONDS - 1
    asana.guests.clear()  # made a full member: believed a guest until the answer expires
    assert await access.refusal(ProjectGid("P"), WS, AsanaUserGid("2")) is Refusal.GUEST
    timer.now = GUEST_CACHE_SECONDS
    assert await access.refusal(ProjectGid("P"), WS, AsanaUserGid("2")) is None
    assert asana.calls.count(("is_guest", "2")) == 2


async def test_a_channel_made_private_is_seen_as_private_within_the_hour() -> None:
    slack, timer = Channels(), Timer()
    index = AnswerIndex(store=None, asana=None, slack=slack, clock=FakeClock(), timer=timer)  # type: ignore[arg-type]
    slack.private["C"] = False
    assert await index._is_private(TeamId("T"), ChannelId("C")) is False
    slack.private["C"] = True
    timer.now = PRIVACY_SECONDS - 1
    assert await index._is_private(TeamId("T"), ChannelId("C")) is False
    timer.now = PRIVACY_SECONDS
    slack.down = True  # a failure is the safe side (private) and not remembered
    assert await index._is_private(TeamId("T"), ChannelId("C")) is True
    slack.down = False
    assert await index._is_private(TeamId("T"), ChannelId("C")) is True
    assert slack.asked == ["C", "C", "C"]


async def test_bolts_answers_for_installed_workspaces_are_bounded() -> None:
    authorize = cached_authorize(
        client_id="1.2", client_secret="secret", installations=FileInstallationStore(), client=AsyncWebClient()
    )
    answer = AuthorizeResult(enterprise_id=None, team_id="T1")
    for n in range(AUTHORIZED_TOKENS + 10):  # one token per workspace ever installed, over months
        authorize.authorize_result_cache[f"xoxb-{n}"] = answer
    assert len(authorize.authorize_result_cache) == AUTHORIZED_TOKENS
    assert "xoxb-0" not in authorize.authorize_result_cache
