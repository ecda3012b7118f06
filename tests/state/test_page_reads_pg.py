"""Page events on PostgreSQL read outside a transaction (`read_db`): the caller every event
resolves and the unread count of the shell stay prepared statements on the connection, where
a read ended by a ROLLBACK made psycopg forget them, and the server plan them again each time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_student
from tests.state.conftest import new_state
from visio import db as visio_db
from visio.clock import FrozenClock, utcnow
from visio.services import accounts
from visio.state.notifications import NotificationsState

pytestmark = pytest.mark.postgres
EVENTS = 8  # past psycopg's threshold: a statement is prepared at its 5th run on a connection


@pytest.fixture
def pg_bound(pg_engine: Engine) -> Iterator[Engine]:
    visio_db.bind_engine(pg_engine)
    yield pg_engine
    visio_db.bind_engine(None)


def test_every_events_caller_and_unread_count_stay_prepared(pg_bound: Engine) -> None:
    clock = FrozenClock(utcnow())
    with Session(pg_bound, expire_on_commit=False) as db:
        student = make_student(db, clock=clock)
        login = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    pg_bound.dispose()  # one pooled connection, fresh: nothing prepared yet
    state = new_state(NotificationsState, login.token)  # any page: the shell event is the root one

    for _ in range(EVENTS):
        state.load_shell()
    assert state.user_name == student.full_name and state.unread_count == 0

    with pg_bound.connect() as conn:
        prepared = list(
            conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars()
        )
    assert any("auth_sessions.token_hash" in s for s in prepared), prepared  # the caller
    assert any("FROM notices" in s for s in prepared), prepared  # the bell's count
