"""What a piece of code sends to the database: the statements a test counts or explains."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import event
from sqlmodel import Session


class Sent(NamedTuple):
    sql: str
    params: Any


@contextmanager
def recorded(db: Session) -> Iterator[list[Sent]]:
    """Every statement the session's engine sends while the block runs, in order.

    Load what the block reads of objects made before it (their ids...) first: an expired
    object's reload would be counted as the block's.
    """
    sent: list[Sent] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        sent.append(Sent(statement, parameters))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def sqlite_plan(db: Session, sql: str, params: Any) -> list[str]:
    """SQLite's plan for a statement as sent: one line per step (`SCAN ...`, `SEARCH ...`)."""
    explained = db.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
    return [str(row[-1]) for row in explained]
