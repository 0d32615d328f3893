"""The SQLite driver (bridge/adapters/store/sqlite_driver.py): the same results and transactions as aiosqlite's,
in fewer trips to the connection's thread. Through the store's own engine (engine.create_engine) on a file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import pytest_asyncio
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.adapters.store.engine import create_engine, writer
from bridge.adapters.store.sqlite_driver import CHUNK_ROWS

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("body", String, unique=True))


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


class Trips:
    """Counts the calls run on aiosqlite connections' threads (every trip goes through Connection._execute)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original: Callable[..., Awaitable[object]] = aiosqlite.Connection._execute

        async def counted(*args: object, **kwargs: object) -> object:
            self.count += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


async def _rows(engine: AsyncEngine) -> list[tuple[int, str]]:
    async with engine.connect() as conn:
        return [(row.id, row.body) for row in await conn.execute(select(notes).order_by(notes.c.id))]


async def test_a_read_and_a_write_each_take_two_trips(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    await _rows(engine)  # the pool's connection is made
    trips = Trips(monkeypatch)
    async with writer(engine).begin() as conn:
        await conn.execute(insert(notes).values(body="one"))
    assert trips.count == 2  # BEGIN IMMEDIATE with the INSERT, then COMMIT (aiosqlite's own cursors: 8)
    trips.count = 0
    assert await _rows(engine) == [(1, "one")]
    assert trips.count == 2  # BEGIN with the SELECT and its rows, then ROLLBACK (aiosqlite's own cursors: 8)
    trips.count = 0
    async with writer(engine).begin():
        pass  # a transaction that ran nothing has nothing to end
    assert trips.count == 0


async def test_rows_counts_and_ids_are_as_sqlite3_gives_them(engine: AsyncEngine) -> None:
    async with writer(engine).begin() as conn:
        first = await conn.execute(insert(notes).values(body="a"))
        assert first.inserted_primary_key == (1,)
        many = await conn.execute(insert(notes), [{"body": "b"}, {"body": "c"}, {"body": "d"}])
        assert many.rowcount == 3
        returned = await conn.execute(insert(notes).values(body="e").returning(notes.c.id))
        assert returned.scalar_one() == 5
        changed = await conn.execute(update(notes).where(notes.c.id > 2).values(body=notes.c.body + "!"))
        assert changed.rowcount == 3
        nothing = await conn.execute(update(notes).where(notes.c.id > 99).values(body="x"))
        assert nothing.rowcount == 0
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 5
    assert await _rows(engine) == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!"), (5, "e!")]


@pytest.mark.parametrize("count", [0, 1, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 1, 3 * CHUNK_ROWS + 7])
async def test_results_of_any_size_come_whole_and_in_order(engine: AsyncEngine, count: int) -> None:
    if count:
        async with writer(engine).begin() as conn:
            await conn.execute(insert(notes), [{"body": f"n{n:05d}"} for n in range(count)])
    expected = [f"n{n:05d}" for n in range(count)]
    async with engine.connect() as conn:
        assert list((await conn.execute(select(notes.c.body).order_by(notes.c.id))).scalars()) == expected
        streamed = await conn.stream(select(notes.c.body).order_by(notes.c.id))  # a server-side cursor
        pages = [[row.body for row in page] async for page in streamed.partitions(CHUNK_ROWS // 3 + 1)]
        assert [body for page in pages for body in page] == expected
        one = await conn.stream(select(notes.c.body).order_by(notes.c.id))
        assert (await one.fetchone()) == ((expected[0],) if expected else None)
        await one.close()  # rows left unread: the cursor is closed, the connection goes on
        returned = await conn.execute(
            update(notes).values(body=notes.c.body + "?").returning(notes.c.id)
        )  # RETURNING many rows
        assert len(returned.all()) == count
        await conn.rollback()


async def test_a_failed_statement_leaves_nothing_of_its_transaction(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with writer(engine).begin() as conn:
            await conn.execute(insert(notes).values(body="kept?"))
            await conn.execute(insert(notes).values(body="kept?"))  # the unique body again
    assert await _rows(engine) == []
    async with writer(engine).begin() as conn:  # and the connection serves the next transaction
        await conn.execute(insert(notes).values(body="after"))
    assert await _rows(engine) == [(1, "after")]


async def test_a_writer_still_waits_for_another_writers_lock(tmp_path: Path, engine: AsyncEngine) -> None:
    """BEGIN IMMEDIATE now runs with the statement after it; the lock is still taken there, and a writer holding it
    still makes another wait (here: refused after the other's busy timeout)."""
    impatient = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")

    @event.listens_for(impatient.sync_engine, "connect")
    def _impatient(dbapi_connection: Any, _record: Any) -> None:  # after the store's own hook
        dbapi_connection.cursor().execute("PRAGMA busy_timeout = 50")

    try:
        async with writer(engine).begin() as conn:
            await conn.execute(insert(notes).values(body="holding the lock"))
            with pytest.raises(OperationalError, match="locked"):
                async with writer(impatient).begin() as other:
                    await other.execute(insert(notes).values(body="never"))
        assert await _rows(impatient) == [(1, "holding the lock")]
    finally:
        await impatient.dispose()


SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) FROM c"


@pytest.mark.parametrize("transaction", ["read", "write"])
async def test_a_caller_cancelled_mid_statement_leaves_the_connection_clean(tmp_path: Path, transaction: str) -> None:
    """Cancelled while its statement (and the BEGIN before it) is still queued or running on the thread: the pool's
    one connection still serves the next transactions (SQLAlchemy replaces a connection whose call was cancelled;
    the driver would queue a rollback behind the call, as aiosqlite does, rather than skip it)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

        async def slow() -> None:
            async with engine.connect() if transaction == "read" else writer(engine).begin() as conn:
                await conn.execute(text(SLOW))

        for _ in range(3):
            task = asyncio.create_task(slow())
            await asyncio.sleep(0)  # the statement is queued to the thread, which may not have started it
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with writer(engine).begin() as conn:
                await conn.execute(insert(notes).values(body=None))
        assert len(await _rows(engine)) == 3
    finally:
        await engine.dispose()
