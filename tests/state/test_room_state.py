"""The room page and what pages send to the browser: the platform link only to participants.

State handlers read the real clock: sessions are created with a clock an hour in the past, so
that one can start a few minutes from now (inside the join window) through the services.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from reflex.istate.data import RouterData
from sqlmodel import Session, select

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state, redirect_target
from tests.state.test_session_detail_state import toasts
from visio.clock import FrozenClock, utcnow
from visio.models import Attendance
from visio.services import accounts, attendance, enrollments
from visio.state.room import RoomState
from visio.state.session_detail import SessionDetailState
from visio.state.session_page import SessionPageState
from visio.state.sessions import StudentSessionsState


def _state(db: Session, cls, user, path: str, pattern: str):  # type: ignore[no-untyped-def]
    token = (
        ""
        if user is None
        else accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    )
    state = new_state(cls, token)
    state.lang_choice = "en"
    state.router = RouterData.from_router_data(
        {"pathname": pattern, "asPath": path, "headers": {"origin": "http://localhost:3000"}}
    )
    return state


def _room(db, user, session_id: int) -> RoomState:  # type: ignore[no-untyped-def]
    path = f"/sessions/{session_id}/room"
    return _state(db, RoomState, user, path, "/sessions/[session_id]/room")


def _session_page(db, user, session_id: int) -> SessionPageState:  # type: ignore[no-untyped-def]
    return _state(db, SessionPageState, user, f"/sessions/{session_id}", "/sessions/[session_id]")


def _sent(state) -> str:  # type: ignore[no-untyped-def]
    """Everything the state would send to the browser, as text."""
    return json.dumps(state.dict(), default=str)


@pytest.fixture
def soon(db: Session):  # type: ignore[no-untyped-def]
    """A Jitsi session starting in 5 minutes (window open), its teacher, an enrolled student."""
    past = FrozenClock(utcnow() - timedelta(hours=1))
    teacher = make_teacher(db, clock=past, full_name="Marie Curie")
    session = make_session(
        db, teacher=teacher, clock=past, publish=True, starts_at=utcnow() + timedelta(minutes=5)
    )
    student = make_student(db, clock=past, full_name="Léa Dubois")
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=utcnow)
    return session, teacher, student


# --- the room page ---------------------------------------------------------------------------


def test_an_enrolled_student_in_the_window_gets_the_room_with_their_name(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, student = soon
    state = _room(db, student, session.id)

    assert state.on_load() is None

    assert state.room_src.startswith(session.link + "#userInfo.displayName=")
    assert "L%C3%A9a%20Dubois" in state.room_src
    assert state.title == session.title
    assert state.back_href == f"/sessions/{session.id}"
    row = db.exec(select(Attendance).where(Attendance.session_id == session.id)).one()
    assert (row.user_id, row.join_count) == (student.id, 1)


def test_the_teacher_goes_back_to_their_own_page(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, teacher, _ = soon
    state = _room(db, teacher, session.id)
    state.on_load()
    assert state.room_src.startswith(session.link)
    assert state.back_href == f"/teacher/video-sessions/{session.id}"


def test_a_student_who_is_not_enrolled_is_sent_back_and_gets_no_address(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = soon
    outsider = make_student(db, clock=utcnow)
    state = _room(db, outsider, session.id)

    result = state.on_load()

    assert redirect_target(result) == f"/sessions/{session.id}"
    assert toasts(result) == [("error", "You are not enrolled in this session.")]
    assert state.room_src == ""
    assert session.link not in _sent(state)
    assert db.exec(select(Attendance)).all() == []


def test_a_logged_out_visitor_is_sent_to_login(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = soon
    state = _room(db, None, session.id)
    assert redirect_target(state.on_load()).startswith("/login?next=")
    assert state.room_src == ""


def test_before_the_window_the_room_is_refused(bound, db) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=utcnow)
    later = make_session(
        db, teacher=teacher, clock=utcnow, publish=True, starts_at=utcnow() + timedelta(hours=2)
    )
    state = _room(db, teacher, later.id)
    result = state.on_load()
    assert redirect_target(result) == f"/sessions/{later.id}"
    assert toasts(result)[0][0] == "error"
    assert state.room_src == ""


def test_heartbeat_and_leave_are_recorded_and_leaving_drops_the_address(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, student = soon
    state = _room(db, student, session.id)
    state.on_load()

    assert state.heartbeat("") is None
    assert state.ended is False
    result = state.leave()

    assert redirect_target(result) == f"/sessions/{session.id}"
    assert state.room_src == ""
    db.expire_all()
    row = db.exec(select(Attendance).where(Attendance.session_id == session.id)).one()
    assert row.left_at is not None
    state.page_closed()  # the page unmounting after "Leave": nothing more
    state.heartbeat("")  # a late timer: ignored, nothing raised


def test_a_heartbeat_from_a_page_that_never_joined_does_nothing(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = soon
    state = _room(db, make_student(db, clock=utcnow), session.id)
    assert state.heartbeat("") is None
    assert db.exec(select(Attendance)).all() == []


# --- the link never reaches anyone else ------------------------------------------------------


def test_the_session_page_of_a_student_not_enrolled_has_no_link(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = soon
    state = _session_page(db, make_student(db, clock=utcnow), session.id)
    state.on_load()
    assert state.found is True and state.action == "enroll"
    sent = _sent(state)
    assert session.link not in sent
    assert session.link.rsplit("/", 1)[-1] not in sent  # not even the room name
    assert state.meeting_url == ""


def test_the_session_page_of_an_enrolled_student_has_no_link_either(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, student = soon
    state = _session_page(db, student, session.id)
    state.on_load()
    assert state.action == "join"
    assert session.link.rsplit("/", 1)[-1] not in _sent(state)
    # Jitsi: "Join" goes to the room page, which joins (and checks) itself.
    assert redirect_target(state.join()) == f"/sessions/{session.id}/room"
    assert session.link.rsplit("/", 1)[-1] not in _sent(state)


def test_the_list_cards_carry_no_link(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, _, student = soon
    for user in (student, make_student(db, clock=utcnow)):
        state = _state(
            db,
            StudentSessionsState,
            user,
            "/student/video-sessions?view=available",
            "/student/video-sessions",
        )
        state.on_load()
        sent = _sent(state)
        assert session.link.rsplit("/", 1)[-1] not in sent
        assert "meet.jit.si" not in sent


def test_joining_a_zoom_session_keeps_the_link_for_that_participant_only(bound, db) -> None:  # type: ignore[no-untyped-def]
    past = FrozenClock(utcnow() - timedelta(hours=1))
    teacher = make_teacher(db, clock=past)
    zoom_link = "https://us02web.zoom.us/j/987654321"
    session = make_session(
        db,
        teacher=teacher,
        clock=past,
        publish=True,
        starts_at=utcnow() + timedelta(minutes=5),
        platform="zoom",
        link=zoom_link,
    )
    student = make_student(db, clock=past)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=utcnow)
    outsider_page = _session_page(db, make_student(db, clock=utcnow), session.id)
    outsider_page.on_load()
    outsider = outsider_page.join()
    assert toasts(outsider)[0][0] == "error" and zoom_link not in _sent(outsider_page)

    page = _session_page(db, student, session.id)
    page.on_load()
    assert zoom_link not in _sent(page)
    result = page.join()

    opened = [e for e in result if e.handler.fn.__qualname__ == "_redirect"][0]
    args = {k._js_expr: v._var_value for k, v in opened.args}
    assert (args["path"], args["external"]) == (zoom_link, True)  # a new tab
    assert page.meeting_url == zoom_link


# --- the teacher's page: the report and the clock --------------------------------------------


def test_the_teacher_page_shows_the_report_with_absent_students(bound, db, soon) -> None:  # type: ignore[no-untyped-def]
    session, teacher, student = soon
    absent = make_student(db, clock=utcnow, full_name="Zoé Absente")
    enrollments.enroll(db=db, actor=absent, video_session_id=session.id, clock=utcnow)
    _room(db, student, session.id).on_load()

    state = _state(
        db,
        SessionDetailState,
        teacher,
        f"/teacher/video-sessions/{session.id}",
        "/teacher/video-sessions/[session_id]",
    )
    state.on_load()

    assert state.report_summary == "1 of 2 students joined"
    assert [(r["name"], r["joined"], r["status_label"]) for r in state.report] == [
        ("Léa Dubois", True, "Joined"),
        ("Zoé Absente", False, "Absent"),
    ]
    assert state.report[0]["minutes"] == "0 min"  # joined before the start
    assert state.can_join is True
    assert 1_000 <= state.tick_ms <= 30_000
    assert redirect_target(state.join_room()) == f"/sessions/{session.id}/room"

    download = state.download_attendance()
    assert download.handler.fn.__qualname__ == "_download"


def test_the_session_page_flips_to_join_when_its_tick_passes_the_opening(
    bound, db, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    past = FrozenClock(utcnow() - timedelta(hours=1))
    teacher = make_teacher(db, clock=past)
    session = make_session(
        db, teacher=teacher, clock=past, publish=True, starts_at=utcnow() + timedelta(minutes=30)
    )
    student = make_student(db, clock=past)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=utcnow)
    state = _session_page(db, student, session.id)
    state.on_load()
    assert state.action == "unenroll"  # before the deadline (the start), not yet joinable
    assert state.opens_at_iso == (session.starts_at - timedelta(minutes=10)).isoformat()
    assert state.tick_ms == 30_000

    state.tick("")  # nothing has changed yet: no reload
    assert state.action == "unenroll"

    # Twenty minutes later, as far as the page is concerned: the window opens 40 minutes early
    # now, and the instant the page was waiting for has passed.
    monkeypatch.setattr(
        attendance, "settings", dataclasses.replace(attendance.settings, join_opens_minutes=40)
    )
    state._next_change = utcnow() - timedelta(seconds=1)
    state.tick("")
    assert state.action == "join"
