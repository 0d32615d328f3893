"""Limits replicas share through the database: Slack's per-channel pace (PostgreSQL) and who is running (for
Asana's per-token quota)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, false, func, select, text

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import replicas
from bridge.domain.model import Holder

# The database's clock decides, so replicas whose clocks differ a little still space their posts.
_RESERVE = text(
    """
    INSERT INTO slack_pace (channel_id, next_at) VALUES (:channel, clock_timestamp() + make_interval(secs => :gap))
    ON CONFLICT (channel_id) DO UPDATE
        SET next_at = GREATEST(slack_pace.next_at, clock_timestamp()) + make_interval(secs => :gap)
    RETURNING EXTRACT(EPOCH FROM (next_at - clock_timestamp())) - :gap AS wait
    """
)


def held_by_the_silent(held_by: ColumnElement[str | None], now: datetime, holder: Holder | None) -> ColumnElement[bool]:
    """Rows held by another replica that has not heartbeated within the holder's window (its id is gone from the
    replicas, or its last beat is older): their work is free for the holder. Its own rows are its own business."""
    if holder is None:
        return false()
    alive = select(replicas.c.replica_id).where(replicas.c.seen_at >= now - holder.alive_within)
    return and_(held_by.is_not(None), held_by != holder.replica_id, held_by.not_in(alive.scalar_subquery()))


class SqlSharedLimits(SqlBase):
    async def reserve_post_slot(self, channel: str, interval: float) -> float:
        """Take the channel's next free slot `interval` seconds after the last one; seconds to wait for it."""
        if self._engine.dialect.name != "postgresql":
            raise NotImplementedError("one SQLite process paces its posts in memory")
        async with self._write() as conn:
            wait = (await conn.execute(_RESERVE, {"channel": channel, "gap": interval})).scalar_one()
        return max(0.0, float(wait))

    async def heartbeat(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> int:
        """Say this replica is alive; how many replicas (itself included) were seen within `alive_within`.
        Replicas gone for ten times that are forgotten."""
        async with self._write() as conn:
            stmt = dialect_insert(conn, replicas).values(replica_id=replica_id, seen_at=now)
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["replica_id"], set_={"seen_at": stmt.excluded.seen_at})
            )
            await conn.execute(delete(replicas).where(replicas.c.seen_at < now - 10 * alive_within))
            alive = await conn.scalar(
                select(func.count()).select_from(replicas).where(replicas.c.seen_at >= now - alive_within)
            )
        return max(1, int(alive or 0))

    async def replica_alive(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> bool:
        """Whether the replica has heartbeated within `alive_within`."""
        async with self._read() as conn:
            seen = await conn.scalar(select(replicas.c.seen_at).where(replicas.c.replica_id == replica_id))
        return seen is not None and seen >= now - alive_within

    async def leave(self, replica_id: str) -> None:
        """A replica stopping: the others take its share at their next heartbeat."""
        async with self._write() as conn:
            await conn.execute(delete(replicas).where(replicas.c.replica_id == replica_id))
