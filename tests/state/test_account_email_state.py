"""The address in the app: the banner's vars and its "send again", the /account change form,
and the /verify-email page's handler."""

from __future__ import annotations

from unittest.mock import PropertyMock, patch

from sqlmodel import select

from tests.factories import STRONG_PASSWORD, make_student
from tests.state.conftest import new_state, redirect_target, run_async, toasts
from visio.models import Notice, User
from visio.services import accounts, email_verification
from visio.state.account_email import AccountEmailState
from visio.state.verify_email import VerifyEmailState


def _logged_in(state_cls, db, user: User):  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(state_cls, token)
    state.lang_choice = "en"
    return state


def _links(db, email: str) -> list[Notice]:  # type: ignore[no-untyped-def]
    db.rollback()
    return list(db.exec(select(Notice).where(Notice.email == email, Notice.kind == "verify_email")))


def test_the_banner_shows_for_an_unverified_account_and_resends(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock, verified=False)
    state = _logged_in(AccountEmailState, db, student)

    state.current_user()
    assert (state.email_verified, state.email_refused) == (False, False)
    assert state.banner_unverified == f"Confirm your address: we sent a link to {student.email}."

    result = run_async(state.resend_link())

    assert toasts(result) == [("success", f"A new link is on its way to {student.email}.")]
    assert len(_links(db, student.email)) == 2


def test_resend_is_throttled_with_a_message(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock, verified=False)
    state = _logged_in(AccountEmailState, db, student)
    for _ in range(email_verification.LINKS_PER_HOUR - 1):
        run_async(state.resend_link())

    [(level, message)] = toasts(run_async(state.resend_link()))

    assert level == "warning" and message.startswith("Too many links")
    assert len(_links(db, student.email)) == email_verification.LINKS_PER_HOUR


def test_resend_without_a_login_goes_to_the_login_page(bound, db) -> None:  # type: ignore[no-untyped-def]
    state = new_state(AccountEmailState, "forged-token")
    assert redirect_target(run_async(state.resend_link())) == "/login"


def test_a_verified_account_has_no_banner(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _logged_in(AccountEmailState, db, student)
    state.current_user()
    assert (state.email_verified, state.email_refused) == (True, False)


def test_a_refused_address_is_shown(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    db.get(User, student.id).email_refused_at = now_clock()  # type: ignore[union-attr]
    db.commit()
    state = _logged_in(AccountEmailState, db, student)
    state.current_user()
    assert state.email_refused is True
    assert student.email in state.banner_refused and "/account" not in state.banner_refused


def test_the_change_form_sends_a_link_and_the_address_stays(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _logged_in(AccountEmailState, db, student)

    run_async(state.request_change({"email": "Moved@Example.org", "password": STRONG_PASSWORD}))

    assert state.change_errors == {} and state.change_error == ""
    assert state.change_sent_message == (
        "Link sent to moved@example.org; your address changes once you open it."
    )
    assert len(_links(db, "moved@example.org")) == 1
    assert state.user_email == student.email


def test_the_change_form_shows_errors_next_to_their_field(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    state = _logged_in(AccountEmailState, db, student)

    run_async(state.request_change({"email": "moved@example.org", "password": "nope"}))
    assert state.change_errors == {"password": "The current password is wrong."}
    run_async(state.request_change({"email": "nope", "password": STRONG_PASSWORD}))
    assert list(state.change_errors) == ["email"] and state.change_sent_to == ""


def _verify_page(token: str, session_token: str = "") -> VerifyEmailState:
    state = new_state(VerifyEmailState, session_token)
    state.lang_choice = "en"
    state.browser_tz = "Europe/Paris"
    return state


def _open(state: VerifyEmailState, token: str) -> None:
    with patch.object(
        VerifyEmailState, "verify_token", new_callable=PropertyMock, return_value=token
    ):
        run_async(state.open_page())


def test_the_verify_page_proves_the_address_and_the_banner_goes(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock, verified=False)
    login = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    state = _verify_page("", login.token)
    token = _links(db, student.email)[0].data["token"]

    _open(state, token)

    assert (state.outcome, state.confirmed_email) == ("done", student.email)
    assert state.email_verified is True
    _open(state, token)  # the same link again
    assert state.outcome == "failed"
    assert state.failure == "This link is not valid, or was already used."


def test_the_verify_page_without_a_token_says_so(bound, db) -> None:  # type: ignore[no-untyped-def]
    state = _verify_page("")
    _open(state, "")
    assert state.outcome == "failed" and "link from the mail" in state.failure
