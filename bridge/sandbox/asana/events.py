"""The event log behind GET /events (sync tokens that expire) and the feed into webhook deliveries."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.sandbox.asana.clock import Clock
from bridge.sandbox.asana.errors import ApiError
from bridge.sandbox.asana.model import Event

STALE_SYNC_MESSAGE = (
    "Sync token invalid or too old. If you are attempting to keep resources in sync, you must fetch the full "
    "dataset for this query now and use the new sync token for the next sync."
)
EVENTS_PER_PAGE = 100  # GET /events returns at most 100 events per call
# Asana keeps events retrievable for 24 h; tokens may expire sooner under load.
SYNC_TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class _Logged:
    seq: int
    event: Event
    targets: frozenset[str]


@dataclass(frozen=True)
class _SyncToken:
    resource: str
    position: int
    issued_at: datetime


class EventHub:
    """Append-only event log; each event carries the resources it bubbles up to."""

    def __init__(self, clock: Clock, on_publish: Callable[[Event, frozenset[str]], None]) -> None:
        self._clock = clock
        self._on_publish = on_publish
        self._log: list[_Logged] = []
        self._tokens: dict[str, _SyncToken] = {}
        self.sync_token_ttl = SYNC_TOKEN_TTL

    @property
    def events(self) -> list[Event]:
        return [entry.event for entry in self._log]

    def publish(self, event: Event, targets: set[str] | frozenset[str]) -> None:
        frozen = frozenset(targets)
        self._log.append(_Logged(len(self._log) + 1, event, frozen))
        self._on_publish(event, frozen)

    def expire_sync_tokens(self) -> None:
        """Forget every token so the next poll of each stream gets a 412 (as after an Asana incident)."""
        self._tokens.clear()

    def _issue(self, resource: str, position: int) -> str:
        token = secrets.token_hex(16)
        self._tokens[token] = _SyncToken(resource, position, self._clock.now())
        return token

    def poll(self, resource: str, sync: str | None) -> tuple[list[Event], str, bool]:
        """Events for `resource` after the token; a missing, foreign or stale token raises the 412."""
        token = self._tokens.get(sync) if sync else None
        if token is not None and self._clock.now() - token.issued_at > self.sync_token_ttl:
            del self._tokens[sync or ""]
            token = None
        if token is None or token.resource != resource:
            fresh = self._issue(resource, len(self._log))
            raise ApiError(412, STALE_SYNC_MESSAGE, extra={"sync": fresh})
        matching = [e for e in self._log[token.position :] if resource in e.targets]
        page = matching[:EVENTS_PER_PAGE]
        has_more = len(matching) > EVENTS_PER_PAGE
        position = page[-1].seq if has_more else len(self._log)
        return [e.event for e in page], self._issue(resource, position), has_more
