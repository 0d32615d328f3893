"""A request the simulated Slack sent to the app (over HTTP or Socket Mode), and what the app answered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .models import JSON

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class SentRequest:
    """One request as Slack built it: `body` is the raw HTTP text that is signed, `payload` its decoded form
    (what a Socket Mode envelope carries)."""

    kind: str  # "event", "command", "interactive" or "url_verification"
    content_type: str
    body: str
    payload: JSON


@dataclass(frozen=True)
class Delivery:
    """The app's answer. `request` is None when Slack would not have sent anything (e.g. the bot is not in the
    channel or the app is not subscribed to the event); `timed_out` when no answer came within the ack window.
    Over Socket Mode an ack is status 200 with its payload as the body (plain text when it only has `text`),
    `envelope` is what went over the socket and `ack` what came back."""

    status: int
    headers: Mapping[str, str]
    body: str
    request: SentRequest | None
    elapsed: float = 0.0
    ts: str | None = None
    timed_out: bool = False
    envelope: JSON | None = None
    ack: JSON | None = None

    @property
    def delivered(self) -> bool:
        return self.request is not None

    def json(self) -> Any:
        return json.loads(self.body)


def skipped(ts: str | None = None) -> Delivery:
    return Delivery(status=0, headers={}, body="", request=None, ts=ts)
