"""Row locks taken at the start of a write transaction, the same way on both databases.

PostgreSQL: `SELECT ... FOR UPDATE` in id order, with a lock timeout. SQLite has no row locks: a
no-op UPDATE as the first statement takes the database's write lock at once (waiting up to the
busy timeout), so every check that follows sees a state no other writer can change.
A lock that cannot be had in time becomes `Busy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

from visio.services.errors import Busy
from visio.settings import settings


def lock(db: Session, model: type[SQLModel], ids: list[int]) -> list[SQLModel]:
    """Lock the given rows (in id order) for the rest of the transaction and return them."""
    ordered = sorted(set(ids))
    column = model.id  # type: ignore[attr-defined]
    with busy_on_timeout():
        if db.get_bind().dialect.name == "sqlite":
            db.execute(update(model).where(column.in_(ordered)).values(id=column))
            rows = db.exec(select(model).where(column.in_(ordered))).all()
            for row in rows:
                db.refresh(row)
        else:
            db.execute(text(f"SET LOCAL lock_timeout = '{settings.db_lock_timeout_seconds}s'"))
            rows = db.exec(
                select(model)
                .where(column.in_(ordered))
                .order_by(column)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
    return sorted(rows, key=lambda r: r.id)  # type: ignore[attr-defined]


@contextmanager
def busy_on_timeout() -> Iterator[None]:
    """Turn a lock wait that ran out into `Busy` (after rolling back the caller's transaction)."""
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig).lower()
        if "locked" in message or "lock timeout" in message or "lock_timeout" in message:
            raise Busy() from exc
        raise
