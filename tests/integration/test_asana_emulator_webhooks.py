"""Asana emulator webhooks with the real client: the handshake inside the create call, signed batched deliveries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import asana
import pytest
from asana.rest import ApiException

from bridge.sandbox.oas import OpenApiSpec
from tests import fixtures_asana
from tests.fixtures_asana import AsanaSeed, HookReceiver, assert_spec_clean, wait_for

# The fixtures, visible here even where tests/conftest.py does not register tests.fixtures_asana.
asana_seed = fixtures_asana.asana_seed
asana_client = fixtures_asana.asana_client
oas_spec = fixtures_asana.oas_spec
hook_receiver = fixtures_asana.hook_receiver

FILTERS: list[dict[str, Any]] = [
    {"resource_type": "task", "action": "changed", "fields": ["completed", "assignee", "due_on", "custom_fields"]},
    {"resource_type": "task", "action": "added"},
    {"resource_type": "task", "action": "deleted"},
    {"resource_type": "story", "action": "added", "resource_subtype": "comment_added"},
]


async def create_hook(
    client: asana.ApiClient, resource: str, target: str, filters: list[dict[str, Any]]
) -> dict[str, Any]:
    api = asana.WebhooksApi(client)
    body = {"data": {"resource": resource, "target": target, "filters": filters}}
    # In a thread: the emulator calls the target back while this request is still open.
    payload: dict[str, Any] = await asyncio.to_thread(api.create_webhook, body, {}, full_payload=True)
    return payload


def verified(receiver: HookReceiver, secret: str) -> list[list[dict[str, Any]]]:
    """Each delivery's events, after checking X-Hook-Signature over the raw bytes."""
    batches = []
    for body, headers in receiver.deliveries:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Hook-Signature"], expected)
        batches.append(json.loads(body)["events"])
    return batches


async def test_handshake_then_signed_batched_deliveries(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, hook_receiver: HookReceiver, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    created = await create_hook(asana_client, seed.project, hook_receiver.url, FILTERS)
    secret = created["X-Hook-Secret"]
    assert hook_receiver.secrets == [secret] and len(secret) == 64 and int(secret, 16) >= 0
    hook = created["data"]
    assert hook["resource"] == {"gid": seed.project, "name": "Developer Questions", "resource_type": "project"}
    assert hook["active"] is True and hook["target"] == hook_receiver.url and hook["last_success_at"] is None

    ana = emu.act(seed.human)
    task = ana.create_task("From the UI", section=seed.sections["Needs triage"])
    ana.comment(task, "Looking into it")
    ana.rename(task, "Renamed")  # filtered out: name is not in the fields allow-list
    await emu.deliveries_idle(timeout=5)

    batches = verified(hook_receiver, secret)
    assert len(batches) == 1, "events within the batch window share one POST"
    added_project, added_section, comment = batches[0]
    assert added_project["action"] == "added"
    assert added_project["parent"] == {"gid": seed.project, "resource_type": "project"}
    assert added_section["parent"] == {"gid": seed.sections["Needs triage"], "resource_type": "section"}
    assert added_project["resource"] == {"gid": task, "resource_type": "task", "resource_subtype": "default_task"}
    assert added_project["user"] == {"gid": seed.human, "resource_type": "user"}
    assert comment["resource"]["resource_type"] == "story"
    assert comment["resource"]["resource_subtype"] == "comment_added"
    assert comment["parent"] == {"gid": task, "resource_type": "task", "resource_subtype": "default_task"}
    assert "change" not in added_project

    # Changes made through the API reach the webhook too, with compact change values.
    tasks = asana.TasksApi(asana_client)
    await asyncio.to_thread(tasks.update_task, {"data": {"assignee": "bo@example.com", "completed": True}}, task, {})
    await emu.deliveries_idle(timeout=5)
    changed = verified(hook_receiver, secret)[1]
    assert [e["change"]["field"] for e in changed] == ["assignee", "completed"]
    assert changed[0]["change"] == {
        "field": "assignee",
        "action": "changed",
        "new_value": {"gid": seed.other_human, "resource_type": "user"},
    }
    assert changed[0]["user"] == {"gid": seed.bridge_user, "resource_type": "user"} and changed[0]["parent"] is None

    api = asana.WebhooksApi(asana_client)
    opts = {"resource": seed.project, "opt_fields": "last_success_at,target"}
    listed = await asyncio.to_thread(lambda: list(api.get_webhooks(seed.workspace, opts)))
    assert [h["gid"] for h in listed] == [hook["gid"]] and listed[0]["last_success_at"]
    assert_spec_clean(emu, oas_spec)


async def test_handshake_without_echo_fails_and_stores_nothing(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, hook_receiver: HookReceiver, oas_spec: OpenApiSpec
) -> None:
    hook_receiver.echo = False
    with pytest.raises(ApiException) as failed:
        await create_hook(asana_client, asana_seed.project, hook_receiver.url, [])
    assert failed.value.status == 400
    assert "handshake" in json.loads(failed.value.body)["errors"][0]["message"]
    assert len(hook_receiver.secrets) == 1  # it was asked
    assert asana_seed.emu.webhooks == []
    api = asana.WebhooksApi(asana_client)
    assert await asyncio.to_thread(lambda: list(api.get_webhooks(asana_seed.workspace, {}))) == []
    # An unreachable target fails the same way; workspace webhooks need filters.
    with pytest.raises(ApiException) as unreachable:
        await create_hook(asana_client, asana_seed.project, "http://127.0.0.1:9/nothing", [])
    assert unreachable.value.status == 400
    hook_receiver.echo = True
    with pytest.raises(ApiException) as unfiltered:
        await create_hook(asana_client, asana_seed.workspace, hook_receiver.url, [])
    assert unfiltered.value.status == 400
    with pytest.raises(ApiException) as bad_filter:
        await create_hook(asana_client, asana_seed.project, hook_receiver.url, [{"action": "added", "fields": ["x"]}])
    assert bad_filter.value.status == 400
    assert len(hook_receiver.secrets) == 1, "validation failures happen before any handshake"
    assert_spec_clean(asana_seed.emu, oas_spec)


async def test_failed_delivery_is_retried_until_it_succeeds(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, hook_receiver: HookReceiver, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    created = await create_hook(asana_client, seed.project, hook_receiver.url, [])
    gid, secret = created["data"]["gid"], created["X-Hook-Secret"]
    hook_receiver.status = 500
    task = emu.act(seed.human).create_task("Retry me", project=seed.project)
    await wait_for(lambda: len(hook_receiver.deliveries) >= 2)
    api = asana.WebhooksApi(asana_client)
    fields = "last_failure_at,last_failure_content,delivery_retry_count,next_attempt_after,failure_deletion_timestamp"
    failing = await asyncio.to_thread(api.get_webhook, gid, {"opt_fields": fields})
    assert failing["delivery_retry_count"] >= 1 and failing["last_failure_at"]
    assert failing["last_failure_content"].startswith("500 Internal Server Error")
    assert failing["failure_deletion_timestamp"] > failing["last_failure_at"]

    hook_receiver.status = 200
    await emu.deliveries_idle(timeout=5)
    batches = verified(hook_receiver, secret)
    assert all(batch == batches[0] for batch in batches), "a retry resends the same batch"
    assert [e["resource"]["gid"] for e in batches[-1]] == [task, task]
    healthy = await asyncio.to_thread(api.get_webhook, gid, {"opt_fields": "last_success_at,delivery_retry_count"})
    assert healthy["delivery_retry_count"] == 0 and healthy["last_success_at"]
    assert_spec_clean(emu, oas_spec)


async def test_webhook_deleted_after_a_day_of_failures(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, hook_receiver: HookReceiver, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    created = await create_hook(asana_client, seed.project, hook_receiver.url, [])
    hook_receiver.status = 503
    emu.act(seed.human).create_task("Nobody listens", project=seed.project)
    await wait_for(lambda: len(hook_receiver.deliveries) >= 1)
    assert emu.webhooks, "still retrying within the day"
    emu.advance(hours=25)
    await emu.deliveries_idle(timeout=5)
    assert emu.webhooks == []
    with pytest.raises(ApiException) as gone:
        await asyncio.to_thread(asana.WebhooksApi(asana_client).get_webhook, created["data"]["gid"], {})
    assert gone.value.status == 404
    assert_spec_clean(emu, oas_spec)


async def test_lost_deliveries_heartbeat_update_and_delete(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, hook_receiver: HookReceiver, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    created = await create_hook(asana_client, seed.project, hook_receiver.url, [{"resource_type": "task"}])
    gid, secret = created["data"]["gid"], created["X-Hook-Secret"]
    ana = emu.act(seed.human)
    emu.drop_deliveries(1)
    lost = ana.create_task("Lost in transit", project=seed.project)
    await emu.deliveries_idle(timeout=5)
    assert hook_receiver.deliveries == [] and emu.deliveries[-1].lost
    emu.heartbeat(gid)
    await emu.deliveries_idle(timeout=5)
    assert verified(hook_receiver, secret) == [[]]

    api = asana.WebhooksApi(asana_client)
    updated = await asyncio.to_thread(
        api.update_webhook,
        {"data": {"filters": [{"resource_type": "story", "action": "added"}]}},
        gid,
        {"opt_fields": "filters"},
    )
    assert updated["filters"] == [{"resource_type": "story", "action": "added"}]
    ana.complete(lost)  # a task change: filtered out now; its system story passes
    await emu.deliveries_idle(timeout=5)
    (story,) = verified(hook_receiver, secret)[1]
    assert story["resource"]["resource_subtype"] == "marked_complete"

    await asyncio.to_thread(api.delete_webhook, gid)
    ana.comment(lost, "after delete")
    await emu.deliveries_idle(timeout=5)
    assert len(hook_receiver.deliveries) == 2 and emu.webhooks == []
    assert_spec_clean(emu, oas_spec)
