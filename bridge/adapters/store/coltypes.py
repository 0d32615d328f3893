"""Column types that behave the same on SQLite and PostgreSQL: UTC-aware datetimes and JSON documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC.

    PostgreSQL keeps the offset (timestamptz); SQLite has no such type, so the value is stored as naive UTC text
    (whose lexical order is its time order) and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where a timezone-aware one is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_document() -> TypeEngine[Any]:
    """JSON everywhere, JSONB on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")


class _Redacted(str):
    """A str whose repr hides it, so that SQLAlchemy's row logging (echo="debug") cannot print it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


class SecretText(TypeDecorator[str]):
    """Text holding a secret (webhook X-Hook-Secret). Parameters are hidden by the engine (hide_parameters);
    values read back are redacted in reprs until the mapper turns them into plain strings."""

    impl = Text()
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _Redacted(value)
