"""Row locks taken at the start of a write transaction, the same way on both databases.

PostgreSQL: `SELECT ... FOR UPDATE` in id order; the engine's `lock_timeout` bounds the wait.
SQLite has no row locks: the first lock of a transaction takes the database's write lock at once
(`BEGIN IMMEDIATE`, waiting up to the busy timeout), so every check that follows sees a state no
other writer can change; later locks of that transaction only read their rows afresh.
A lock that cannot be had in time becomes `Busy`.

The order, everywhere: the session row (or a payout request's row), then users' wallets in id
order, then the platform's payouts or platform wallet, then the escrow wallet last (every paid
seat touches it: it is held for as short a time as possible).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

from visio.services.errors import Busy


def lock(db: Session, model: type[SQLModel], ids: list[int]) -> list[SQLModel]:
    """Lock the given rows (in id order) for the rest of the transaction and return them."""
    if len(ids) == 1:
        found = lock_one(db, model, ids[0])
        return [] if found is None else [found]
    return lock_where(db, model, model.id.in_(sorted(set(ids))))  # type: ignore[attr-defined]


def lock_one(db: Session, model: type[SQLModel], row_id: int) -> SQLModel | None:
    """Lock one row by id and return it, read afresh (None if there is none).

    The statement is built once per model and database: a seat claim starts with it.
    """
    dialect = db.get_bind().dialect.name
    query = _one_row(model, dialect == "postgresql")
    with busy_on_timeout():
        if dialect == "sqlite":
            begin_immediate(db)
        return db.execute(query, {"row_id": row_id}).scalars().first()


@cache
def _one_row(model: type[SQLModel], for_update: bool) -> Select:  # type: ignore[type-arg]
    query = (
        select(model)
        .where(model.id == bindparam("row_id"))  # type: ignore[attr-defined]
        .execution_options(populate_existing=True)
    )
    return query.with_for_update() if for_update else query


def lock_where(db: Session, model: type[SQLModel], *where: Any) -> list[SQLModel]:
    """Lock the rows matching `where` (in id order) and return them, read afresh."""
    query = (
        select(model)
        .where(*where)
        .order_by(model.id)  # type: ignore[attr-defined]
        .execution_options(populate_existing=True)
    )
    with busy_on_timeout():
        if db.get_bind().dialect.name == "sqlite":
            begin_immediate(db)
            return list(db.exec(query).all())
        return list(db.exec(query.with_for_update()).all())


def begin_immediate(db: Session) -> None:
    """SQLite: take the write lock now, unless this transaction already wrote (and holds it).

    Python's sqlite3 opens a transaction only before its first write, so `in_transaction` is
    true exactly when the write lock is already held.
    """
    raw = db.connection().connection.dbapi_connection
    if not raw.in_transaction:  # type: ignore[union-attr]
        raw.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


@contextmanager
def busy_on_timeout() -> Iterator[None]:
    """Turn a lock wait that ran out into `Busy` (after rolling back the caller's transaction)."""
    try:
        yield
    except (OperationalError, sqlite3.OperationalError) as exc:  # through SQLAlchemy, or not
        message = str(getattr(exc, "orig", exc)).lower()
        if "locked" in message or "lock timeout" in message or "lock_timeout" in message:
            raise Busy() from exc
        raise
