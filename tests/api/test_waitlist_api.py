"""The waiting list over HTTP: join, see one's place, the owner's list, a promotion, refusals."""

from __future__ import annotations

from tests.api.conftest import assert_error
from tests.factories import balances
from tests.invariants import assert_ledger_invariants, assert_seat_invariants

PRICE = 1_200


def _url(session) -> str:  # type: ignore[no-untyped-def]
    return f"/api/sessions/{session.id}/waitlist"


def test_join_see_the_place_and_get_the_seat_an_unenroll_frees(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    owner = make.teacher()
    session = make.session(owner, capacity=1, is_paid=True, price_cents=PRICE)
    seated, first, second = make.student(2_000), make.student(2_000), make.student(2_000)
    make.enroll(seated, session)

    joined = http.post(_url(session), headers=first.headers)
    assert joined.status_code == 201, joined.text
    assert joined.json() == {
        "session_id": session.id,
        "state": "waiting",
        "position": 1,
        "waiting_count": 1,
        "short": False,
        "can_join": False,
    }
    assert http.post(_url(session), headers=second.headers).json()["position"] == 2
    assert_error(http.post(_url(session), headers=first.headers), 409, "already_waiting")

    line = http.get(_url(session), headers=owner.headers).json()
    assert [(w["position"], w["student_id"]) for w in line["items"]] == [
        (1, first.id),
        (2, second.id),
    ]
    assert line["total"] == 2 and line["open"] is True

    left = http.delete(f"/api/sessions/{session.id}/enroll", headers=seated.headers)
    assert left.status_code == 200, left.text

    assert http.get(_url(session), headers=first.headers).json()["state"] == "none"
    assert http.get(_url(session), headers=second.headers).json()["position"] == 1
    assert balances(server_db, first.user)[first.user.email] == 2_000 - PRICE
    assert_ledger_invariants(server_db)
    assert_seat_invariants(server_db)


def test_leave_then_refusals_in_the_callers_language(http, make) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), capacity=1)
    make.enroll(make.student(), session)
    student = make.student()
    http.post(_url(session), headers=student.headers)

    left = http.delete(_url(session), headers=student.headers)
    assert left.status_code == 200 and left.json()["state"] == "none"
    body = assert_error(
        http.delete(_url(session), headers={**student.headers, "Accept-Language": "fr"}),
        409,
        "not_waiting",
    )
    assert body["detail"] == "Vous n'êtes pas sur la liste d'attente."


def test_another_teacher_cannot_read_the_line(http, make) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), capacity=1)
    assert_error(http.get(_url(session), headers=make.teacher().headers), 403, "not_owner")
