"""The SQLAlchemy store: schema, migrations and the `Store` port on SQLite or PostgreSQL."""

from bridge.adapters.store.engine import DEFAULT_DATABASE_URL, create_engine
from bridge.adapters.store.migrate import migrate
from bridge.adapters.store.sql_store import SqlStore

__all__ = ["DEFAULT_DATABASE_URL", "SqlStore", "create_engine", "migrate"]
