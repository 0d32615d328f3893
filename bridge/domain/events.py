"""Asana webhook/Events API events: shape checks and the key that makes a resend harmless."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.domain.model import Delivery, InboxEvent, InboxSource, ProjectGid
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
        # Asana sends these as objects or null; anything else would break the key and the relay later, after the
        # delivery was answered, so it is refused now.
        for name in OPTIONAL_OBJECTS:
            if not isinstance(event.get(name), (Mapping, type(None))):
                raise MalformedEvents(f"events[{index}].{name} is not an object")
    return events


OPTIONAL_OBJECTS = ("parent", "user", "change")


def delivery_events(delivery: Delivery) -> list[InboxEvent]:
    """The inbox events of a delivery kept whole; its body was checked with `parse_delivery` when it arrived."""
    events = parse_delivery(json.loads(delivery.body))
    return to_inbox(events, project_gid=delivery.project_gid, source=InboxSource.WEBHOOK, now=delivery.received_at)


def dedupe_key(event: Mapping[str, Any]) -> str:
    """The same change seen twice (a resend, or webhook and Events API both) gets the same key.

    Asana documents no event id, so the key is a digest of (resource, action, parent, change, created_at, user),
    after the event's own `created_at`: keys then arrive in about the order they sort in, so the inbox's unique
    index grows at its end instead of touching a page per event (random keys cost most of each commit). Migration
    0014 gave stored events the same form.
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
    digest = hashlib.sha256(json.dumps(parts, sort_keys=nested).encode()).hexdigest()
    created_at = parts["created_at"]
    return f"{created_at[:KEY_TIME_CHARS] if isinstance(created_at, str) else ''}{KEY_SEPARATOR}{digest}"


KEY_TIME_CHARS = 40  # Asana's created_at has 24; a longer one is cut, so the key fits its column
KEY_SEPARATOR = "~"


def key_digest(key: str) -> str:
    """The digest part of a dedupe key (all of a key made before the time prefix): what identifies the event."""
    return key.rpartition(KEY_SEPARATOR)[2]


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
