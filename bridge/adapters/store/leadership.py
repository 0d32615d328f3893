"""Which replica runs the jobs only one may run at a time (the nag scheduler).

On PostgreSQL, a session advisory lock held on a connection of its own: it is released the moment the holder's
process dies or its connection drops, and another replica takes over at its next attempt. SQLite serves a single
process, which always leads.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.adapters.store.base import SqlBase

log = logging.getLogger(__name__)


class SqlLeadership(SqlBase):
    _held: dict[str, AsyncConnection]

    async def lead(self, role: str) -> bool:
        """True while this process holds `role`; tries to take it when nobody does."""
        if self._engine.dialect.name != "postgresql":
            return True
        held = self._holders().get(role)
        if held is not None:
            try:
                await held.execute(text("SELECT 1"))
                await held.commit()
                return True
            except DBAPIError:
                log.warning("lost the connection holding %s; trying to take it again", role)
                await self._let_go(role)
        conn = await self._engine.connect()
        try:
            taken = bool((await conn.execute(select(func.pg_try_advisory_lock(_lock_id(role))))).scalar())
            await conn.commit()  # the lock is the session's: it outlives the transaction, which must not idle open
        except BaseException:
            await conn.close()
            raise
        if not taken:
            await conn.close()
            return False
        log.info("this replica now runs %s", role)
        self._holders()[role] = conn
        return True

    async def let_go_of_everything(self) -> None:
        for role in list(self._holders()):
            await self._let_go(role)

    async def _let_go(self, role: str) -> None:
        conn = self._holders().pop(role, None)
        if conn is not None:
            with contextlib.suppress(DBAPIError):
                await conn.close()  # closing the session releases its advisory locks

    def _holders(self) -> dict[str, AsyncConnection]:
        if not hasattr(self, "_held"):
            self._held = {}
        return self._held


def _lock_id(role: str) -> int:
    """A stable signed 64-bit lock id per role name."""
    return int.from_bytes(hashlib.sha256(f"slack-asana-bridge:{role}".encode()).digest()[:8], "big", signed=True)
