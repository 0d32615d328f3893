"""Webhook reconcile: lost webhooks come back, unused ones go, delivery failures are told once, at one read's cost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bridge.domain.model import ProjectGid, TaskGid, WebhookRegistration, WebhookStatus
from bridge.sandbox.asana.model import Webhook
from bridge.services.webhooks import WebhookReconciler, WebhookRegistrar
from tests.fixtures_bridge import Running
from tests.support import eventually

ALERT = "may reach their threads a few minutes late"


async def _linked(running: Running) -> tuple[Webhook, WebhookRegistration]:
    """Link the channel; returns the project's webhook in the emulator and its ACTIVE registration."""
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    registration = await eventually(lambda: _active(running))
    await world.asana.deliveries_idle(timeout=10)
    return world.asana.store.webhooks[registration.webhook_gid or ""], registration


async def _active(running: Running) -> WebhookRegistration | None:
    rows = await running.bridge.store.webhooks_for_project(ProjectGid(running.world.project))
    return next((r for r in rows if r.status is WebhookStatus.ACTIVE and r.webhook_gid), None)


async def _fail_delivery(running: Running, hook: Webhook) -> None:
    """One heartbeat that the bridge refuses: the target is pointed at a hook key the bridge does not know."""
    target = hook.target
    hook.target = f"{running.url}/asana/webhooks/not-a-hook"
    running.world.asana.heartbeat(hook.gid)
    await running.world.asana.deliveries_idle(timeout=10)
    hook.target = target


def _unlinked(running: Running) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not await running.bridge.store.list_links() and not await running.bridge.store.list_webhooks()

    return check


def _alerts(running: Running) -> list[Any]:
    world = running.world
    return [m for m in world.slack.messages(world.channel) if ALERT in m.text]


async def test_a_webhook_asana_deleted_is_registered_again_and_relays(running: Running) -> None:
    world = running.world
    old, registration = await _linked(running)
    await running.user("ana").slash_command("/task", "Still relayed", world.channel)
    task = (await eventually(lambda: [t for t in running.asana_tasks() if t.name == "Still relayed"]))[0]
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(task.gid)))
    await world.asana.deliveries_idle(timeout=10)
    # As Asana does: deliveries failing for 24 hours delete the webhook.
    await _fail_delivery(running, old)
    world.asana.advance(hours=24)
    await _fail_delivery(running, old)
    assert old.gid not in world.asana.store.webhooks

    report = await running.bridge.reconciler.reconcile()

    assert report.recreated == [world.project] and report.error is None
    new = await _active(running)
    assert new is not None and new.webhook_gid in world.asana.store.webhooks and new.secret
    assert new.hook_key != registration.hook_key
    assert await running.bridge.store.get_webhook(registration.hook_key) is None
    world.asana.act(world.asana_people["bo"]).complete(task.gid)
    await eventually(
        lambda: any(
            f"✅ completed by <@{world.slack_people['bo']}>" in m.text
            for m in world.slack.thread(world.channel, tracked.thread_ts)
            if m.ts != tracked.thread_ts
        ),
        timeout=10,
    )
    assert any(d.webhook == new.webhook_gid and d.status == 200 and d.events for d in world.asana.deliveries)


async def test_delivery_failures_are_told_once_in_the_channel(running: Running) -> None:
    world = running.world
    hook, _ = await _linked(running)
    await _fail_delivery(running, hook)
    first = await running.bridge.reconciler.reconcile()
    assert first.alerted == [hook.gid]
    assert len(_alerts(running)) == 1
    # One short line for the channel; the operator's detail is in /healthz (and the log).
    assert _alerts(running)[0].text == (
        "⚠️ Updates from Asana about *Developer Questions* may reach their threads a few minutes late for now."
    )
    async with aiohttp.ClientSession() as http, http.get(running.url + "/healthz") as response:
        health = await response.json()
    assert health["status"] == "degraded"
    assert any(f"webhook deliveries failing for project {world.project}" in p for p in health["problems"])

    world.asana.advance(minutes=10)
    await _fail_delivery(running, hook)  # still failing, later: the same streak
    second = await running.bridge.reconciler.reconcile()
    assert second.alerted == [] and second.error is None
    assert len(_alerts(running)) == 1

    # A day later (after a success in between, or Asana would have deleted it) a new failure is told again.
    world.asana.heartbeat(hook.gid)
    await world.asana.deliveries_idle(timeout=10)
    world.asana.advance(hours=25)
    await _fail_delivery(running, hook)
    third = await running.bridge.reconciler.reconcile()
    assert third.alerted == [hook.gid]
    assert len(_alerts(running)) == 2


async def test_the_webhook_of_an_unlinked_project_is_deleted(running: Running) -> None:
    world = running.world
    hook, _ = await _linked(running)
    # The unlink's own delete fails, so the webhook outlives its link in Asana.
    world.asana.faults.add(method="DELETE", path_pattern=r"^/webhooks/", status=403, times=1)
    await running.user("ana").slash_command("/asana", "unlink", world.channel)
    await eventually(lambda: world.asana.calls("DELETE", r"^/webhooks/"))
    await eventually(_unlinked(running))
    assert hook.gid in world.asana.store.webhooks

    report = await running.bridge.reconciler.reconcile()

    assert report.deleted == [hook.gid]
    assert world.asana.webhooks == []
    assert await running.bridge.store.list_webhooks() == []


async def test_a_reconcile_with_nothing_wrong_costs_one_read(running: Running) -> None:
    world = running.world
    hook, _ = await _linked(running)
    await eventually(lambda: running.bridge.store.get_sync_token(world.project))  # the poller's first read is done
    before = len(world.asana.requests)

    report = await running.bridge.reconciler.reconcile()

    made = [(r.method, r.path) for r in world.asana.requests[before:]]
    assert made == [("GET", "/webhooks")]
    assert report.listed == 1 and not (report.recreated or report.deleted or report.alerted)
    assert [h.gid for h in world.asana.webhooks] == [hook.gid]
    assert _alerts(running) == []


async def test_without_a_public_url_nothing_is_asked_of_asana(running: Running) -> None:
    bridge = running.bridge
    reconciler = WebhookReconciler(
        webhooks=bridge.store,
        links=bridge.store,
        asana=bridge.asana,
        slack=bridge.slack,
        clock=bridge.clock,
        registrar=WebhookRegistrar(
            webhooks=bridge.store, asana=bridge.asana, clock=bridge.clock, webhook_target=lambda _key: None
        ),
        workspace_gid=lambda: bridge.identity.workspace_gid,
    )
    before = len(running.world.asana.requests)
    report = await reconciler.reconcile()
    assert report.listed == 0 and len(running.world.asana.requests) == before
