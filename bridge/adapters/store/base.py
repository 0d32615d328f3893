"""What every SQL repository shares: the engine, a reader and a writer transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bridge.adapters.store.crypto import Cipher
from bridge.adapters.store.engine import writer
from bridge.adapters.store.group_commit import GroupCommit
from bridge.adapters.store.sqlite_writer import SqliteWriter, sqlite_file

T = TypeVar("T")
R = TypeVar("R")


class SqlBase:
    """Holds the engine; each store method runs in exactly one `_read()` or `_write()` transaction."""

    _one_trip_writer: SqliteWriter | None

    def __init__(self, engine: AsyncEngine, *, cipher: Cipher | None = None) -> None:
        self._engine = engine
        self._cipher = cipher  # seals secrets at rest (BRIDGE_ENCRYPTION_KEY); None: stored as they are
        self._writer = writer(engine)
        # SQLite lets one writer in at a time and makes the others sleep in its busy handler (up to 100 ms a try):
        # in one process, queueing writers here is much faster. Other processes still meet the busy timeout.
        self._one_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._group_commits: dict[str, GroupCommit[Any, Any]] = {}

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def _grouped(self, name: str, commit: Callable[[list[T]], Awaitable[Sequence[R]]]) -> GroupCommit[T, R]:
        """The group commit named `name` (made at first use): writes of that kind arriving together share one
        transaction."""
        group = self._group_commits.get(name)
        if group is None:
            group = self._group_commits[name] = GroupCommit(commit, name=name)
        return group

    async def finish_group_commits(self) -> None:
        """Let the commits in progress finish (before the connections they use are closed)."""
        for group in list(self._group_commits.values()):
            await group.finish()

    def _one_trip(self) -> SqliteWriter | None:
        """The store's one-trip writer on a SQLite file (see sqlite_writer), made at first use; None on PostgreSQL and
        in-memory SQLite (they keep to SQLAlchemy), or once closed. Whoever writes through it holds `_one_writer`."""
        if not hasattr(self, "_one_trip_writer"):
            path = sqlite_file(self._engine.url)
            self._one_trip_writer = SqliteWriter(path) if path else None
        return self._one_trip_writer

    async def close_one_trip_writer(self) -> None:
        writer: SqliteWriter | None = getattr(self, "_one_trip_writer", None)
        if writer is not None:
            self._one_trip_writer = None
            await writer.close()

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
