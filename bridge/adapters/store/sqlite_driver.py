"""aiosqlite, one trip to its thread per statement instead of four.

aiosqlite runs each call on the connection's own thread: SQLAlchemy's adapter makes a cursor, executes, fetches and
closes it, each a trip, and our BEGIN is a statement of its own; a one-row read or write came to about eight trips.
Each trip wakes that thread, which then waits for the GIL while the loop is busy serving requests: during a storm of
/task the bridge's database threads switched in and out about six times a trip, over a thousand times a second.
Here a statement is executed and its rows fetched in one trip (a large result in chunks,
as SQLAlchemy's streamed results read it), a BEGIN goes with the statement that follows it, and a commit or
rollback with no transaction open (sqlite3 would do nothing) makes no trip. What SQL runs, and in what order, is
unchanged: a read is BEGIN + SELECT, then ROLLBACK; a write BEGIN IMMEDIATE + its statements, then COMMIT.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

# Rows fetched in the statement's own trip; a larger result comes in further trips of this many (streamed reports
# read 100k rows without holding them all).
CHUNK_ROWS = 500

# The transaction starts engine.py's "begin" hook emits: deferred to the next trip on the connection.
BEGINS = frozenset({"BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})

Description = tuple[tuple[Any, ...], ...] | None


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip per statement (see the module's docstring)."""

    _begin: str | None = None  # a BEGIN asked for and not yet run
    # Calls queued to the thread, and calls it finished (each counter written by one thread only): a caller cancelled
    # while its call runs leaves it running, and a rollback then must queue behind it, as aiosqlite's own would.
    _queued = 0
    _finished = 0

    def cursor(self) -> OneTripCursor:  # type: ignore[override]  # aiosqlite's makes the cursor in a trip
        return OneTripCursor(self)

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        trip: Callable[..., Awaitable[T]] = super()._execute  # aiosqlite's: queue `fn` to the thread, await it
        begin, self._begin = self._begin, None
        self._queued += 1
        return await trip(self._run, begin, partial(fn, *args, **kwargs))

    def _run(self, begin: str | None, fn: Callable[[], T]) -> T:
        try:
            if begin is not None:
                self._conn.execute(begin)
            return fn()
        finally:
            self._finished += 1

    async def commit(self) -> None:
        if self._open_transaction():
            await super().commit()

    async def rollback(self) -> None:
        if self._open_transaction():
            await super().rollback()

    async def close(self) -> None:
        self._begin = None
        await super().close()

    def _open_transaction(self) -> bool:
        """Whether a commit or rollback has anything to end (if unsure: yes). Asked on the loop's thread once no
        call of this connection is queued or running; sqlite3 answers it from SQLite's own state."""
        if self._begin is not None:
            self._begin = None  # asked for and never used: there is nothing to end
            return False
        connection = self._connection
        if connection is None or self._finished != self._queued:
            return True  # closed (aiosqlite says so), or a call still on its way: end it behind that call
        return connection.in_transaction


class OneTripCursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives: each statement's rows fetched in the trip that runs it."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self._open: sqlite3.Cursor | None = None  # a result with rows left to fetch
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> OneTripCursor:
        await self.close()
        if sql in BEGINS and not parameters:
            self._connection._begin = sql
            self.description, self.rowcount, self.lastrowid = None, -1, None
            return self
        self._took(await self._connection._execute(self._run, sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any] | dict[str, Any]]) -> OneTripCursor:
        await self.close()
        self._took(await self._connection._execute(self._run, sql, parameters, many=True))
        return self

    async def fetchone(self) -> Any:
        if not self._rows and self._open is not None:
            await self._fetch_more()
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self.arraysize if size is None else size
        while len(self._rows) < wanted and self._open is not None:
            await self._fetch_more()
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        while self._open is not None:
            await self._fetch_more()
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()
        if self._open is not None:
            cursor, self._open = self._open, None
            await self._connection._execute(cursor.close)

    # On the connection's thread: run, fetch the first chunk, close the cursor once its rows are all read.

    def _run(self, sql: str, parameters: Any, *, many: bool = False) -> tuple[Any, ...]:
        cursor = self._connection._conn.cursor()
        try:
            (cursor.executemany if many else cursor.execute)(sql, parameters)
        except BaseException:
            cursor.close()
            raise
        return self._chunk(cursor)

    def _chunk(self, cursor: sqlite3.Cursor) -> tuple[Any, ...]:
        try:
            rows = cursor.fetchmany(CHUNK_ROWS) if cursor.description is not None else []
        except BaseException:
            cursor.close()
            raise
        more = len(rows) == CHUNK_ROWS
        if not more:
            cursor.close()
        # rowcount counts a RETURNING statement's rows as they are fetched: read it after the fetch.
        return rows, cursor.description, cursor.rowcount, cursor.lastrowid, cursor if more else None

    # Back on the loop.

    def _took(self, taken: tuple[Any, ...]) -> None:
        rows, self.description, self.rowcount, self.lastrowid, self._open = taken
        self._rows.extend(rows)

    async def _fetch_more(self) -> None:
        cursor = self._open
        assert cursor is not None
        self._open = None
        rows, _, self.rowcount, _, self._open = await self._connection._execute(self._chunk, cursor)
        self._rows.extend(rows)


async def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """Open `database` as aiosqlite.connect would, with `kwargs` for sqlite3.connect."""
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy makes aiosqlite's: a connection left open never holds the exit
    await connection  # starts its thread and connects there
    return connection
