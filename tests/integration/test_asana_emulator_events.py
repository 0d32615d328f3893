"""The Asana emulator's Events API with the real client: 412 and a fresh token, then sync pages with has_more."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asana
import pytest
from asana.rest import ApiException

from bridge.sandbox.oas import OpenApiSpec
from tests import fixtures_asana
from tests.fixtures_asana import AsanaSeed, assert_spec_clean

# The fixtures, visible here even where tests/conftest.py does not register tests.fixtures_asana.
asana_seed = fixtures_asana.asana_seed
asana_client = fixtures_asana.asana_client
oas_spec = fixtures_asana.oas_spec


async def poll(events: asana.EventsApi, resource: str, sync: str | None) -> dict[str, Any]:
    opts = {"sync": sync} if sync else {}
    page: dict[str, Any] = await asyncio.to_thread(events.get_events, resource, opts, full_payload=True)
    return page


async def stale(events: asana.EventsApi, resource: str, sync: str | None) -> str:
    with pytest.raises(ApiException) as precondition:
        await poll(events, resource, sync)
    assert precondition.value.status == 412
    body = json.loads(precondition.value.body)
    assert body["errors"][0]["message"].startswith("Sync token invalid or too old")
    token: str = body["sync"]
    return token


async def test_sync_tokens_pages_and_expiry(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    events = asana.EventsApi(asana_client)
    token = await stale(events, seed.project, None)
    empty = await poll(events, seed.project, token)
    assert empty["data"] == [] and empty["has_more"] is False
    token = empty["sync"]

    ana = emu.act(seed.human)
    made = [ana.create_task(f"T{i}", section=seed.sections["P1"]) for i in range(60)]  # 120 events
    first = await poll(events, seed.project, token)
    assert len(first["data"]) == 100 and first["has_more"] is True
    again = await poll(events, seed.project, token)  # re-requesting the same token is safe
    assert again["data"] == first["data"]
    second = await poll(events, seed.project, first["sync"])
    assert len(second["data"]) == 20 and second["has_more"] is False
    seen = first["data"] + second["data"]
    assert [e["resource"]["gid"] for e in seen[::2]] == made
    assert [e["parent"]["resource_type"] for e in seen[:2]] == ["project", "section"]
    assert all(e["action"] == "added" and e["user"]["gid"] == seed.human for e in seen)

    # Another stream's token is not valid here; tokens expire (24 h by default).
    task_token = await stale(events, made[0], None)
    await stale(events, seed.project, task_token)
    emu.advance(hours=25)
    fresh = await stale(events, seed.project, second["sync"])
    assert fresh != second["sync"]
    emu.expire_sync_tokens()
    await stale(events, seed.project, fresh)
    assert_spec_clean(emu, oas_spec)


async def test_events_bubble_from_subtasks_and_comments(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    events = asana.EventsApi(asana_client)
    ana = emu.act(seed.human)
    parent = ana.create_task("Parent", project=seed.project)
    project_token = await stale(events, seed.project, None)
    task_token = await stale(events, parent, None)

    sub = ana.add_subtask(parent, "Child")
    ana.comment(sub, "on the child")
    ana.set_enum(parent, seed.priority_field, seed.priorities["P2"])
    ana.delete_task(sub)

    on_project = (await poll(events, seed.project, project_token))["data"]
    on_task = (await poll(events, parent, task_token))["data"]
    assert on_project == on_task  # the parent is in the project: both streams see the same things
    summary = [
        (
            e["action"],
            e["resource"]["resource_type"],
            (e.get("parent") or {}).get("resource_type"),
            (e.get("change") or {}).get("field"),
        )
        for e in on_project
    ]
    assert summary == [
        ("added", "task", "task", None),  # subtask added, parent = the task
        ("added", "story", "task", None),  # the comment on the subtask bubbles up
        ("changed", "task", None, "custom_fields"),
        ("added", "story", "task", None),  # enum_custom_field_changed story
        ("deleted", "task", None, None),
    ]
    change = on_project[2]["change"]
    assert change["new_value"]["gid"] == seed.priority_field
    assert change["new_value"]["enum_value"] == {"gid": seed.priorities["P2"], "resource_type": "enum_option"}

    # The client's own iterator swallows the first 412 and re-polls with the new token.
    before = len(emu.calls("GET", "^/events$"))
    assert await asyncio.to_thread(lambda: list(events.get_events(parent, {}))) == []
    assert [c.status for c in emu.calls("GET", "^/events$")[before:]] == [412, 200]
    assert_spec_clean(emu, oas_spec)
