"""Pages are guarded on the server: the role is checked before any data is loaded."""

from __future__ import annotations

from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state, redirect_target, run_async
from visio.services import accounts
from visio.state.auth import AuthState
from visio.state.sessions import StudentSessionsState, TeacherSessionsState


def _token(db: Session, email: str) -> str:
    return accounts.login(db=db, email=email, password=STRONG_PASSWORD, address=None).token


def test_student_opening_the_teacher_page_is_redirected_and_gets_no_teacher_data(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    make_session(db, teacher=teacher, clock=now_clock, publish=True)
    student = make_student(db, clock=now_clock)
    state = new_state(TeacherSessionsState, _token(db, student.email))

    result = state.on_load()

    assert redirect_target(result) == "/student/video-sessions"
    assert state.cards == []
    assert state.total == 0


def test_teacher_opening_the_teacher_page_sees_only_their_sessions(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher, other = make_teacher(db, clock=now_clock), make_teacher(db, clock=now_clock)
    mine = make_session(db, teacher=teacher, clock=now_clock)
    make_session(db, teacher=other, clock=now_clock)
    state = new_state(TeacherSessionsState, _token(db, teacher.email))

    assert redirect_target(state.on_load()) is None
    assert [card["title"] for card in state.cards] == [mine.title]
    assert state.user_role == "teacher"


def test_logged_out_visitor_is_sent_to_login_with_the_page_to_come_back_to(bound) -> None:  # type: ignore[no-untyped-def]
    state = new_state(StudentSessionsState, "")
    assert redirect_target(state.on_load()).startswith("/login?next=")
    assert state.cards == []


def test_a_revoked_token_no_longer_opens_pages(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    token = _token(db, student.email)
    accounts.logout(db=db, token=token)
    state = new_state(StudentSessionsState, token)
    assert redirect_target(state.on_load()).startswith("/login")
    assert state.user_name == ""


def test_login_handler_keeps_the_token_and_sends_the_user_home(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = new_state(AuthState)

    result = run_async(state.login({"email": student.email.upper(), "password": STRONG_PASSWORD}))

    assert redirect_target(result) == "/student/video-sessions"
    assert accounts.user_for_token(db=db, token=state.token).id == student.id
    assert state.form_error == ""


def test_login_handler_shows_the_same_message_for_unknown_email_and_wrong_password(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = new_state(AuthState)
    state.lang_choice = "en"
    run_async(state.login({"email": student.email, "password": "wrong-password-here"}))
    wrong_password = state.form_error
    run_async(state.login({"email": "nobody@example.org", "password": "wrong-password-here"}))
    assert wrong_password == state.form_error == "Wrong email or password."
    assert state.token == ""


def test_register_handler_puts_the_error_next_to_its_field(bound, db) -> None:  # type: ignore[no-untyped-def]
    state = new_state(AuthState)
    state.lang_choice = "fr"
    run_async(
        state.register({"full_name": "Marie Curie", "email": "marie@", "password": STRONG_PASSWORD})
    )
    assert state.errors == {"email": "Saisissez une adresse e-mail valide, comme nom@exemple.fr."}
    assert state.token == ""
