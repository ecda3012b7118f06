"""Read-only sessions (`read_db`) on PostgreSQL: no transaction, so the driver's prepared
statements survive from one request to the next, where a session that ends rolled back (every
`open_db` that only read) makes psycopg forget them all, and plan each statement again."""

from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, text
from sqlmodel import select

from tests.factories import make_session, make_student, make_teacher
from visio import db as visio_db
from visio.db import open_db, read_db
from visio.models import User
from visio.services import catalog

RUNS = 8  # past psycopg's threshold (a statement is prepared at its 5th run on a connection)
PREPARED = text("SELECT statement FROM pg_prepared_statements")
PLANS = text(
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
    " WHERE statement LIKE '%FROM video_sessions%'"
)


def _read_user(session_of, engine: Engine, user_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Read a user RUNS times, one session each: the statements prepared on the connection."""
    for _ in range(RUNS):
        with session_of(engine) as db:
            assert db.exec(select(User).where(User.id == user_id)).one().id == user_id
    with session_of(engine) as db:
        return list(db.connection().execute(PREPARED).scalars())


@pytest.mark.postgres
def test_a_read_session_keeps_the_prepared_statements(pg_engine, pg_db, clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(pg_db, clock=clock)
    pg_db.commit()
    pg_engine.dispose()  # one pooled connection, fresh: nothing prepared yet

    assert _read_user(open_db, pg_engine, student.id) == []  # each ROLLBACK forgot the counts
    prepared = _read_user(read_db, pg_engine, student.id)

    assert any("FROM users" in statement for statement in prepared)


@pytest.mark.postgres
def test_a_read_session_runs_outside_a_transaction_and_leaves_none(pg_engine) -> None:  # type: ignore[no-untyped-def]
    with read_db(pg_engine) as db:
        driver = db.connection().connection.driver_connection
        assert db.connection().execute(text("SELECT 1")).scalar() == 1
        assert driver.autocommit is True
        assert driver.info.transaction_status == TransactionStatus.IDLE  # no BEGIN was sent
    # The same pooled connection, back in the default mode for the sessions that write.
    with open_db(pg_engine) as db:
        assert db.connection().connection.driver_connection is driver
        assert driver.autocommit is False


@pytest.mark.postgres
def test_a_read_session_runs_on_a_connection_pinged_after_sitting_idle(
    pg_engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The ping opens no transaction: the read session can still leave it (a regression: the
    API's enrollments failed with 500s on the connections that had been idle a second)."""
    monkeypatch.setattr(visio_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout pings
    for _ in range(3):
        with read_db(pg_engine) as db:
            assert db.connection().execute(text("SELECT 1")).scalar() == 1
        with open_db(pg_engine) as db:
            driver = db.connection().connection.driver_connection
            assert db.connection().execute(text("SELECT 1")).scalar() == 1
            assert driver.info.transaction_status == TransactionStatus.INTRANS


def test_a_read_session_on_sqlite_is_an_ordinary_one(engine) -> None:  # type: ignore[no-untyped-def]
    with read_db(engine) as db:
        assert db.get_bind() is engine


@pytest.mark.postgres
def test_the_catalogs_page_is_planned_once_for_every_run(pg_engine, pg_db, clock) -> None:  # type: ignore[no-untyped-def]
    """Left to choose, PostgreSQL planned the page again at each run (its LIMIT and OFFSET made
    the plan for any values look dearer), and planning cost as much as running it."""
    teacher = make_teacher(pg_db, clock=clock)
    for index in range(30):
        make_session(pg_db, teacher=teacher, clock=clock, title=f"Atelier {index}", publish=True)
    student = make_student(pg_db, clock=clock)
    pg_db.commit()
    pg_engine.dispose()  # one pooled connection, fresh: nothing prepared yet

    for _ in range(RUNS):
        with read_db(pg_engine) as db:
            page = catalog.available_sessions(db=db, actor=student, page_size=5, clock=clock)
            assert len(page.rows) == 5
    with read_db(pg_engine) as db:
        plans = db.connection().execute(PLANS).all()

    assert plans and all(custom == 0 for _generic, custom in plans)
    assert sum(generic for generic, _custom in plans) >= RUNS - 5
