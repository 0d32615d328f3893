"""Alembic environment: runs on the connection `migrate()` hands over, or on an async engine for the `alembic` CLI."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bridge.adapters.store.engine import create_engine, writer
from bridge.adapters.store.tables import SEARCH_TABLES, metadata

config = context.config


def _not_search(name: str | None, type_: str, _parent: object) -> bool:
    """The engine's own full-text index is made in raw SQL (0018): autogenerate must not propose to drop it."""
    return not (type_ == "table" and (name or "").startswith(SEARCH_TABLES))


def _configure_and_run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True, include_name=_not_search)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with writer(engine).begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migrations")
    asyncio.run(_run_with_engine(url))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
