"""GET /api/notifications and POST /api/notifications/read, over HTTP against the served app."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.api.conftest import assert_error
from visio.models import Notice


def enrolled_student(make, *, sessions: int = 1):  # type: ignore[no-untyped-def]
    """A student enrolled in `sessions` new sessions (one enrollment_confirmed notice each)."""
    student = make.student()
    teacher = make.teacher()
    made = [make.session(teacher, title=f"Class {n}") for n in range(sessions)]
    for session in made:
        make.enroll(student, session)
    return student, made


def test_the_list_is_newest_first_paged_and_counts_unread(http, make) -> None:  # type: ignore[no-untyped-def]
    student, made = enrolled_student(make, sessions=3)
    first = http.get("/api/notifications", headers=student.headers, params={"page_size": 2})
    second = http.get(
        "/api/notifications",
        headers={**student.headers, "Accept-Language": "en"},
        params={"per_page": 2, "page": 2},
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["total"], body["page"], body["page_size"], body["unread_count"]) == (3, 1, 2, 3)
    assert [i["session_id"] for i in body["items"]] == [made[2].id, made[1].id]
    (last,) = second.json()["items"]
    assert last["kind"] == "enrollment_confirmed"
    assert last["title"] == f"You are enrolled: {made[0].title}"
    assert (last["read"], last["path"]) == (False, f"/sessions/{made[0].id}")
    assert last["created_at"].endswith(("+00:00", "Z"))


def test_marking_read_by_ids_and_all_returns_the_new_count(http, make) -> None:  # type: ignore[no-untyped-def]
    student, _ = enrolled_student(make, sessions=3)
    items = http.get("/api/notifications", headers=student.headers).json()["items"]
    one = http.post(
        "/api/notifications/read", headers=student.headers, json={"ids": [items[0]["id"]]}
    )
    assert (one.status_code, one.json()) == (200, {"unread_count": 2})
    listed = http.get("/api/notifications", headers=student.headers).json()["items"]
    assert [i["read"] for i in listed] == [True, False, False]
    done = http.post("/api/notifications/read", headers=student.headers, json={"all": True})
    assert (done.status_code, done.json()) == (200, {"unread_count": 0})


def test_another_users_ids_are_ignored(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    victim, _ = enrolled_student(make)
    attacker, _ = enrolled_student(make)
    theirs = [n.id for n in server_db.exec(select(Notice).where(Notice.user_id == victim.id)).all()]
    answer = http.post("/api/notifications/read", headers=attacker.headers, json={"ids": theirs})
    assert (answer.status_code, answer.json()) == (200, {"unread_count": 1})
    seen = http.get("/api/notifications", headers=victim.headers).json()
    assert seen["unread_count"] == 1 and not seen["items"][0]["read"]
    # Nor are they listed to anyone else.
    mine = http.get("/api/notifications", headers=attacker.headers).json()["items"]
    assert not {i["id"] for i in mine} & set(theirs)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [1], "all": True},
        {"all": False},
        {"all": "true"},
        {"ids": "1"},
        {"ids": ["1"]},
        {"ids": [0]},
        {"ids": [2**40]},
        {"ids": [1.5]},
        {"ids": None},
        {"ids": [1], "extra": 1},
        [1, 2],
        "all",
    ],
)
def test_bad_bodies_are_refused_with_422(http, make, body) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    answer = http.post("/api/notifications/read", headers=student.headers, json=body)
    assert_error(answer, 422, "invalid_input")


def test_too_many_ids_are_refused_with_a_translated_message(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    answer = http.post(
        "/api/notifications/read",
        headers={**student.headers, "Accept-Language": "fr"},
        json={"ids": list(range(1, 200))},
    )
    body = assert_error(answer, 422, "too_many_ids")
    assert body["detail"] == "Marquez au plus 100 notifications à la fois."
    assert body["field"] == "ids"


def test_not_json_and_bad_paging_are_422_and_no_token_is_401(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    broken = http.post(
        "/api/notifications/read",
        headers={**student.headers, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert_error(broken, 422, "invalid_input")
    for params in ({"page": 0}, {"page_size": 101}, {"page": "x"}):
        answer = http.get("/api/notifications", headers=student.headers, params=params)
        assert_error(answer, 422, "invalid_input")
    assert_error(http.get("/api/notifications"), 401, "not_authenticated")
    assert_error(http.post("/api/notifications/read", json={"all": True}), 401, "not_authenticated")
