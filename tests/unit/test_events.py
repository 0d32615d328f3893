"""Delivery parsing and the de-duplication key of Asana events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.domain.events import MalformedEvents, dedupe_key, key_digest, parse_delivery, to_inbox
from bridge.domain.model import InboxSource, ProjectGid

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "specs" / "asana-samples"
BASE: dict[str, Any] = {
    "user": {"gid": "1", "resource_type": "user"},
    "created_at": "2026-11-30T14:00:00.000Z",
    "action": "changed",
    "resource": {"gid": "10", "resource_type": "task"},
    "parent": None,
    "change": {"field": "assignee", "action": "changed", "new_value": {"gid": "2", "resource_type": "user"}},
}


@pytest.mark.parametrize("case", ["task_created_in_project", "subtask_created"])
def test_the_recorded_delivery_samples_parse(case: str) -> None:
    sample = json.loads((SAMPLES / "webhook-delivery-task-created-in-project-section.json").read_text())
    events = parse_delivery(sample[case])
    inbox = to_inbox(events, project_gid=ProjectGid("1"), source=InboxSource.WEBHOOK, now=datetime.now(UTC))
    assert len(inbox) == len(events) >= 1
    assert len({e.dedupe_key for e in inbox}) == len(inbox)  # added-to-project and added-to-section differ


def test_events_api_sample_parses() -> None:
    sample = json.loads((SAMPLES / "events-get-200.json").read_text())
    body = sample.get("body", sample)
    assert parse_delivery({"events": body["data"]})


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (dict(BASE), True),
        ({**BASE, "resource": {"gid": "10", "resource_type": "task", "resource_subtype": "default_task"}}, True),
        ({**BASE, "created_at": "2026-11-30T14:00:01.000Z"}, False),
        ({**BASE, "resource": {"gid": "11", "resource_type": "task"}}, False),
        ({**BASE, "change": {**BASE["change"], "field": "due_on"}}, False),
        ({**BASE, "change": {**BASE["change"], "new_value": {"gid": "3", "resource_type": "user"}}}, False),
        ({**BASE, "user": None}, False),
        ({**BASE, "action": "added", "change": None, "parent": {"gid": "5", "resource_type": "project"}}, False),
    ],
)
def test_dedupe_key(other: dict[str, Any], same: bool) -> None:
    assert (dedupe_key(other) == dedupe_key(BASE)) is same


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (BASE, "2026-11-30T14:00:00.000Z~87d91e26f5de3ee9292aca6b47a96edac2c70f1a11c95360e07745dd05673fe8"),
        (
            {**BASE, "created_at": {"b": 1, "a": [{"z": 1, "y": 2}]}},
            "~ffbb85009ec4ed2b0eab92398ee688e35d64264329f9210c9fb13fe5cab278f0",
        ),
        (
            {**BASE, "created_at": "2026-11-30T14:00:00.000Z" + "0" * 30},
            "2026-11-30T14:00:00.000Z0000000000000000~177aec777dabb6406542ed2e3a93d2b1313f52c5b2fd4468f9a5366945db3cab",
        ),
    ],
    ids=["asana", "odd-created-at", "long-created-at"],
)
def test_dedupe_keys_stay_what_stored_events_have(event: dict[str, Any], key: str) -> None:
    # Keys of events already in an inbox were made this way (migration 0014 put the time before the digests made
    # until then, which these digests are); a different key would let a resend through.
    assert dedupe_key(event) == key
    assert len(key) <= 255  # the column


def test_keys_sort_in_time_order_and_give_back_their_digest() -> None:
    times = ["2026-11-30T14:00:00.000Z", "2026-11-30T14:00:00.001Z", "2026-11-30T14:00:01.000Z"]
    keys = [dedupe_key({**BASE, "created_at": t, "resource": {"gid": str(99 - i)}}) for i, t in enumerate(times)]
    assert sorted(keys) == keys
    assert [key_digest(k) for k in keys] == [k.split("~")[1] for k in keys]
    assert key_digest("87d91e26f5de3ee9292aca6b47a96edac2c70f1a11c95360e07745dd05673fe8").startswith("87d91e")
    assert key_digest(dedupe_key({**BASE, "created_at": "a~b"})) == dedupe_key({**BASE, "created_at": "a~b"})[4:]


@pytest.mark.parametrize(
    "body",
    [None, [], {"events": None}, {"events": [1]}, {"events": [{"action": "added"}]}, {"events": [{"resource": {}}]}],
)
def test_malformed_deliveries(body: Any) -> None:
    with pytest.raises(MalformedEvents):
        parse_delivery(body)
