"""Slack's per-channel pace kept in the database, so replicas share one channel's slots (PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import text

from bridge.adapters.store.base import SqlBase

# The database's clock decides, so replicas whose clocks differ a little still space their posts.
_RESERVE = text(
    """
    INSERT INTO slack_pace (channel_id, next_at) VALUES (:channel, clock_timestamp() + make_interval(secs => :gap))
    ON CONFLICT (channel_id) DO UPDATE
        SET next_at = GREATEST(slack_pace.next_at, clock_timestamp()) + make_interval(secs => :gap)
    RETURNING EXTRACT(EPOCH FROM (next_at - clock_timestamp())) - :gap AS wait
    """
)


class SqlSlackPace(SqlBase):
    async def reserve_post_slot(self, channel: str, interval: float) -> float:
        """Take the channel's next free slot `interval` seconds after the last one; seconds to wait for it."""
        if self._engine.dialect.name != "postgresql":
            raise NotImplementedError("one SQLite process paces its posts in memory")
        async with self._write() as conn:
            wait = (await conn.execute(_RESERVE, {"channel": channel, "gap": interval})).scalar_one()
        return max(0.0, float(wait))
