"""Bring a database to the newest schema with Alembic, configured in code (no alembic.ini needed)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bridge.adapters.store.engine import create_engine, ensure_sqlite_wal, writer

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# pg_advisory_xact_lock key shared by every replica running migrations ("bridge" as ASCII bytes).
MIGRATION_LOCK_KEY = 0x627269646765


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations; `url` is only used when no connection is given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision`; idempotent, and safe to run from several processes at once.

    PostgreSQL: the whole upgrade is one transaction holding an advisory lock, so a second migrator waits and
    then finds nothing to do. SQLite: the upgrade runs in a BEGIN IMMEDIATE transaction, with the same effect.
    """
    engine = create_engine(url)
    logger.info("migrating %s to %s", engine.url.render_as_string(hide_password=True), revision)
    try:
        if engine.dialect.name == "sqlite":
            await ensure_sqlite_wal(engine)
        async with writer(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None if it was never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision())
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
