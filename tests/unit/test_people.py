"""Slack user → Asana user: cached, so warm requests cost no calls; people without Asana are looked up again sooner."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bridge.domain.model import AsanaUserGid, SlackUserId, TeamId, UserMapping, WorkspaceGid
from bridge.domain.work import AsanaUser
from bridge.errors import SlackError
from bridge.services import people as people_module
from bridge.services.people import People
from tests.unit.fakes import FakeAsana, FakeClock, FakeMappings, FakeSlack, Person


class Slack(FakeSlack):
    """users.info as Slack answers it: an email and a name, or `user_not_found` for people it will not show."""

    def __init__(self, emails: dict[str, str], *, unseen: frozenset[str] = frozenset(), slow: float = 0.0) -> None:
        super().__init__()
        self.emails = emails
        self.unseen = unseen
        self.slow = slow
        self.asked: list[str] = []  # a list, so every workspace's view (a copy of this fake) adds to the same

    @property
    def calls(self) -> int:
        return len(self.asked)

    async def user_email(self, user_id: str) -> str | None:
        self.asked.append(user_id)
        self._check(user_id)
        return self.emails.get(user_id)

    async def user_name(self, user_id: str) -> str:
        self.asked.append(user_id)
        await asyncio.sleep(self.slow)
        self._check(user_id)
        return self.emails.get(user_id, "@").split("@")[0] or user_id

    def _check(self, user_id: str) -> None:
        if user_id in self.unseen:
            raise SlackError("users.info: user_not_found", code="user_not_found")
        if user_id == "U_BROKEN":
            raise SlackError("users.info: fatal_error", code="fatal_error")


WS = WorkspaceGid("1")
ANA = AsanaUser(AsanaUserGid("11"), "Ana", "ana@example.com", (WS,))
ELSEWHERE = AsanaUser(AsanaUserGid("12"), "Eve", "eve@example.com", (WorkspaceGid("2"),))


@pytest.mark.parametrize(
    ("user", "later", "expected", "looked_up_again"),
    [
        ("U_ANA", timedelta(hours=23), "11", False),
        ("U_ANA", timedelta(hours=25), "11", True),
        ("U_NOBODY", timedelta(minutes=59), None, False),
        ("U_NOBODY", timedelta(minutes=61), None, True),
        ("U_EVE", timedelta(0), None, False),  # an Asana user of another workspace is nobody here
        ("U_NO_EMAIL", timedelta(minutes=61), None, True),
    ],
)
async def test_mapping_and_its_cache(user: str, later: timedelta, expected: str | None, looked_up_again: bool) -> None:
    clock = FakeClock()
    slack = Slack({"U_ANA": "ana@example.com", "U_NOBODY": "x@example.com", "U_EVE": "eve@example.com"})
    asana = FakeAsana(users=[ANA, ELSEWHERE])
    people = People(store=FakeMappings(), slack=slack, asana=asana, clock=clock)
    assert await people.asana_user(TeamId("T"), SlackUserId(user), WS) == expected
    first = slack.calls
    clock.advance(later)
    assert await people.asana_user(TeamId("T"), SlackUserId(user), WS) == expected
    assert (slack.calls > first) is looked_up_again


class CountedMappings(FakeMappings):
    reads: int = 0

    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None:
        self.reads += 1
        return await super().get_user_mapping(team_id, slack_user_id)


async def test_a_burst_for_one_person_looks_them_up_once_and_reads_the_store_once() -> None:
    """Ten captures for Ana at once (a burst of /task): one users.info, one Asana lookup, one read of the store;
    the next ones within minutes none at all."""
    clock = FakeClock()
    slack = Slack({"U_ANA": "ana@example.com"})
    asana = FakeAsana(users=[ANA])
    store = CountedMappings()
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    found = await asyncio.gather(*(people.asana_user(TeamId("T"), SlackUserId("U_ANA"), WS) for _ in range(10)))
    assert found == ["11"] * 10
    clock.advance(timedelta(minutes=4))
    assert await people.asana_user(TeamId("T"), SlackUserId("U_ANA"), WS) == "11"
    assert (slack.calls, store.reads, len(store.mappings)) == (1, 1, 1)
    clock.advance(timedelta(minutes=2))  # out of memory: read from the store again, still fresh there
    assert await people.asana_user(TeamId("T"), SlackUserId("U_ANA"), WS) == "11"
    assert (slack.calls, store.reads) == (1, 2)


async def test_a_person_found_from_asana_is_known_at_once_from_slack_too() -> None:
    """Ana had no email Slack would tell (so no Asana user, remembered); then a nag finds her from her Asana
    account: her next capture knows her at once, not after the memory of the miss runs out."""
    slack = Slack({})
    people = People(store=FakeMappings(), slack=slack, asana=FakeAsana(users=[ANA]), clock=FakeClock())
    assert await people.asana_user(TeamId("T"), SlackUserId("U_ANA"), WS) is None
    slack.people[SlackUserId("U_ANA")] = Person("Ana", "ana@example.com")
    assert await people.slack_user(TeamId("T"), ANA.gid, WS) == "U_ANA"
    assert await people.asana_user(TeamId("T"), SlackUserId("U_ANA"), WS) == "11"


async def test_a_person_slack_will_not_show_has_no_asana_user_and_is_asked_about_again_later() -> None:
    clock = FakeClock()
    slack = Slack({}, unseen=frozenset({"U_GUEST"}))
    people = People(store=FakeMappings(), slack=slack, asana=FakeAsana(), clock=clock)
    assert await people.asana_user(TeamId("T"), SlackUserId("U_GUEST"), WS) is None
    clock.advance(timedelta(minutes=61))
    assert await people.asana_user(TeamId("T"), SlackUserId("U_GUEST"), WS) is None
    assert slack.calls == 2
    with pytest.raises(SlackError):  # any other failure is not an answer about the person
        await people.asana_user(TeamId("T"), SlackUserId("U_BROKEN"), WS)


async def test_names_are_those_slack_tells_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    slack = Slack({"U_ANA": "ana@example.com", "U_BO": "bo@example.com"}, unseen=frozenset({"U_GUEST"}))
    people = People(store=FakeMappings(), slack=slack, asana=FakeAsana(), clock=FakeClock())
    named = await people.names(TeamId("T"), ["U_ANA", "U_GUEST", "U_BROKEN", "U_ANA", "U_BO"])
    assert named == {"U_ANA": "ana", "U_BO": "bo"}
    assert await people.names(TeamId("T"), []) == {}
    # One name alone (a /task's author) goes the same way.
    assert await people.names(TeamId("T"), ["U_BO"]) == {"U_BO": "bo"}
    assert await people.names(TeamId("T"), ["U_GUEST"]) == {} and await people.names(TeamId("T"), ["U_BROKEN"]) == {}
    monkeypatch.setattr(people_module, "NAME_LOOKUP_SECONDS", 0.05)  # the budget's length is not the point
    lagging = Slack({"U_ANA": "a@x"}, slow=5.0)
    slow = People(store=FakeMappings(), slack=lagging, asana=FakeAsana(), clock=FakeClock())
    started = asyncio.get_running_loop().time()
    assert await slow.names(TeamId("T"), ["U_ANA"]) == {}  # a slow users.info never holds up a capture
    assert await slow.names(TeamId("T"), ["U_ANA", "U_BO"]) == {}
    assert asyncio.get_running_loop().time() - started < 2.0
