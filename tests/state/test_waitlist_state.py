"""The waiting list on the pages: a student joins and leaves it from /sessions/[id]; the teacher
sees the line on /teacher/video-sessions/[id]."""

from __future__ import annotations

from reflex.istate.data import RouterData
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state, toasts
from visio.services import accounts, enrollments
from visio.state.session_detail import SessionDetailState
from visio.state.session_page import SessionPageState


def _page(db: Session, cls, user, path: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(cls, token)
    state.lang_choice = lang
    pattern = path.rsplit("/", 1)[0] + "/[session_id]"
    state.router = RouterData.from_router_data({"pathname": pattern, "asPath": path})
    state.on_load()
    return state


def test_a_student_joins_and_leaves_the_line_and_the_teacher_sees_it(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True, capacity=1)
    enrollments.enroll(db=db, actor=make_student(db, clock=now_clock), video_session_id=session.id)
    student = make_student(db, clock=now_clock, full_name="Lina Waits")

    page = _page(db, SessionPageState, student, f"/sessions/{session.id}")
    assert page.action == "none" and page.wl_can_join and page.wl_state == "none"

    assert toasts(page.join_waitlist()) == [
        ("success", "You joined the waiting list: you are #1 in line.")
    ]
    assert page.wl_state == "waiting" and page.wl_position == "You are #1 in line"
    assert not page.wl_can_join

    detail = _page(db, SessionDetailState, teacher, f"/teacher/video-sessions/{session.id}", "fr")
    assert detail.has_waitlist and detail.waiting_count == 1 and detail.waiting_open
    assert [(w["position"], w["name"]) for w in detail.waiting] == [(1, "Lina Waits")]

    assert toasts(page.leave_waitlist()) == [("success", "You left the waiting list.")]
    assert page.wl_state == "none" and page.wl_can_join


def test_a_teacher_cannot_join_through_the_student_handler(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    owner = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=owner, clock=now_clock, publish=True, capacity=1)
    enrollments.enroll(db=db, actor=make_student(db, clock=now_clock), video_session_id=session.id)
    other = make_teacher(db, clock=now_clock)

    page = _page(db, SessionPageState, other, f"/sessions/{session.id}")
    assert not page.wl_can_join
    assert [level for level, _ in toasts(page.join_waitlist())] == ["error"]
