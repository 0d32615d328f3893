"""The Links use case on fakes: what `/asana link`, `unlink` and `status` ask of Asana and keep in the store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge import wording
from bridge.domain.commands import RelaySetting
from bridge.domain.model import (
    ChannelId,
    Link,
    ProjectGid,
    SlackUserId,
    TeamId,
    WebhookRegistration,
    WebhookStatus,
    WorkspaceGid,
)
from bridge.domain.policy import Policy
from bridge.domain.work import CustomField, EnumOption, Project, Section
from bridge.services.errors import UserError
from bridge.services.links import Links
from tests.unit.fakes import START, FakeAsana, FakeClock, FakeStore

TEAM, CHANNEL, OTHER = TeamId("T1"), ChannelId("C1"), ChannelId("C2")
ANA = SlackUserId("U1")
PROJECT, NEXT = ProjectGid("100"), ProjectGid("200")
URL = "https://bridge.example/asana/webhook/"


def world(*, public: bool = True, workspace: str | None = "w1") -> tuple[Links, FakeAsana, FakeStore]:
    store, asana, clock = FakeStore(), FakeAsana(), FakeClock()
    for gid, name in ((PROJECT, "Developer Questions"), (NEXT, "Intake")):
        asana.projects[gid] = Project(gid, name, WorkspaceGid("w1"))
    asana.fields[PROJECT] = [CustomField("f1", "Priority", "enum", (EnumOption("o1", "P1"),))]

    async def handshake(target: str, secret: str) -> None:  # Asana's POST, answered by the receiver
        await store.complete_handshake(target.removeprefix(URL), secret)

    asana.handshake = handshake
    links = Links(
        links=store,
        webhooks=store,
        inbox=store,
        asana=asana,
        clock=clock,
        policy=Policy(),
        webhook_target=lambda key: URL + key if public else None,
        workspace_gid=lambda: workspace,
    )
    return links, asana, store


async def test_linking_finds_the_priority_field_makes_the_triage_section_and_registers_the_webhook() -> None:
    links, asana, store = world()
    outcome = await links.link(TEAM, CHANNEL, ANA, f"https://app.asana.com/0/{PROJECT}/list")
    link = store.links[(TEAM, CHANNEL)]
    assert outcome.link == link
    assert (link.project_name, link.priority_field_gid, link.created_at) == ("Developer Questions", "f1", START)
    assert [s.gid for s in asana.sections[PROJECT]] == [link.triage_section_gid]
    assert [call[0] for call in asana.writes()] == ["create_section", "create_webhook"]
    [registration] = store.webhooks.values()
    assert (registration.status, registration.webhook_gid) == (WebhookStatus.ACTIVE, asana.webhooks[0].gid)
    assert wording.WEBHOOK_ACTIVE in outcome.message


async def test_a_triage_section_that_exists_is_used_and_a_second_link_reuses_the_webhook() -> None:
    links, asana, store = world()
    asana.sections[PROJECT] = [Section("s9", " needs TRIAGE ")]
    await links.link(TEAM, CHANNEL, ANA, PROJECT)
    await links.link(TEAM, OTHER, ANA, PROJECT)
    assert store.links[(TEAM, OTHER)].triage_section_gid == "s9"
    assert [call[0] for call in asana.writes()] == ["create_webhook"]


@pytest.mark.parametrize(
    ("public", "reported", "status", "message"),
    [
        (False, None, None, wording.WEBHOOK_POLLING),
        (True, "not-the-secret-we-got", WebhookStatus.FAILED, wording.webhook_failed("handshake mismatch")),
    ],
    ids=["no public URL: polling", "handshake mismatch: deleted"],
)
async def test_without_a_trusted_webhook_the_link_falls_back_to_polling(
    public: bool, reported: str | None, status: WebhookStatus | None, message: str
) -> None:
    links, asana, store = world(public=public)
    asana.handshake_secret = reported
    outcome = await links.link(TEAM, CHANNEL, ANA, PROJECT)
    assert message in outcome.message
    assert [w.status for w in store.webhooks.values()] == ([status] if status else [])
    assert asana.webhooks == []  # a mismatched hook is deleted in Asana too
    assert (TEAM, CHANNEL) in store.links


@pytest.mark.parametrize(
    ("ref", "workspace", "said"),
    [
        ("not a project", "w1", "Example: `/asana link"),
        ("999", "w1", wording.project_not_visible("999")),
        (PROJECT, "w2", wording.wrong_workspace("Developer Questions")),
    ],
    ids=["not a reference", "not visible", "another workspace"],
)
async def test_a_link_that_cannot_work_is_refused_and_nothing_is_made(ref: str, workspace: str, said: str) -> None:
    links, asana, store = world(workspace=workspace)
    with pytest.raises(UserError) as refused:
        await links.link(TEAM, CHANNEL, ANA, ref)
    assert said in str(refused.value)
    assert (store.links, store.webhooks, asana.writes()) == ({}, {}, [])


@pytest.mark.parametrize(
    ("other_channel_links_it", "webhooks_left"), [(False, 0), (True, 1)], ids=["last link", "still linked elsewhere"]
)
async def test_unlinking_drops_the_projects_webhook_only_with_its_last_link(
    other_channel_links_it: bool, webhooks_left: int
) -> None:
    links, asana, store = world()
    await links.link(TEAM, CHANNEL, ANA, PROJECT)
    if other_channel_links_it:
        await links.link(TEAM, OTHER, ANA, PROJECT)
    said = await links.unlink(TEAM, CHANNEL)
    assert said == wording.unlinked("Developer Questions")
    assert (TEAM, CHANNEL) not in store.links
    assert (len(store.webhooks), len(asana.webhooks)) == (webhooks_left, webhooks_left)


async def test_relinking_to_another_project_keeps_the_settings_and_drops_the_old_webhook() -> None:
    links, asana, store = world()
    await links.link(TEAM, CHANNEL, ANA, PROJECT)
    await links.set_relay(TEAM, CHANNEL, RelaySetting(kinds=None, quiet=True))
    await links.link(TEAM, CHANNEL, ANA, NEXT)
    link = store.links[(TEAM, CHANNEL)]
    assert (link.project_gid, link.quiet) == (NEXT, True)
    assert [w.project_gid for w in store.webhooks.values()] == [NEXT]
    assert [w.resource_gid for w in asana.webhooks] == [NEXT]


async def test_unlinking_a_channel_that_is_not_linked_says_so() -> None:
    links, _, _ = world()
    for call in (links.unlink, links.status):
        with pytest.raises(UserError, match="isn't linked"):
            await call(TEAM, CHANNEL)


async def test_uninstalling_unlinks_every_channel_of_the_workspace_only() -> None:
    links, _, store = world()
    await links.link(TEAM, CHANNEL, ANA, PROJECT)
    await links.link(TeamId("T2"), CHANNEL, ANA, NEXT)
    assert await links.unlink_workspace(TEAM) == 1
    assert list(store.links) == [(TeamId("T2"), CHANNEL)]


async def test_status_tells_the_webhooks_health_and_the_inbox() -> None:
    links, _, store = world()
    store.links[(TEAM, CHANNEL)] = Link(TEAM, CHANNEL, PROJECT, "Q", WorkspaceGid("w1"), ANA, START)
    store.webhooks["k"] = WebhookRegistration(
        "k", TEAM, CHANNEL, PROJECT, WebhookStatus.FAILED, START - timedelta(days=1)
    )
    store.inbox.update(pending=3, parked=1)
    said = await links.status(TEAM, CHANNEL)
    link = store.links[(TEAM, CHANNEL)]
    assert said == wording.status(link, webhook=wording.WEBHOOK_POLLING, pending=3, parked=1)
