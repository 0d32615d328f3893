"""The webhook reconciler on fakes: a webhook Asana dropped is registered again, strays are deleted, and a
failing webhook is told to its channels once. tests/integration/test_webhook_reconcile.py keeps it end to end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bridge import wording
from bridge.domain.model import WebhookStatus
from bridge.domain.work import Webhook
from bridge.services.webhooks import WebhookReconciler, WebhookRegistrar
from tests.unit.fakes import CHANNEL, PROJECT, START, TEAM, FakeAsana, FakeClock, FakeSlack, FakeStore, a_link

URL = "https://bridge.example/asana/webhook/"


@dataclass
class World:
    reconciler: WebhookReconciler
    registrar: WebhookRegistrar
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore
    clock: FakeClock


def world() -> World:
    store, clock, slack, asana = FakeStore(), FakeClock(), FakeSlack(), FakeAsana()

    async def handshake(target: str, secret: str) -> None:
        await store.complete_handshake(target.removeprefix(URL), secret)

    asana.handshake = handshake
    store.links[(TEAM, CHANNEL)] = a_link()
    registrar = WebhookRegistrar(webhooks=store, asana=asana, clock=clock, webhook_target=lambda key: URL + key)
    reconciler = WebhookReconciler(
        webhooks=store,
        links=store,
        asana=asana,
        slack=slack,
        clock=clock,
        registrar=registrar,
        workspace_gid=lambda: "w1",
    )
    return World(reconciler, registrar, asana, slack, store, clock)


async def linked(w: World) -> None:
    await w.registrar.register(w.store.links[(TEAM, CHANNEL)])
    w.clock.advance(timedelta(minutes=5))


async def test_a_healthy_webhook_is_left_as_it_is() -> None:
    w = world()
    await linked(w)
    report = await w.reconciler.reconcile()
    assert (report.listed, report.recreated, report.deleted, report.alerted) == (1, [], [], [])
    assert [c[0] for c in w.asana.writes()] == ["create_webhook"]


async def test_a_webhook_asana_dropped_is_registered_again() -> None:
    w = world()
    await linked(w)
    w.asana.webhooks.clear()  # deleted by Asana after a day of failed deliveries, without a word
    report = await w.reconciler.reconcile()
    assert report.recreated == [PROJECT]
    [registration] = w.store.webhooks.values()
    assert registration.status is WebhookStatus.ACTIVE and registration.webhook_gid == w.asana.webhooks[0].gid


async def test_a_webhook_no_link_uses_is_deleted() -> None:
    w = world()
    await linked(w)
    w.asana.webhooks.append(Webhook("777", "999", URL + "forgotten"))  # ours, but nothing uses it
    w.asana.webhooks.append(Webhook("888", "999", "https://someone.else/hook"))  # not ours: left alone
    report = await w.reconciler.reconcile()
    assert report.deleted == ["777"]
    assert [h.gid for h in w.asana.webhooks][-1] == "888"


async def test_a_failing_webhook_is_told_to_its_channel_once_per_failure() -> None:
    w = world()
    await linked(w)
    failing = replace(w.asana.webhooks[0], last_failure_at=(START + timedelta(minutes=1)).isoformat())
    w.asana.webhooks[0] = failing
    first = await w.reconciler.reconcile()
    again = await w.reconciler.reconcile()
    assert (first.alerted, again.alerted) == ([failing.gid], [])
    assert w.slack.said(CHANNEL) == [wording.webhook_failing("Developer Questions")]


async def test_without_a_public_url_or_a_workspace_nothing_is_asked() -> None:
    w = world()
    w.reconciler = WebhookReconciler(
        webhooks=w.store,
        links=w.store,
        asana=w.asana,
        slack=w.slack,
        clock=w.clock,
        registrar=w.registrar,
        workspace_gid=lambda: None,
    )
    assert (await w.reconciler.reconcile()).listed == 0
    assert w.asana.calls == []
