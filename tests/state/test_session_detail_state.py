"""The teacher's session page: who may load it, what it shows, cancel and delete from it."""

from __future__ import annotations

from reflex.istate.data import RouterData
from sqlmodel import Session

from tests.factories import (
    STRONG_PASSWORD,
    balances,
    fresh,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from tests.state.conftest import new_state, redirect_target, toasts
from visio.models import StoredStatus, VideoSession
from visio.services import accounts, enrollments
from visio.state.session_detail import SessionDetailState


def _page(db: Session, user, session_id: int, lang: str = "en") -> SessionDetailState:  # type: ignore[no-untyped-def]
    """The page state of `user`, at /teacher/video-sessions/<session_id> in the browser."""
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(SessionDetailState, token)
    state.lang_choice = lang
    state.router = RouterData.from_router_data(
        {
            "pathname": "/teacher/video-sessions/[session_id]",
            "asPath": f"/teacher/video-sessions/{session_id}",
            "headers": {"origin": "http://localhost:3000"},
        }
    )
    return state


def _paid_session_with_students(db, now_clock, teacher, n=2):  # type: ignore[no-untyped-def]
    session = make_session(
        db, teacher=teacher, clock=now_clock, publish=True, is_paid=True, price_cents=1_500
    )
    students = [make_funded_student(db, clock=now_clock, amount_cents=4_000) for _ in range(n)]
    for student in students:
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=now_clock)
    return session, students


def test_a_student_is_sent_home_and_sees_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    session, (student, _) = _paid_session_with_students(
        db, now_clock, make_teacher(db, clock=now_clock)
    )
    state = _page(db, student, session.id)

    result = state.on_load()

    assert redirect_target(result) == "/student/video-sessions"
    assert state.found is False
    assert (state.title, state.link, state.students, state.history) == ("", "", [], [])


def test_another_teacher_sees_an_error_and_none_of_the_session(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    session = make_session(db, teacher=make_teacher(db, clock=now_clock), clock=now_clock)
    state = _page(db, make_teacher(db, clock=now_clock), session.id)

    assert redirect_target(state.on_load()) is None

    assert state.found is False and state.loading is False
    assert state.error_text == "Only the teacher who created this session can do that."
    assert (state.title, state.link, state.students, state.history) == ("", "", [], [])


def test_an_unknown_id_in_the_address_says_not_found(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _page(db, make_teacher(db, clock=now_clock), 10**9)
    state.on_load()
    assert state.found is False
    assert state.error_text == "This session does not exist."


def test_the_owner_sees_the_session_its_students_and_its_history(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session, students = _paid_session_with_students(db, now_clock, teacher)
    state = _page(db, teacher, session.id)

    loaded = state.on_load()
    assert loaded.handler.fn.__qualname__ == "MaterialsState.load_for"  # the panel loads next

    assert state.found is True and state.loading is False and state.error_text == ""
    assert state.current_id == session.id
    assert (state.title, state.status) == (session.title, "scheduled")
    assert state.link == session.link  # the owner, and only they, get the private link
    assert sorted(line["name"] for line in state.students) == sorted(s.full_name for s in students)
    assert {line["status"] for line in state.students} == {"active"}
    assert [line["label"] for line in state.history] == [
        "Student enrolled",
        "Student enrolled",
        "Published",
        "Created",
    ]
    assert state.history[0]["who"] in {s.full_name for s in students}
    assert (state.can_edit, state.can_publish, state.can_cancel) == (True, False, True)
    assert state.can_delete is False
    assert state.delete_blocker != ""
    assert "2 student(s)" in state.refund_note


def test_cancel_without_a_reason_shows_the_error_and_cancels_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session, students = _paid_session_with_students(db, now_clock, teacher)
    state = _page(db, teacher, session.id)
    state.on_load()
    state.set_cancel_open(True)
    state.set_cancel_reason("   ")
    counts, before = table_counts(db), balances(db, *students)

    assert state.confirm_cancel() is None

    assert state.cancel_error == "Give a reason for the cancellation."
    assert state.cancel_open is True
    assert table_counts(db) == counts
    assert balances(db, *students) == before
    assert fresh(db, VideoSession, session.id)["status"] == StoredStatus.SCHEDULED


def test_cancel_with_a_reason_cancels_and_refunds_every_payer(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session, students = _paid_session_with_students(db, now_clock, teacher)
    state = _page(db, teacher, session.id)
    state.on_load()
    state.set_cancel_open(True)
    state.set_cancel_reason("The teacher is ill")

    result = state.confirm_cancel()

    assert [level for level, _ in toasts(result)] == ["success"]
    assert "2 student(s) refunded" in toasts(result)[0][1]
    stored = fresh(db, VideoSession, session.id)
    assert (stored["status"], stored["cancel_reason"]) == ("cancelled", "The teacher is ill")
    assert balances(db, *students) == {**{s.email: 4_000 for s in students}, "escrow": 0}
    assert (state.cancel_open, state.cancel_reason, state.cancel_error) == (False, "", "")
    assert (state.status, state.can_cancel, state.can_edit) == ("cancelled", False, False)
    assert state.cancel_note == "Cancelled: The teacher is ill"
    assert {line["status"] for line in state.students} == {"cancelled"}
    assert [line["label"] for line in state.history[:3]] == [
        "Cancelled",
        "Payment refunded",
        "Payment refunded",
    ]


def test_delete_of_a_session_with_enrollments_is_refused_and_deletes_nothing(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True)
    enrollments.enroll(
        db=db, actor=make_student(db, clock=now_clock), video_session_id=session.id, clock=now_clock
    )
    state = _page(db, teacher, session.id)
    state.on_load()
    state.set_delete_open(True)
    counts = table_counts(db)

    result = state.confirm_delete()

    assert [level for level, _ in toasts(result)] == ["error"]
    assert redirect_target(result) is None
    assert state.delete_open is False and state.busy is False
    assert table_counts(db) == counts
    assert fresh(db, VideoSession, session.id) is not None


def test_delete_of_a_draft_goes_back_to_the_list(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    draft = make_session(db, teacher=teacher, clock=now_clock)
    state = _page(db, teacher, draft.id)
    state.on_load()
    assert state.can_delete is True

    result = state.confirm_delete()

    assert redirect_target(result) == "/teacher/video-sessions"
    assert fresh(db, VideoSession, draft.id) is None


def test_a_student_firing_cancel_is_refused_and_nothing_changes(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session, (student, _) = _paid_session_with_students(db, now_clock, teacher)
    state = _page(db, student, session.id)
    state._session_id = session.id  # as if the id had reached the state somehow
    state.cancel_reason = "Not my session"
    counts = table_counts(db)

    assert redirect_target(state.confirm_cancel()) == "/student/video-sessions"
    assert table_counts(db) == counts
    assert fresh(db, VideoSession, session.id)["status"] == StoredStatus.SCHEDULED


def test_publish_from_the_page_updates_what_it_shows(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    draft = make_session(db, teacher=teacher, clock=now_clock)
    state = _page(db, teacher, draft.id)
    state.on_load()
    assert (state.status, state.can_publish) == ("draft", True)

    result = state.publish()

    assert toasts(result) == [("success", "Session published: students can enroll.")]
    assert (state.status, state.can_publish) == ("scheduled", False)
    assert fresh(db, VideoSession, draft.id)["status"] == StoredStatus.SCHEDULED
