"""Slack's rate limits: chat.postMessage about one message per second per channel with a short burst, and
optional per-method tiers (docs.slack.dev/apis/web-api/rate-limits). Exceeding them answers 429 + Retry-After."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .ids import Clock

# Requests per minute for each tier, and each method's tier (docs.slack.dev method metadata).
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.unfurl": 3,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.members": 4,
    "conversations.join": 3,
    "conversations.open": 3,
    "reactions.add": 3,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
}


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimits:
    """Token buckets keyed by (team, channel) for posting and by (team, method) for tiers."""

    def __init__(
        self,
        clock: Clock,
        *,
        enabled: bool = True,
        per_second: float = 1.0,
        burst: int = 4,
        tiers: bool = False,
    ) -> None:
        self.clock = clock
        self.enabled = enabled
        self.per_second = per_second
        self.burst = burst
        self.tiers = tiers
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(self, team_id: str, method: str, channel: str | None) -> int | None:
        """Take one request's allowance; return the Retry-After seconds when there is none left."""
        if not self.enabled:
            return None
        if method == "chat.postMessage" and channel:
            return self._take((team_id, f"post:{channel}"), capacity=self.burst, rate=self.per_second)
        tier = METHOD_TIERS.get(method)
        if self.tiers and tier:
            per_minute = TIER_PER_MINUTE[tier]
            return self._take((team_id, method), capacity=per_minute, rate=per_minute / 60)
        return None

    def reset(self) -> None:
        self._buckets.clear()

    def _take(self, key: tuple[str, str], *, capacity: float, rate: float) -> int | None:
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(tokens=capacity, updated=now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / rate))
