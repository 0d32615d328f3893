"""A SQLite write done in one trip off the event loop: its own connection on a thread of its own.

Through SQLAlchemy a small write takes two trips to the connection's thread (sqlite_driver: BEGIN with the
statement, then COMMIT; it took eight through aiosqlite's own cursors), each waiting for the GIL while the loop
is busy serving requests, with the write lock held in between: under load one inbox commit held it for 7-13 ms while
doing under 1 ms of work. Here the whole transaction is one function run on one thread, answered with one wake-up of
the loop, and a batch of rows is one statement.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import URL, Dialect

from bridge.adapters.store.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB

T = TypeVar("T")
Statement = tuple[str, Sequence[Any]]  # SQL and its parameters

# SQLite's default cap on the variables of one statement (32,766) is far above what a chunk of rows uses here: a
# few hundred rows keep one statement's parsing short.
ROWS_PER_STATEMENT = 500


def sqlite_file(url: URL) -> str | None:
    """The file of a plain `sqlite+aiosqlite:///path` URL; None for anything else (memory, URI options, PostgreSQL),
    which keeps to SQLAlchemy."""
    if url.get_backend_name() != "sqlite" or url.query:
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class SqliteWriter:
    """Runs `fn(connection)` inside BEGIN IMMEDIATE … COMMIT on one connection and one thread, both its own.

    The caller holds the store's in-process writer lock, as for any write; other processes meet SQLite's lock and
    the same busy timeout as the engine's connections. The connection is tuned like theirs (WAL, NORMAL sync, a
    bounded page cache).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, fn)

    async def apply(self, statements: Sequence[Statement]) -> None:
        """Statements made on the loop, run in one transaction. A lone statement is run by itself (SQLite makes it its
        own transaction): the thread then takes the GIL back once, where BEGIN and COMMIT would each take it again,
        and each time wait up to a switch interval for the busy loop to hand it over, making every socket call of
        the loop's meanwhile a switch of threads."""
        if len(statements) == 1:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._lone, *statements[0])
        elif statements:
            await self.run(lambda conn: _each(conn, statements))

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` on the same thread, outside any transaction (reads only: each sees the last commit)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._plain, fn)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn if self._conn is not None else self._open()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # some errors end the transaction themselves
                conn.execute("ROLLBACK")
            raise
        return result

    def _lone(self, sql: str, params: Sequence[Any]) -> None:
        (self._conn if self._conn is not None else self._open()).execute(sql, params)

    def _plain(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return fn(self._conn if self._conn is not None else self._open())

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions, BEGIN is ours (as on the engine's connections).
        conn = sqlite3.connect(self._path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        self._conn = conn
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SqliteRows:
    """Rows of `table` in the bytes SQLAlchemy stores on SQLite (each column's own conversion), for hand-made SQL on a
    SqliteWriter's connection: a batch is one multi-row statement, so the thread lets go of the GIL once for it, not
    once a row as `executemany` does (each time waiting up to a switch interval for the busy loop to hand it back)."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self._table = table.name
        self._names = [column.name for column in table.columns]
        self._convert = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns]
        self._one_row = "(" + ", ".join("?" for _ in self._names) + ")"

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row as its stored values, in the table's column order. Every column must be given (no defaults).

        A value the rows share (the same object: a batch's moment, its team) is converted once: SQLAlchemy's date
        and time conversions are most of the cost of a storm's batch."""
        converted: dict[tuple[int, int], Any] = {}  # the objects are the rows' own, alive while this runs

        def stored(value: Any, convert: Callable[[Any], Any] | None) -> Any:
            if convert is None or value is None:
                return value
            key = (id(convert), id(value))
            known = converted.get(key)
            if known is None:
                known = converted[key] = convert(value)
            return known

        pairs = list(zip(self._names, self._convert, strict=True))
        return [tuple(stored(row[name], convert) for name, convert in pairs) for row in rows]

    def insert(self, params: Sequence[tuple[Any, ...]], *, unique: Sequence[str]) -> list[Statement]:
        """INSERT … ON CONFLICT (`unique`) DO NOTHING, a chunk of rows a statement (most often one)."""
        names, conflict = ", ".join(self._names), ", ".join(unique)
        statements: list[Statement] = []
        for start in range(0, len(params), ROWS_PER_STATEMENT):
            chunk = params[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(self._one_row for _ in chunk)
            sql = f"INSERT INTO {self._table} ({names}) VALUES {values} ON CONFLICT ({conflict}) DO NOTHING"
            statements.append((sql, [value for row in chunk for value in row]))
        return statements

    def delete(self, column: str, keys: Sequence[Any]) -> list[Statement]:
        """DELETE the rows whose `column` is one of `keys` (stored as they are: text and integer keys)."""
        statements: list[Statement] = []
        for start in range(0, len(keys), ROWS_PER_STATEMENT):
            chunk = keys[start : start + ROWS_PER_STATEMENT]
            marks = ", ".join("?" for _ in chunk)
            statements.append((f"DELETE FROM {self._table} WHERE {column} IN ({marks})", list(chunk)))
        return statements


def _each(conn: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    for sql, params in statements:
        conn.execute(sql, params)
