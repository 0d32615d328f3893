"""The Reports use case with fakes: who gets a link from `/asana report`, and where the signing secret comes from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bridge.adapters import blocks
from bridge.domain.model import ChannelId, Link, ProjectGid, SlackUserId, TeamId, WorkspaceGid
from bridge.domain.policy import Policy
from bridge.domain.report import ALL
from bridge.domain.report_access import Credentials, Refusal
from bridge.domain.report_tasks import StoredTask
from bridge.services.errors import UserError
from bridge.services.reports import SECRET_NAME, AccessDenied, Reports
from tests.support import FakeClock

TEAM, CHANNEL = TeamId("T1"), ChannelId("C1")
LINK = Link(
    TEAM,
    CHANNEL,
    ProjectGid("p1"),
    "Developer Questions",
    WorkspaceGid("w"),
    SlackUserId("U1"),
    datetime(2026, 11, 1, tzinfo=UTC),
)


class FakeStore:
    def __init__(self) -> None:
        self.links = [LINK]
        self.secrets: dict[str, str] = {}
        self.asked_fields: list[str | None] = []

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None:
        return next((x for x in self.links if (x.team_id, x.channel_id) == (team_id, channel_id)), None)

    async def list_links(self) -> list[Link]:
        return list(self.links)

    async def report_tasks(self, **kwargs: Any) -> list[StoredTask]:
        self.asked_fields.append(kwargs.get("priority_field"))
        return []

    async def report_task_pages(self, **kwargs: Any) -> AsyncIterator[list[StoredTask]]:
        self.asked_fields.append(kwargs.get("priority_field"))
        for page in ():  # no tasks
            yield page

    async def server_secret(self, name: str, *, candidate: str | None, now: datetime) -> str | None:
        if candidate is None:
            return self.secrets.get(name)
        return self.secrets.setdefault(name, candidate)

    async def replace_server_secret(self, name: str, value: str, *, now: datetime) -> None:
        self.secrets[name] = value


class FakeSlack:
    def __init__(self, members: set[str]) -> None:
        self.members = members
        self.posts: list[tuple[str, str, list[dict[str, Any]]]] = []

    async def channel_members(self, channel: str) -> set[str]:
        return self.members

    async def post_message(self, channel: str, text: str, *, blocks: list[dict[str, Any]] | None = None) -> str:
        self.posts.append((channel, text, blocks or []))
        return "1.0"


def reports(store: FakeStore, slack: FakeSlack, **kwargs: Any) -> Reports:
    return Reports(
        links=store,
        reports=store,
        secrets=store,
        slack=slack,
        clock=FakeClock(),
        policy=Policy(),
        base_url="https://bridge.example/",
        **kwargs,
    )  # type: ignore[arg-type]


def credentials_of(url: str) -> Credentials:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return Credentials(query.get("scope"), query.get("expires"), query.get("sig"))


async def test_a_member_of_the_linked_channel_gets_the_summary_with_a_link_to_its_report() -> None:
    store, slack = FakeStore(), FakeSlack({"U1", "U2"})
    service = reports(store, slack)
    await service.post_summary(TEAM, CHANNEL, SlackUserId("U2"))
    [(channel, text, posted)] = slack.posts
    assert channel == CHANNEL and text.startswith("SLA report for Developer Questions: 0 open")
    url = posted[2]["elements"][0]["url"]
    assert url.startswith("https://bridge.example/report?scope=T1-C1&expires=")
    expires = int(credentials_of(url).expires or 0)
    assert expires == int((FakeClock().now() + timedelta(days=7)).timestamp())
    assert store.asked_fields == ["Priority"]  # the link has no field gid: the policy's field name
    view = await service.view(credentials_of(url), None)
    assert view.selected == "T1-C1" and [link.name for link in view.links] == ["Developer Questions"]


async def test_someone_who_is_not_a_member_gets_no_link() -> None:
    slack = FakeSlack({"U1"})
    with pytest.raises(UserError, match=blocks.REPORT_MEMBERS_ONLY):
        await reports(FakeStore(), slack).post_summary(TEAM, CHANNEL, SlackUserId("U9"))
    assert slack.posts == []


async def test_an_unlinked_channel_has_no_report() -> None:
    slack = FakeSlack({"U1"})
    with pytest.raises(UserError, match="isn't linked"):
        await reports(FakeStore(), slack).post_summary(TEAM, ChannelId("C2"), SlackUserId("U1"))
    assert slack.posts == []


async def test_the_secret_is_made_once_and_kept_in_the_store_so_replicas_agree_and_rotation_revokes() -> None:
    store = FakeStore()
    first, second = reports(store, FakeSlack(set())), reports(store, FakeSlack(set()))
    url = await first.link_url("T1-C1")
    assert SECRET_NAME in store.secrets and len(store.secrets[SECRET_NAME]) >= 32
    assert (await second.view(credentials_of(url), None)).selected == "T1-C1"  # another replica accepts it
    await second.rotate_secret()
    with pytest.raises(AccessDenied) as refused:
        await first.view(credentials_of(url), None)
    assert refused.value.refusal is Refusal.TAMPERED


async def test_a_configured_secret_is_used_and_nothing_is_stored() -> None:
    store = FakeStore()
    service = reports(store, FakeSlack(set()), secret="configured-secret-0123456789", operator_token="op")
    url = await service.link_url(ALL)
    assert store.secrets == {}
    assert (await service.view(credentials_of(url), "T1-C1")).selected == "T1-C1"
    assert (await service.view(Credentials(token="op"), None)).selected == ALL
