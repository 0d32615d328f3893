"""How long a failed relay waits before its next try (services/inbox.py, retry_delay): seconds for an API having a bad
minute, a 429's Retry-After when longer, and a doubling wait for anything else (a poison event)."""

from __future__ import annotations

import pytest

from bridge.errors import AsanaRateLimited, AsanaUnavailable, SlackError
from bridge.services.inbox import retry_delay
from bridge.services.outbox import PostInFlight, ThreadNotReady

CASES = [
    (AsanaUnavailable("503"), 1, 1.0),
    (AsanaUnavailable("503"), 2, 2.0),
    (AsanaUnavailable("503"), 3, 4.0),
    (AsanaUnavailable("503"), 4, 8.0),
    (AsanaUnavailable("503"), 20, 8.0),
    (SlackError("chat.postMessage: fatal_error", status=500, retryable=True), 5, 8.0),
    (SlackError("chat.postMessage: ratelimited", status=429, retryable=True, retry_after=30), 1, 30.0),
    (AsanaRateLimited("429", retry_after=3), 1, 3.0),
    (AsanaRateLimited("429", retry_after=3), 4, 8.0),
    (ThreadNotReady("T1"), 2, 2.0),
    (PostInFlight("k"), 1, 1.0),
    (ValueError("a bug"), 1, 2.0),
    (ValueError("a bug"), 5, 32.0),
    (ValueError("a bug"), 20, 256.0),
]


@pytest.mark.parametrize(("exc", "attempts", "expected"), CASES)
def test_retry_delay(exc: Exception, attempts: int, expected: float) -> None:
    assert retry_delay(exc, attempts) == expected
