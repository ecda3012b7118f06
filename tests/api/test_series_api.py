"""Recurring series over HTTP: create with the occurrences, read, enroll in all, cancel the rest."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.api.conftest import assert_error
from tests.factories import balances
from tests.invariants import assert_ledger_invariants, assert_seat_invariants

PARIS = ZoneInfo("Europe/Paris")


def _body(make, **extra):  # type: ignore[no-untyped-def]
    start = (
        (make.clock() + timedelta(days=3))
        .astimezone(PARIS)
        .replace(hour=18, minute=0, second=0, microsecond=0)
    )
    return {
        "title": "Weekly conversation class",
        "starts_at": start.isoformat(),
        "duration": 60,
        "timezone": "Europe/Paris",
        "repeat": {"every_days": 7, "count": 4},
        "publish": True,
        **extra,
    }


def test_create_a_weekly_series_answers_201_with_its_occurrences(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()

    response = http.post("/api/series", json=_body(make), headers=teacher.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["every_days"] == 7 and body["teacher_id"] == teacher.id
    assert len(body["occurrences"]) == 4
    local = {datetime.fromisoformat(o["date"]).astimezone(PARIS) for o in body["occurrences"]}
    assert {d.strftime("%H:%M") for d in local} == {"18:00"}
    assert {o["status"] for o in body["occurrences"]} == {"scheduled"}
    assert all(o["link"] for o in body["occurrences"])  # the teacher sees the links


def test_a_series_carries_its_minimum_to_every_occurrence(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    body = _body(make, min_participants=2)

    response = http.post("/api/series", json=body, headers=teacher.headers)

    assert response.status_code == 201, response.text
    occurrences = response.json()["occurrences"]
    assert {o["min_participants"] for o in occurrences} == {2}
    gaps = {
        datetime.fromisoformat(o["date"]) - datetime.fromisoformat(o["decide_at"])
        for o in occurrences
    }
    assert gaps == {timedelta(hours=24)}  # the default, before each start


def test_series_refusals(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    too_long = _body(make, repeat={"every_days": 7, "count": 53})
    assert_error(http.post("/api/series", json=too_long, headers=teacher.headers), 422,
                 "series_too_long")  # fmt: skip
    both = _body(make, repeat={"every_days": 7, "count": 3, "until": "2099-01-01"})
    assert_error(http.post("/api/series", json=both, headers=teacher.headers), 422,
                 "repeat_end_required")  # fmt: skip
    student = make.student()
    assert_error(http.post("/api/series", json=_body(make), headers=student.headers), 403,
                 "wrong_role")  # fmt: skip
    assert_error(http.get("/api/series/2147483000", headers=student.headers), 404,
                 "series_not_found")  # fmt: skip


def test_a_student_enrolls_in_all_and_sees_the_seats_then_the_rest_is_cancelled_refunded(
    http, make, server_db
) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    created = http.post(
        "/api/series", json=_body(make, is_paid=True, price_cents=800), headers=teacher.headers
    ).json()
    student = make.student(funds_cents=5000)

    before = http.get(f"/api/series/{created['id']}", headers=student.headers).json()
    assert (before["remaining_count"], before["remaining_price_cents"]) == (4, 3200)
    assert {o["link"] for o in before["occurrences"]} == {None}

    enrolled = http.post(f"/api/series/{created['id']}/enroll", headers=student.headers)
    assert enrolled.status_code == 201, enrolled.text
    assert (enrolled.json()["paid_cents"], enrolled.json()["wallet_balance_cents"]) == (3200, 1800)
    assert len(enrolled.json()["enrollments"]) == 4
    again = http.post(f"/api/series/{created['id']}/enroll", headers=student.headers)
    assert_error(again, 409, "already_enrolled")

    after = http.get(f"/api/series/{created['id']}", headers=student.headers).json()
    assert after["seats_held"] == 4 and after["remaining_count"] == 0
    assert {o["holds_seat"] for o in after["occurrences"]} == {True}

    second = created["occurrences"][1]["id"]
    cancel = {"reason": "The course stops", "from_session_id": second}
    done = http.post(f"/api/series/{created['id']}/cancel", json=cancel, headers=teacher.headers)
    assert done.status_code == 200, done.text
    assert (done.json()["refunded_count"], done.json()["refunded_cents"]) == (3, 2400)
    retry = http.post(f"/api/series/{created['id']}/cancel", json=cancel, headers=teacher.headers)
    assert (retry.json()["refunded_count"], retry.json()["cancelled"]) == (0, [])
    assert balances(server_db, student.user)[student.user.email] == 4200
    assert_ledger_invariants(server_db)
    assert_seat_invariants(server_db)


def test_a_full_occurrence_refuses_the_whole_series_enroll(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    created = http.post(
        "/api/series",
        json=_body(make, is_paid=True, price_cents=800, capacity=1),
        headers=teacher.headers,
    ).json()
    first = make.student(funds_cents=1000)
    taken = http.post(
        f"/api/sessions/{created['occurrences'][2]['id']}/enroll", headers=first.headers
    )
    assert taken.status_code == 201
    student = make.student(funds_cents=5000)

    response = http.post(f"/api/series/{created['id']}/enroll", headers=student.headers)

    assert_error(response, 409, "session_full")
    assert balances(server_db, student.user)[student.user.email] == 5000
    view = http.get(f"/api/series/{created['id']}", headers=student.headers).json()
    assert view["seats_held"] == 0


def test_the_owner_publishes_a_series_of_drafts_in_one_call(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    created = http.post(
        "/api/series", json=_body(make, publish=False), headers=teacher.headers
    ).json()
    assert {o["status"] for o in created["occurrences"]} == {"draft"}
    student = make.student()
    assert_error(http.get(f"/api/series/{created['id']}", headers=student.headers), 404,
                 "series_not_found")  # fmt: skip
    other = make.teacher()
    assert_error(http.post(f"/api/series/{created['id']}/publish", headers=other.headers), 403,
                 "not_owner")  # fmt: skip
    assert_error(http.post(f"/api/series/{created['id']}/publish", headers=student.headers), 403,
                 "wrong_role")  # fmt: skip

    response = http.post(f"/api/series/{created['id']}/publish", headers=teacher.headers)

    assert response.status_code == 200, response.text
    assert {o["status"] for o in response.json()["occurrences"]} == {"scheduled"}
    seen = http.get(f"/api/series/{created['id']}", headers=student.headers).json()
    assert seen["remaining_count"] == 4
    again = http.post(f"/api/series/{created['id']}/publish", headers=teacher.headers)
    assert again.status_code == 200 and again.json() == response.json()
    assert_error(http.post("/api/series/2147483000/publish", headers=teacher.headers), 404,
                 "series_not_found")  # fmt: skip
