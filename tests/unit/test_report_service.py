"""The Reports use case with fakes: who gets a link from `/asana report`, and where the signing secret comes from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

from bridge import wording
from bridge.domain.model import ChannelId, Link, ProjectGid, SlackUserId, TaskGid, TeamId, WorkspaceGid
from bridge.domain.policy import Policy
from bridge.domain.report import ALL
from bridge.domain.report_access import Credentials, Refusal
from bridge.domain.report_tasks import StoredTask
from bridge.services.errors import UserError
from bridge.services.reports import SECRET_NAME, AccessDenied, Reports
from tests.unit.fakes import FakeClock, FakeLinks, FakeSlack

TEAM, CHANNEL = TeamId("T1"), ChannelId("C1")
T = TypeVar("T")
LINK = Link(
    TEAM,
    CHANNEL,
    ProjectGid("p1"),
    "Developer Questions",
    WorkspaceGid("w"),
    SlackUserId("U1"),
    datetime(2026, 11, 1, tzinfo=UTC),
)


@dataclass
class FakeReportStore(FakeLinks):
    """The links, the report's reads (no tasks) and the server secrets."""

    secrets: dict[str, str] = field(default_factory=dict)
    asked_fields: list[str | None] = field(default_factory=list)

    async def report_tasks(
        self,
        *,
        team_id: TeamId | None = None,
        channel_id: ChannelId | None = None,
        priority_field: str | None = None,
        changed_since: datetime | None = None,
        assignee_gid: str | None = None,
        open_only: bool = False,
    ) -> list[StoredTask]:
        self.asked_fields.append(priority_field)
        return []

    async def report_tasks_apart(
        self, made: Callable[[StoredTask], T], *, team_id: TeamId, channel_id: ChannelId, priority_field: str | None
    ) -> dict[TaskGid, T]:
        self.asked_fields.append(priority_field)
        return {}  # no tasks

    async def server_secret(self, name: str, *, candidate: str | None, now: datetime) -> str | None:
        if candidate is None:
            return self.secrets.get(name)
        return self.secrets.setdefault(name, candidate)

    async def replace_server_secret(self, name: str, value: str, *, now: datetime) -> None:
        self.secrets[name] = value


def linked_store() -> FakeReportStore:
    return FakeReportStore(links={(TEAM, CHANNEL): LINK})


def slack_with(members: set[str]) -> FakeSlack:
    """Slack where the linked channel has these members."""
    return FakeSlack(members={CHANNEL: members})


def reports(store: FakeReportStore, slack: FakeSlack, **kwargs: Any) -> Reports:
    return Reports(
        links=store,
        reports=store,
        secrets=store,
        slack=slack,
        clock=FakeClock(),
        policy=Policy(),
        base_url="https://bridge.example/",
        **kwargs,
    )


def credentials_of(url: str) -> Credentials:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return Credentials(query.get("scope"), query.get("expires"), query.get("sig"))


async def test_a_member_of_the_linked_channel_gets_the_summary_with_a_link_to_its_report() -> None:
    store, slack = linked_store(), slack_with({"U1", "U2"})
    service = reports(store, slack)
    await service.post_summary(TEAM, CHANNEL, SlackUserId("U2"))
    [post] = slack.posts
    channel, text, posted = post.channel, post.text, post.blocks
    assert channel == CHANNEL and text.startswith("SLA report for Developer Questions: 0 open")
    url = posted[2]["elements"][0]["url"]
    assert url.startswith("https://bridge.example/report?scope=T1-C1&expires=")
    expires = int(credentials_of(url).expires or 0)
    assert expires == int((FakeClock().now() + timedelta(days=7)).timestamp())
    assert store.asked_fields == ["Priority"]  # the link has no field gid: the policy's field name
    view = await service.view(credentials_of(url), None)
    assert view.selected == "T1-C1" and [link.name for link in view.links] == ["Developer Questions"]


async def test_someone_who_is_not_a_member_gets_no_link() -> None:
    slack = slack_with({"U1"})
    with pytest.raises(UserError, match=wording.REPORT_MEMBERS_ONLY):
        await reports(linked_store(), slack).post_summary(TEAM, CHANNEL, SlackUserId("U9"))
    assert slack.posts == []


async def test_an_unlinked_channel_has_no_report() -> None:
    slack = slack_with({"U1"})
    with pytest.raises(UserError, match="isn't linked"):
        await reports(linked_store(), slack).post_summary(TEAM, ChannelId("C2"), SlackUserId("U1"))
    assert slack.posts == []


async def test_the_secret_is_made_once_and_kept_in_the_store_so_replicas_agree_and_rotation_revokes() -> None:
    store = linked_store()
    first, second = reports(store, slack_with(set())), reports(store, slack_with(set()))
    url = await first.link_url("T1-C1")
    assert SECRET_NAME in store.secrets and len(store.secrets[SECRET_NAME]) >= 32
    assert (await second.view(credentials_of(url), None)).selected == "T1-C1"  # another replica accepts it
    await second.rotate_secret()
    with pytest.raises(AccessDenied) as refused:
        await first.view(credentials_of(url), None)
    assert refused.value.refusal is Refusal.TAMPERED


async def test_a_configured_secret_is_used_and_nothing_is_stored() -> None:
    store = linked_store()
    service = reports(store, slack_with(set()), secret="configured-secret-0123456789", operator_token="op")
    url = await service.link_url(ALL)
    assert store.secrets == {}
    assert (await service.view(credentials_of(url), "T1-C1")).selected == "T1-C1"
    assert (await service.view(Credentials(token="op"), None)).selected == ALL
