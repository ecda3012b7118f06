"""The minimum of participants over HTTP: its fields on create, edit and read, their refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import update

from tests.api.conftest import assert_error
from visio.models import VideoSession
from visio.services import minimums


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _new_session(**overrides):  # type: ignore[no-untyped-def]
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    return {
        "title": "Debating club",
        "starts_at": starts.isoformat(),
        "duration": 60,
        "timezone": "Europe/Paris",
        **overrides,
    }


def test_create_with_a_minimum_defaults_the_decision_to_a_day_before(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    body = _new_session(min_participants=3, capacity=10)
    response = http.post("/api/sessions", headers=teacher.headers, json=body)

    assert response.status_code == 201, response.text
    session = response.json()
    assert session["min_participants"] == 3
    assert _at(session["decide_at"]) == _at(body["starts_at"]) - timedelta(hours=24)
    assert session["confirmed"] is False


def test_create_with_a_chosen_decision_time(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    decide = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    response = http.post(
        "/api/sessions",
        headers=teacher.headers,
        json=_new_session(min_participants=2, decide_at=decide.isoformat()),
    )
    assert response.status_code == 201, response.text
    assert _at(response.json()["decide_at"]) == decide


def test_a_session_without_a_minimum_shows_none(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = http.post("/api/sessions", headers=teacher.headers, json=_new_session()).json()
    assert (session["min_participants"], session["decide_at"], session["confirmed"]) == (
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"min_participants": 0}, "min_participants_out_of_range"),
        ({"min_participants": 4, "capacity": 3}, "min_above_capacity"),
        ({"min_participants": 2, "decide_at_days": 4}, "decide_at_after_start"),
        ({"min_participants": 2, "decide_at_days": -1}, "decide_at_in_past"),
        ({"min_participants": "2"}, "invalid_input"),
        ({"min_participants": 2, "decide_at": "tomorrow"}, "invalid_input"),
    ],
)
def test_create_refuses_a_bad_minimum_with_422(http, make, fields, code) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    values = dict(fields)
    if "decide_at_days" in values:
        days = values.pop("decide_at_days")
        values["decide_at"] = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    response = http.post("/api/sessions", headers=teacher.headers, json=_new_session(**values))
    assert_error(response, 422, code)


def test_patch_sets_changes_and_removes_the_minimum(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher, capacity=5)
    url = f"/api/sessions/{session.id}"

    response = http.patch(url, headers=teacher.headers, json={"min_participants": 2})
    assert response.status_code == 200, response.text
    assert response.json()["min_participants"] == 2
    assert _at(response.json()["decide_at"]) == session.starts_at - timedelta(hours=24)

    assert_error(
        http.patch(url, headers=teacher.headers, json={"min_participants": 6}),
        422,
        "min_above_capacity",
    )
    response = http.patch(url, headers=teacher.headers, json={"min_participants": None})
    assert response.status_code == 200, response.text
    assert (response.json()["min_participants"], response.json()["decide_at"]) == (None, None)


def test_students_see_confirmed_once_the_minimum_is_reached(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher, min_participants=2)
    first, second = make.student(), make.student()
    url = f"/api/sessions/{session.id}"

    make.enroll(first, session)
    assert http.get(url, headers=first.headers).json()["confirmed"] is False
    make.enroll(second, session)
    seen = http.get(url, headers=first.headers).json()
    assert (seen["confirmed"], seen["min_participants"]) == (True, 2)
    assert seen["link"] is None


def test_the_minimum_cannot_change_once_decided(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher, min_participants=1)
    make.enroll(make.student(), session)
    server_db.exec(
        update(VideoSession)
        .where(VideoSession.id == session.id)
        .values(decide_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    server_db.commit()
    # This session only: the app's own pass may also take it, the decision is taken once.
    minimums.decide(server_db, video_session_id=session.id)

    url = f"/api/sessions/{session.id}"
    assert http.get(url, headers=teacher.headers).json()["confirmed"] is True
    response = http.patch(url, headers=teacher.headers, json={"min_participants": 3})
    assert_error(response, 409, "minimum_decided")
    response = http.patch(url, headers=teacher.headers, json={"title": "Still editable"})
    assert response.status_code == 200, response.text
