"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

# Stable constraint names, so that migrations are the same on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no offset, so values are stored as naive UTC there and made aware again on load;
    PostgreSQL stores `timestamptz`. A naive value coming in is refused: it would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """Each value read in one step: a page of 20 sessions reads 260 of them, and the generic
        chain (the driver's value, SQLAlchemy's parser on SQLite, then `process_result_value`)
        cost more than the query. PostgreSQL connections talk UTC (`make_engine`): psycopg's
        values come aware in UTC already, and are handed on as they are."""
        if dialect.name == "postgresql":
            return _as_utc
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | datetime | None) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                try:  # stored naive UTC, read with its offset: 6x faster than parse, then replace
                    value = parse(value + "+00:00")
                except ValueError:  # a value written with an offset
                    value = parse(value)
                if value.tzinfo is UTC:
                    return value
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _as_utc(value: datetime | None) -> datetime | None:
    """A driver's aware value in UTC (the same object when it already is)."""
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
