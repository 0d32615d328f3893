"""Database fixtures: a throwaway PostgreSQL server per session, and a fresh database per test on SQLite or PG.

Registered through `pytest_plugins = ["tests.fixtures_db"]`. `BRIDGE_TEST_DATABASE_URL` (a server URL such as
postgresql+asyncpg://user:pw@host:5432/postgres) replaces the throwaway server. Without PostgreSQL binaries the
PostgreSQL cases are skipped, except when `CI` is set: there they fail, so a broken CI image cannot hide them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bridge.adapters.store import SqlStore, migrate
from tests.pg import PostgresUnavailable, start_cluster, stop_cluster

DATABASE_URL_ENV = "BRIDGE_TEST_DATABASE_URL"

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """Base URL of a PostgreSQL server: BRIDGE_TEST_DATABASE_URL, or a cluster started for this session."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        yield configured
        return
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL cannot be started: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL tests need a server: {exc} (or set {DATABASE_URL_ENV})")
    try:
        yield cluster.url
    finally:
        stop_cluster(cluster)


@pytest_asyncio.fixture(params=BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database with no schema: a temporary SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
        return
    server = make_url(request.getfixturevalue("pg_server_url"))
    async with postgres_database(server) as url:
        yield url


@pytest_asyncio.fixture
async def database_url(empty_database_url: str) -> str:
    """A fresh database (parametrised over SQLite and PostgreSQL) migrated to head with `migrate()`."""
    await migrate(empty_database_url)
    return empty_database_url


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    """A connected SqlStore on `database_url`, closed after the test."""
    sql_store = await SqlStore.connect(database_url)
    try:
        yield sql_store
    finally:
        await sql_store.close()


@asynccontextmanager
async def postgres_database(server: URL) -> AsyncIterator[str]:
    """CREATE DATABASE test_<random> on `server`; dropped on exit, even with connections left open."""
    admin = server if server.database else server.set(database="postgres")
    name = f"test_{uuid.uuid4().hex[:16]}"
    await _admin_execute(admin, f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_execute(admin: URL, statement: str) -> None:
    engine = create_async_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


T = TypeVar("T")


async def on_both_sqlite_paths(tmp_path: Path, work: Callable[[SqlStore], Awaitable[T]]) -> list[T]:
    """`work` on a new SQLite file whose inbox and kept commands are written by their own connections (hand-made SQL),
    then on one written through SQLAlchemy (the PostgreSQL path): for tests that both store the same bytes."""
    results = []
    for name, through_sqlalchemy in (("writer", False), ("sqlalchemy", True)):
        url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
        await migrate(url)
        sqlite_store = await SqlStore.connect(url)
        try:
            if through_sqlalchemy:
                sqlite_store._sqlite_writes = None
                sqlite_store._one_trip_writer = None
            results.append(await work(sqlite_store))
        finally:
            await sqlite_store.close()
    return results
