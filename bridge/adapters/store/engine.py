"""Engines for the store: one URL, SQLite or PostgreSQL, tuned so both keep the store's guarantees."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.schema import Table

from bridge.adapters.store import sqlite_driver

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///bridge.db"

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock when the transaction starts.
SQLITE_BEGIN = "bridge_sqlite_begin"

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Each connection's page cache, in KiB. SQLite's default (2 MiB) fills as the file grows, once per connection (the
# pool's, the inbox writers'), and stays: the soak bench saw the process grow all hour. The bridge's reads are
# index lookups and pages of at most a few hundred rows; the file's pages are in the OS's cache anyway.
SQLITE_CACHE_KIB = 512

SUPPORTED_DIALECTS = frozenset({"sqlite", "postgresql"})


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for `url`; SQLite connections get WAL, a busy timeout, foreign keys and real BEGINs."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg")
    # Bound parameters include webhook secrets; keep them out of logs and exception messages.
    kwargs.setdefault("hide_parameters", True)
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    else:
        # The driver's own busy timeout covers the dialect's first queries too, before our connect hook runs.
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000} | kwargs.pop("connect_args", {})
        args, url_args = parsed.get_dialect()().create_connect_args(parsed)
        kwargs["async_creator"] = partial(sqlite_driver.connect, *args, **(url_args | connect_args))
    engine = create_async_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        tune_sqlite(engine)
    return engine


def tune_sqlite(engine: AsyncEngine) -> None:
    # The sqlite3 module opens transactions lazily (only before DML), so a SELECT followed by an UPDATE would not
    # be one transaction. Switch that off and emit BEGIN ourselves, IMMEDIATE for writers: the write lock is
    # taken up front (waiting busy_timeout for it) instead of failing when a reader tries to upgrade.
    locked_error: type[Exception] = engine.dialect.loaded_dbapi.OperationalError

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
            except locked_error as exc:
                # Switching a new file to WAL needs it to itself and is not retried by the busy handler; another
                # connection is switching it right now, or migrate() will (journal_mode is stored in the file).
                logger.debug("journal_mode=WAL not set on this connection: %s", exc)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"bad {SQLITE_BEGIN} option {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


async def ensure_sqlite_wal(engine: AsyncEngine) -> None:
    """Put the SQLite file into WAL mode, retrying while other connections hold it (a no-op once it is WAL)."""
    async with engine.connect() as conn, asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection  # aiosqlite: a PRAGMA outside SQLAlchemy's transaction (WAL refuses those)
        assert driver is not None
        while True:
            try:
                cursor = await driver.execute("PRAGMA journal_mode = WAL")
                await cursor.close()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
            await asyncio.sleep(0.02)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """A view of `engine` whose transactions start as writers (BEGIN IMMEDIATE on SQLite; no-op elsewhere)."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


def dialect_insert(conn: AsyncConnection | Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ON CONFLICT support, in the connection's dialect."""
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported dialect {name!r}")
