"""What every SQL repository shares: the engine, a reader and a writer transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bridge.adapters.store.crypto import Cipher
from bridge.adapters.store.engine import writer


class SqlBase:
    """Holds the engine; each store method runs in exactly one `_read()` or `_write()` transaction."""

    def __init__(self, engine: AsyncEngine, *, cipher: Cipher | None = None) -> None:
        self._engine = engine
        self._cipher = cipher  # seals secrets at rest (BRIDGE_ENCRYPTION_KEY); None: stored as they are
        self._writer = writer(engine)
        # SQLite lets one writer in at a time and makes the others sleep in its busy handler (up to 100 ms a try):
        # in one process, queueing writers here is much faster. Other processes still meet the busy timeout.
        self._one_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self._one_writer is None:
            async with self._writer.begin() as conn:
                yield conn
            return
        async with self._one_writer, self._writer.begin() as conn:
            yield conn
