"""The same races over HTTP with PostgreSQL behind the API: identical idempotent requests sent
together run once, and students racing for a few seats get exactly that many.

The API runs alone (no pages) in a process of its own on a throwaway PostgreSQL database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from tests.api.conftest import Make, serve_api
from tests.api.test_idempotency_api import _key, _purchases, _together, _topups
from tests.factories import balances
from tests.invariants import assert_ledger_invariants, assert_seat_invariants

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_api(pg_engine, pg_url: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve_api({"REFLEX_DB_URL": pg_url}, tmp_path / "api.log") as url:
        yield url


@pytest.fixture
def pg_make(pg_db: Session, now_clock) -> Make:  # type: ignore[no-untyped-def]
    return Make(db=pg_db, clock=now_clock)


def test_idempotent_requests_sent_together_run_once_on_postgresql(pg_api, pg_make, pg_db) -> None:  # type: ignore[no-untyped-def]
    session = pg_make.session(pg_make.teacher(), is_paid=True, price_cents=900)
    student = pg_make.student(funds_cents=1000)
    enroll = {**student.headers, "Idempotency-Key": _key()}
    top_up = {**student.headers, "Idempotency-Key": _key()}
    url = f"/api/sessions/{session.id}/enroll"  # read here: threads must not touch the ORM

    enrolled = _together(6, lambda c: c.post(url, headers=enroll), pg_api)
    topped = _together(
        6, lambda c: c.post("/api/wallet/topup", headers=top_up, json={"amount_cents": 500}), pg_api
    )

    assert [a.status_code for a in enrolled] == [201] * 6, [a.text for a in enrolled]
    assert [a.status_code for a in topped] == [200] * 6, [a.text for a in topped]
    assert len({a.text for a in enrolled}) == len({a.text for a in topped}) == 1
    assert balances(pg_db, student.user)[student.user.email] == 1000 - 900 + 500
    assert (_purchases(pg_db, student), _topups(pg_db, student)) == (1, 2)
    assert_ledger_invariants(pg_db)


def test_students_racing_for_three_seats_on_postgresql(pg_api, pg_make, pg_db) -> None:  # type: ignore[no-untyped-def]
    session = pg_make.session(pg_make.teacher(), is_paid=True, price_cents=500, capacity=3)
    tokens = iter([pg_make.student(funds_cents=500).headers for _ in range(12)])
    url = f"/api/sessions/{session.id}/enroll"  # read here: threads must not touch the ORM
    lock = threading.Lock()

    def enroll(client):  # type: ignore[no-untyped-def]
        with lock:
            headers = next(tokens)
        return client.post(url, headers=headers)

    answers = _together(12, enroll, pg_api)

    outcomes = Counter(
        a.status_code if a.status_code == 201 else (a.status_code, a.json()["code"])
        for a in answers
    )
    assert outcomes == {201: 3, (409, "session_full"): 9}, outcomes
    assert_ledger_invariants(pg_db)
    assert_seat_invariants(pg_db)
