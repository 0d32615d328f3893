"""/task commands acked and not finished yet: held by whoever works on one, left to a sweeper by a crash."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, or_, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.shared_limits import held_by_the_silent
from bridge.adapters.store.sqlite_writer import SqliteRows
from bridge.adapters.store.tables import pending_commands
from bridge.domain.model import ChannelId, Holder, PendingCommand, SlackUserId, TeamId


class SqlPendingCommands(SqlBase):
    async def keep_commands(
        self, commands: Sequence[PendingCommand], *, held_until: datetime, held_by: str | None = None
    ) -> None:
        """Keep acked /task commands, in one transaction, held by the caller (the replica `held_by`) until
        `held_until` (each kept once: Slack sends a command once). A storm of them is when keeping each matters most,
        and when the loop has least time to spare: on a SQLite file the batch is one statement on the store's
        one-trip writer."""
        if not commands:
            return
        rows = [{**_values(command), "held_until": held_until, "held_by": held_by} for command in commands]
        if (writer := self._one_trip()) is not None:
            assert self._one_writer is not None
            table = self._command_rows()
            statements = table.insert(table.params(rows), unique=["request_key"])
            async with self._one_writer:
                await writer.apply(statements)
            return
        async with self._write() as conn:
            await conn.execute(
                dialect_insert(conn, pending_commands).on_conflict_do_nothing(index_elements=["request_key"]), rows
            )

    async def take_stale_commands(
        self, *, now: datetime, hold_until: datetime, limit: int, holder: Holder | None = None
    ) -> list[PendingCommand]:
        """Up to `limit` kept commands nobody holds any more (oldest first): their hold ran out, or (with a
        `holder`) the replica holding them stopped heartbeating. Now held by the caller until `hold_until`; on
        PostgreSQL two replicas never take the same one."""
        free = or_(pending_commands.c.held_until < now, held_by_the_silent(pending_commands.c.held_by, now, holder))
        stale = (
            select(pending_commands.c.request_key)
            .where(free)
            .order_by(pending_commands.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._write() as conn:
            rows = await conn.execute(
                update(pending_commands)
                .where(pending_commands.c.request_key.in_(stale.scalar_subquery()), free)
                .values(held_until=hold_until, held_by=None if holder is None else holder.replica_id)
                .returning(*pending_commands.c)
            )
            return sorted((_command(row) for row in rows), key=lambda c: c.created_at)

    async def forget_command(self, request_key: str) -> None:
        """Forget a command that ended. Commands ending together are forgotten in one transaction."""
        await self._grouped("pending-commands-forget", self._forget_commands).add(request_key)

    async def _forget_commands(self, keys: list[str]) -> list[None]:
        if (writer := self._one_trip()) is not None:
            assert self._one_writer is not None
            statements = self._command_rows().delete("request_key", keys)
            async with self._one_writer:
                await writer.apply(statements)
        else:
            async with self._write() as conn:
                await conn.execute(delete(pending_commands).where(pending_commands.c.request_key.in_(keys)))
        return [None] * len(keys)

    def _command_rows(self) -> SqliteRows:
        rows: SqliteRows | None = getattr(self, "_pending_command_rows", None)
        if rows is None:
            rows = self._pending_command_rows = SqliteRows(pending_commands, self._engine.dialect)
        return rows


def _values(command: PendingCommand) -> dict[str, Any]:
    return {
        "request_key": command.request_key,
        "team_id": command.team_id,
        "channel_id": command.channel_id,
        "requester": command.requester,
        "title": command.title,
        "notes": command.notes,
        "assignee": command.assignee,
        "due": command.due,
        "priority": command.priority,
        "created_at": command.created_at,
    }


def _command(row: Row[Any]) -> PendingCommand:
    m = row._mapping
    return PendingCommand(
        request_key=m["request_key"],
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        requester=SlackUserId(m["requester"]),
        title=m["title"],
        notes=m["notes"],
        assignee=SlackUserId(m["assignee"]) if m["assignee"] else None,
        due=m["due"],
        priority=m["priority"],
        created_at=m["created_at"],
    )
