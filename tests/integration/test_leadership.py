"""One replica at a time runs the nag scheduler: the leadership moves when its holder goes away."""

from __future__ import annotations

from bridge.adapters.store import SqlStore


async def test_one_store_leads_and_another_takes_over_when_it_goes(database_url: str) -> None:
    first, second = await SqlStore.connect(database_url), await SqlStore.connect(database_url)
    try:
        assert await first.lead("nag-scheduler")
        assert await first.lead("nag-scheduler")  # holding it is not taking it twice
        is_postgres = first.engine.dialect.name == "postgresql"
        # SQLite serves one process, which always leads; PostgreSQL lets one replica lead at a time.
        assert await second.lead("nag-scheduler") is not is_postgres
        assert await second.lead("another-job")
        await first.close()  # the replica stops (or dies: its connection closes either way)
        assert await second.lead("nag-scheduler")
    finally:
        await first.close()
        await second.close()
