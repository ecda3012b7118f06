"""The "forgot password" and "new password" pages' handlers: the same words for every email,
throttling by the browser's address, two passwords that differ."""

from __future__ import annotations

from sqlmodel import select

from tests.factories import make_student
from tests.state.conftest import new_state, run_async
from visio.models import Notice
from visio.settings import settings
from visio.state.password_reset import PasswordResetState


def _state() -> PasswordResetState:
    state = new_state(PasswordResetState)
    state.lang_choice = "en"
    return state


def test_known_and_unknown_emails_read_the_same(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    known, unknown = _state(), _state()

    run_async(known.request_reset({"email": student.email.upper()}))
    run_async(unknown.request_reset({"email": "nobody@example.org"}))

    assert known.sent_message == f"If an account exists for {student.email}, " + (
        "a link to reset its password is on its way. It is valid for 1 hour."
    )
    assert unknown.sent_message == known.sent_message.replace(student.email, "nobody@example.org")
    assert (known.form_error, unknown.form_error) == ("", "")
    assert db.exec(select(Notice.email)).all() == [student.email]


def test_requests_are_throttled_by_the_browsers_address(bound, db) -> None:  # type: ignore[no-untyped-def]
    state = _state()
    for n in range(settings.reset_max_per_address):
        run_async(state.request_reset({"email": f"someone{n}@example.org"}))
        assert state.form_error == ""

    run_async(state.request_reset({"email": "one-more@example.org"}))

    assert state.form_error.startswith("Too many attempts")


def test_two_different_passwords_are_refused_before_anything_is_checked(bound) -> None:  # type: ignore[no-untyped-def]
    state = _state()

    run_async(state.reset_password({"password": "Amber-Quarry-77", "confirm": "Amber-Quarry-78"}))

    assert state.errors == {"confirm": "The two passwords differ."}
