"""The login and register pages' handlers: throttling by the browser's address, long passwords,
and a registration that never reveals an account."""

from __future__ import annotations

from sqlmodel import select

from tests.factories import STRONG_PASSWORD, audit_actions, make_student
from tests.state.conftest import new_state, redirect_target, run_async
from visio.models import User
from visio.services import accounts
from visio.settings import settings
from visio.state.auth import AuthState


def _auth_state(lang: str = "en") -> AuthState:
    state = new_state(AuthState)
    state.lang_choice = lang
    return state


def test_login_page_refuses_an_over_long_password_with_a_clear_message(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _auth_state()

    run_async(state.login({"email": student.email, "password": "x" * 5000}))

    assert state.form_error == "The password is too long (at most 256 characters)."
    assert state.token == ""


def test_login_page_throttles_by_the_browsers_address(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _auth_state()
    for _ in range(settings.login_max_failures):
        run_async(state.login({"email": student.email, "password": "Wrong-Password-9"}))
        assert state.form_error == "Wrong email or password."

    run_async(state.login({"email": student.email, "password": STRONG_PASSWORD}))

    assert state.form_error.startswith("Too many attempts")
    assert state.token == ""


def _register(state: AuthState, email: str, password: str, name: str = "Marie Curie"):  # type: ignore[no-untyped-def]
    return run_async(state.register({"full_name": name, "email": email, "password": password}))


def test_register_page_with_a_taken_email_and_another_password_is_a_failed_login(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    owner = make_student(db, clock=now_clock, full_name="Marie Curie")
    state = _auth_state()

    result = _register(state, owner.email.upper(), "Another-Harbour-Lantern-7", "Someone Else")

    assert state.form_error == "Wrong email or password."
    assert state.errors == {}
    assert state.token == "" and redirect_target(result) is None
    db.expire_all()
    assert db.exec(select(User.full_name).where(User.email == owner.email)).one() == "Marie Curie"
    assert "user.registration_attempted" in audit_actions(db, target_id=owner.id)


def test_register_page_with_a_taken_email_and_its_password_just_logs_in(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    owner = make_student(db, clock=now_clock)
    state = _auth_state()

    result = _register(state, owner.email, STRONG_PASSWORD)

    assert redirect_target(result) == "/student/video-sessions"
    assert accounts.user_for_token(db=db, token=state.token).id == owner.id


def test_register_page_logs_a_new_account_in(bound, db) -> None:  # type: ignore[no-untyped-def]
    state = _auth_state()
    state.browser_tz = "Asia/Tokyo"

    result = _register(state, "irene.joliot@example.org", STRONG_PASSWORD, "Irène Joliot")

    assert redirect_target(result) == "/student/video-sessions"
    user = accounts.user_for_token(db=db, token=state.token)
    assert (user.email, user.timezone) == ("irene.joliot@example.org", "Asia/Tokyo")
