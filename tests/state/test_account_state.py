"""The /account and /unsubscribe pages' handlers: preferences from the kinds' metadata, saved
on toggle; the password change keeps this browser's login and revokes the others; the
unsubscribe page names the kind on opening and turns it off only on the button."""

from __future__ import annotations

from typing import Any

from reflex.istate.data import RouterData
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_student, make_teacher
from tests.state.conftest import new_state, redirect_target, run_async, toasts
from visio.models import User
from visio.services import accounts, notice_preferences, unsubscribe
from visio.state.account import AccountState
from visio.state.unsubscribe import UnsubscribeState

NEW_PASSWORD = "Copper-Meadow-Falcon-31"


def _account(db: Session, user: User | None) -> AccountState:
    token = (
        ""
        if user is None
        else accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    )
    state = new_state(AccountState, token)
    state.lang_choice = "en"
    state.router = RouterData.from_router_data({"pathname": "/account", "asPath": "/account"})
    return state


def _drain(handler_call) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run an async-generator handler to its end; what it yielded."""

    async def collect() -> list[Any]:
        return [item async for item in handler_call]

    return run_async(collect())


def test_a_visitor_is_sent_to_the_login(bound, db) -> None:  # type: ignore[no-untyped-def]
    state = _account(db, None)

    assert redirect_target(state.on_load()) == "/login?next=/account"


def test_the_page_lists_the_optional_kinds_of_the_role(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _account(db, make_student(db, clock=now_clock))

    state.on_load()

    rows = {row["kind"]: row for row in state.pref_rows}
    assert rows["session_moved"]["label"] == "Session moved"
    assert rows["session_moved"]["on"] is True
    assert rows["session_moved"]["hint"]
    assert "session_cancelled" not in rows
    teacher = _account(db, make_teacher(db, clock=now_clock))
    teacher.on_load()
    assert "enrollment_confirmed" not in {row["kind"] for row in teacher.pref_rows}


def test_a_toggle_is_saved_at_once_with_a_toast(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _account(db, student)
    state.on_load()

    result = state.set_email_choice("session_moved", False)

    assert toasts(result) == [("success", "No more “Session moved” mails.")]
    assert {r["kind"]: r["on"] for r in state.pref_rows}["session_moved"] is False
    assert not notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
    again = _account(db, student)
    again.on_load()
    assert {r["kind"]: r["on"] for r in again.pref_rows}["session_moved"] is False


def test_a_forged_kind_is_refused_with_a_toast(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _account(db, student)

    result = state.set_email_choice("session_cancelled", False)

    [(level, message)] = toasts(result)
    assert level == "error" and "session_cancelled" in message
    assert notice_preferences.wants_email(db, user_id=student.id, kind="session_cancelled")


def test_the_time_zone_is_saved(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _account(db, student)

    state.set_timezone("America/Chicago")
    state.set_timezone("Mars/Olympus")

    db.refresh(student)
    assert student.timezone == "America/Chicago" == state.timezone_choice


def test_a_password_change_keeps_this_login_and_revokes_the_others(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _account(db, student)
    other = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    form = {
        "current_password": STRONG_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }

    _drain(state.change_password(form))

    assert state.password_changed and state.password_errors == {}
    assert accounts.user_for_token(db=db, token=state.token) is not None
    assert accounts.user_for_token(db=db, token=other.token) is None


def test_password_mistakes_are_shown_by_their_field(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _account(db, make_student(db, clock=now_clock))

    _drain(state.change_password({"new_password": "a", "confirm_password": "b"}))
    assert state.password_errors == {"confirm_password": "The two passwords differ."}

    wrong = {"current_password": "nope-nope-nope", "new_password": NEW_PASSWORD}
    _drain(state.change_password({**wrong, "confirm_password": NEW_PASSWORD}))
    assert state.password_errors == {"current_password": "The current password is wrong."}

    weak = {"current_password": STRONG_PASSWORD, "new_password": "short"}
    _drain(state.change_password({**weak, "confirm_password": "short"}))
    assert state.password_errors == {"new_password": "The password needs at least 10 characters."}
    assert not state.password_changed


def _unsubscribe_page(token: str) -> UnsubscribeState:
    state = new_state(UnsubscribeState)
    state.lang_choice = "en"
    path = f"/unsubscribe?token={token}"
    state.router = RouterData.from_router_data(
        {"pathname": "/unsubscribe", "asPath": path, "query": {"token": token}}
    )
    return state


def test_opening_the_unsubscribe_page_names_the_kind_and_changes_nothing(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")
    state = _unsubscribe_page(token)

    state.open_page()

    assert state.question == "Stop receiving “Session moved” mails?"
    assert notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
    state.confirm()
    assert state.unsubscribed
    assert state.done_message == "Done: you will no longer get “Session moved” mails."
    assert not notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")


def test_a_bad_unsubscribe_link_says_so(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")
    state = _unsubscribe_page(token[:-1] + ("x" if token[-1] != "x" else "y"))

    state.open_page()
    state.confirm()

    assert state.link_error.startswith("This unsubscribe link is not valid")
    assert not state.unsubscribed
    assert notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
