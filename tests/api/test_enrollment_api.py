"""Enroll, unenroll and join over HTTP: each success, and each refusal with its status and code."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlmodel import select

from tests.api.conftest import assert_error
from tests.factories import balances
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.clock import utcnow
from visio.models import Attendance


def _wait_until(at: datetime) -> None:
    """Let the server's real clock pass `at`."""
    time.sleep(max(0.0, (at - utcnow()).total_seconds()) + 0.2)


def _enroll(http, who, session):  # type: ignore[no-untyped-def]
    return http.post(f"/api/sessions/{session.id}/enroll", headers=who.headers)


def test_enroll_in_a_free_session(http, make) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher())
    student = make.student()

    response = _enroll(http, student, session)

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"enrollment", "paid_cents", "wallet_balance_cents", "currency"}
    assert body["enrollment"]["session_id"] == session.id
    assert body["enrollment"]["student_id"] == student.id
    assert body["enrollment"]["status"] == "active"
    assert (body["paid_cents"], body["wallet_balance_cents"], body["currency"]) == (0, 0, "EUR")


def test_enroll_in_a_paid_session_pays_from_the_wallet(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), is_paid=True, price_cents=1250)
    student = make.student(funds_cents=2000)

    response = _enroll(http, student, session)

    assert response.status_code == 201, response.text
    assert (response.json()["paid_cents"], response.json()["wallet_balance_cents"]) == (1250, 750)
    assert balances(server_db, student.user)[student.user.email] == 750
    assert_ledger_invariants(server_db)


def test_enroll_refusals(http, make, cast) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    poor = make.student(funds_cents=100)
    paid = make.session(teacher, is_paid=True, price_cents=500)
    assert_error(_enroll(http, poor, paid), 402, "insufficient_funds")

    full = make.session(teacher, capacity=1)
    make.enroll(make.student(), full)
    assert_error(_enroll(http, cast.student, full), 409, "session_full")
    assert_error(_enroll(http, cast.enrolled, cast.session), 409, "already_enrolled")
    closed = make.session(teacher, enrollment_deadline=utcnow() + timedelta(seconds=1.5))
    _wait_until(closed.enrollment_deadline)
    assert_error(_enroll(http, cast.student, closed), 409, "deadline_passed")
    assert_error(_enroll(http, cast.student, cast.draft), 409, "not_open")
    assert_error(_enroll(http, cast.owner, cast.session), 403, "own_session")
    assert_error(_enroll(http, cast.other_teacher, cast.session), 403, "wrong_role")
    missing = http.post("/api/sessions/2147483000/enroll", headers=cast.student.headers)
    assert_error(missing, 404, "session_not_found")


def test_unenroll_refunds_the_seat(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), is_paid=True, price_cents=800)
    student = make.student(funds_cents=1000)
    make.enroll(student, session)

    response = http.delete(f"/api/sessions/{session.id}/enroll", headers=student.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["enrollment"]["status"] == "unenrolled"
    assert (body["refunded_cents"], body["wallet_balance_cents"]) == (800, 1000)
    again = http.delete(f"/api/sessions/{session.id}/enroll", headers=student.headers)
    assert_error(again, 403, "not_enrolled")
    assert_ledger_invariants(server_db)
    assert_seat_invariants(server_db)


def test_unenroll_after_the_deadline_is_refused(http, make) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), starts_at=utcnow() + timedelta(seconds=1.5))
    student = make.student()
    make.enroll(student, session)
    _wait_until(session.starts_at)
    response = http.delete(f"/api/sessions/{session.id}/enroll", headers=student.headers)
    assert_error(response, 409, "deadline_passed")


def test_join_gives_the_link_and_records_attendance(http, cast, server_db) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/sessions/{cast.session.id}/join"
    for who in (cast.enrolled, cast.owner):
        response = http.post(url, headers=who.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"url": cast.session.link}
    server_db.rollback()
    joined = server_db.exec(
        select(Attendance.user_id).where(Attendance.session_id == cast.session.id)
    ).all()
    assert set(joined) == {cast.enrolled.id, cast.owner.id}


def test_join_refusals(http, cast, make) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/sessions/{cast.session.id}/join"
    for who in (cast.student, cast.other_teacher):
        response = http.post(url, headers=who.headers)
        assert_error(response, 403, "not_enrolled")
        assert cast.session.link not in response.text

    later = make.session(cast.owner, starts_in=timedelta(days=1))
    make.enroll(cast.enrolled, later)
    too_early = http.post(f"/api/sessions/{later.id}/join", headers=cast.enrolled.headers)
    assert_error(too_early, 409, "join_not_open")
    assert later.link not in too_early.text
    assert_error(http.post(f"/api/sessions/{cast.draft.id}/join", headers=cast.owner.headers),
                 409, "invalid_status")  # fmt: skip


def test_nobody_logged_in_is_refused_before_anything_is_checked(http, make) -> None:  # type: ignore[no-untyped-def]
    """The enroll route resolves its caller itself: still 401 first, never a 422 that would
    tell an anonymous caller anything about the request's shape."""
    session = make.session(make.teacher())
    for path in ("/api/sessions/0/enroll", "/api/sessions/nope/enroll"):
        assert_error(http.post(path), 401, "not_authenticated")
    bad_key = {"Idempotency-Key": "x" * 200}  # too long
    assert_error(
        http.post(f"/api/sessions/{session.id}/enroll", headers=bad_key), 401, "not_authenticated"
    )
    expired = {"Authorization": "Bearer not-a-token"}
    assert_error(
        http.post(f"/api/sessions/{session.id}/enroll", headers=expired), 401, "not_authenticated"
    )
