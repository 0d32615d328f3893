"""Engines for the store: one URL, SQLite or PostgreSQL, tuned so both keep the store's guarantees."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.schema import Table

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///bridge.db"

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock when the transaction starts.
SQLITE_BEGIN = "bridge_sqlite_begin"

SQLITE_BUSY_TIMEOUT_MS = 10_000

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
    engine = create_async_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    # The sqlite3 module opens transactions lazily (only before DML), so a SELECT followed by an UPDATE would not
    # be one transaction. Switch that off and emit BEGIN ourselves, IMMEDIATE for writers: the write lock is
    # taken up front (waiting busy_timeout for it) instead of failing when a reader tries to upgrade.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
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
