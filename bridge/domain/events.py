"""Asana webhook/Events API events: shape checks and the key that makes a resend harmless."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.domain.model import InboxEvent, InboxSource, ProjectGid
from bridge.domain.relay import task_of


class MalformedEvents(ValueError):
    """A delivery body that is not `{"events": [event, ...]}`."""


def parse_delivery(body: Any) -> list[Mapping[str, Any]]:
    """The events of a webhook delivery body (already JSON-decoded); raise MalformedEvents otherwise."""
    if not isinstance(body, Mapping) or not isinstance(body.get("events"), list):
        raise MalformedEvents('expected a JSON object with an "events" list')
    events: list[Mapping[str, Any]] = body["events"]
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise MalformedEvents(f"events[{index}] is not an object")
        resource = event.get("resource")
        if not isinstance(resource, Mapping) or not isinstance(resource.get("gid"), str):
            raise MalformedEvents(f"events[{index}].resource.gid is missing")
        if not isinstance(event.get("action"), str):
            raise MalformedEvents(f"events[{index}].action is missing")
    return events


def dedupe_key(event: Mapping[str, Any]) -> str:
    """The same change seen twice (a resend, or webhook and Events API both) gets the same key.

    Asana documents no event id, so the key is (resource, action, parent, change, created_at, user).
    """
    change = event.get("change") or {}
    # Keys in sorted order, so that the default encoder writes what json.dumps(sort_keys=True) wrote when the keys
    # of stored events were made (a new encoder per call, as sort_keys needs, was most of this function's cost).
    parts = {
        "action": event.get("action"),
        "change_action": change.get("action"),
        "created_at": event.get("created_at"),
        "field": change.get("field"),
        "parent": (event.get("parent") or {}).get("gid"),
        "resource": (event.get("resource") or {}).get("gid"),
        "user": (event.get("user") or {}).get("gid"),
        "value": _value_gid(change),
    }
    nested = any(isinstance(value, (dict, list)) for value in parts.values())  # only in odd deliveries
    return hashlib.sha256(json.dumps(parts, sort_keys=nested).encode()).hexdigest()


def _value_gid(change: Mapping[str, Any]) -> str | None:
    for key in ("new_value", "added_value", "removed_value"):
        value = change.get(key)
        if isinstance(value, Mapping):
            return str(value.get("gid"))
        if value is not None:
            return str(value)
    return None


def to_inbox(
    events: Sequence[Mapping[str, Any]], *, project_gid: ProjectGid, source: InboxSource, now: datetime
) -> list[InboxEvent]:
    return [
        InboxEvent(
            dedupe_key=dedupe_key(event),
            source=source,
            project_gid=project_gid,
            resource_gid=str(event["resource"]["gid"]),
            resource_type=str(event["resource"].get("resource_type", "")),
            action=str(event["action"]),
            payload=dict(event),
            received_at=now,
            task_gid=task_of(event),
        )
        for event in events
    ]
