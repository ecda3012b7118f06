"""What the pages show of a minimum: "N more needed by ..." to the teacher, the students'
"Confirmed" once it is reached (page and cards)."""

from __future__ import annotations

from reflex.istate.data import RouterData
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state
from visio.services import accounts, enrollments
from visio.state.session_detail import SessionDetailState
from visio.state.session_page import SessionPageState
from visio.state.sessions import StudentSessionsState


def _state(db: Session, cls, user, path: str, pattern: str):  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(cls, token)
    state.lang_choice = "en"
    state.router = RouterData.from_router_data(
        {"pathname": pattern, "asPath": path, "headers": {"origin": "http://localhost:3000"}}
    )
    return state


def _detail(db, teacher, session_id):  # type: ignore[no-untyped-def]
    path = f"/teacher/video-sessions/{session_id}"
    state = _state(db, SessionDetailState, teacher, path, "/teacher/video-sessions/[session_id]")
    state.on_load()
    return state


def _page(db, student, session_id):  # type: ignore[no-untyped-def]
    state = _state(
        db, SessionPageState, student, f"/sessions/{session_id}", "/sessions/[session_id]"
    )
    state.on_load()
    return state


def test_teacher_sees_how_many_more_are_needed_then_that_it_is_reached(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True, min_participants=2)
    first, second = make_student(db, clock=now_clock), make_student(db, clock=now_clock)
    enrollments.enroll(db=db, actor=first, video_session_id=session.id, clock=now_clock)

    detail = _detail(db, teacher, session.id)
    assert detail.minimum_teacher_note.startswith("1 more needed by ")
    assert detail.confirmed is False
    page = _page(db, first, session.id)
    assert page.minimum_note.startswith("Takes place if 1 more enroll by ")
    assert page.confirmed is False

    enrollments.enroll(db=db, actor=second, video_session_id=session.id, clock=now_clock)

    detail = _detail(db, teacher, session.id)
    assert detail.minimum_teacher_note == "Minimum reached (2 participants)"
    assert detail.confirmed is True
    page = _page(db, second, session.id)
    assert (page.confirmed, page.minimum_note) == (True, "")


def test_a_session_without_a_minimum_shows_no_note(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True)
    detail = _detail(db, teacher, session.id)
    assert (detail.confirmed, detail.minimum_teacher_note) == (False, "")


def test_cards_say_confirmed_once_the_minimum_is_reached(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True, min_participants=1)
    student = make_student(db, clock=now_clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=now_clock)

    state = _state(
        db, StudentSessionsState, student, "/student/video-sessions", "/student/video-sessions"
    )
    state.on_load()

    [card] = [c for c in state.cards if c["id"] == session.id]
    assert card["confirmed"] == "Confirmed"
