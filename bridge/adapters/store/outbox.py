"""The outbox: a Slack post is recorded (with its key) before it is sent, and marked sent with its ts after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import outbox
from bridge.domain.model import ChannelId, MessageTs, OutboxPost, OutboxState, TeamId


class SqlOutbox(SqlBase):
    async def add_outbox_post(self, post: OutboxPost) -> bool:
        async with self._write() as conn:
            stmt = (
                dialect_insert(conn, outbox)
                .values(
                    post_key=post.post_key,
                    team_id=post.team_id,
                    channel_id=post.channel_id,
                    thread_ts=post.thread_ts,
                    payload=post.payload,
                    state=OutboxState(post.state).value,
                    created_at=post.created_at,
                    sent_at=None,
                    message_ts=post.message_ts,
                    sender=post.sender,
                )
                .on_conflict_do_nothing(index_elements=["post_key"])
                .returning(outbox.c.post_key)
            )
            return (await conn.execute(stmt)).first() is not None

    async def mark_outbox_sent(self, post_key: str, message_ts: MessageTs) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.post_key == post_key)
                .values(state=OutboxState.SENT.value, message_ts=message_ts, sent_at=datetime.now(UTC))
            )

    async def take_outbox_post(self, previous: OutboxPost, *, sender: str | None, now: datetime) -> bool:
        """Make `sender` the one sending a pending post, if nobody took it since `previous` was read."""
        async with self._write() as conn:
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.post_key == previous.post_key,
                    outbox.c.state == OutboxState.PENDING.value,
                    outbox.c.created_at == previous.created_at,
                    outbox.c.sender.is_(None) if previous.sender is None else outbox.c.sender == previous.sender,
                )
                .values(sender=sender, created_at=now)
            )
            return bool(result.rowcount == 1)

    async def pending_outbox_posts(self, *, limit: int) -> list[OutboxPost]:
        stmt = (
            select(outbox)
            .where(outbox.c.state == OutboxState.PENDING.value)
            .order_by(outbox.c.created_at, outbox.c.post_key)
            .limit(limit)
        )
        async with self._read() as conn:
            return [_post(row) for row in await conn.execute(stmt)]

    async def get_outbox_post(self, post_key: str) -> OutboxPost | None:
        async with self._read() as conn:
            row = (await conn.execute(select(outbox).where(outbox.c.post_key == post_key))).first()
        return None if row is None else _post(row)


def _post(row: Row[Any]) -> OutboxPost:
    m = row._mapping
    return OutboxPost(
        post_key=m["post_key"],
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        thread_ts=None if m["thread_ts"] is None else MessageTs(m["thread_ts"]),
        payload=m["payload"],
        state=OutboxState(m["state"]),
        created_at=m["created_at"],
        message_ts=None if m["message_ts"] is None else MessageTs(m["message_ts"]),
        sender=m["sender"],
    )
