"""/account and /unsubscribe in a real browser: the menu leads to the account page, a
notification switch is saved (still off after a reload), the password is changed and works at
the next login; a mail's unsubscribe link works without being logged in. Screenshots of both
pages at phone and wide widths, in French and English, land in test-artifacts/screens/."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import PASSWORD, login, logout, open_path, register, unique_email
from visio.models import User
from visio.services import notice_preferences, unsubscribe

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "Amber-Quarry-Whistle-77"
SCREENS = ARTIFACTS / "screens"


def _user(app_db, email: str) -> User:  # type: ignore[no-untyped-def]
    app_db.rollback()
    return app_db.exec(select(User).where(User.email == email)).one()


def test_a_student_manages_notifications_and_changes_the_password(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    email = unique_email("account")
    page = new_page("en-US")
    register(page, role="student", name="Ada Lovelace", email=email)

    page.click("#account-menu")
    page.click("#account-link")
    page.wait_for_url(re.compile(r"/account/?$"))
    page.get_by_role("heading", name="My account").wait_for()
    switch = page.locator("#pref-session_moved")
    switch.wait_for()
    assert switch.get_attribute("aria-checked") == "true"
    assert page.get_by_text("Always mailed, they cannot be turned off").is_visible()

    switch.click()
    page.get_by_text("No more “Session moved” mails.").wait_for()
    page.reload()
    open_path(page, "/account")
    page.locator("#pref-session_moved[aria-checked=false]").wait_for()
    assert page.locator("#pref-enrollment_confirmed").get_attribute("aria-checked") == "true"
    user = _user(app_db, email)
    assert not notice_preferences.wants_email(app_db, user_id=user.id, kind="session_moved")

    other_device = new_page("en-US")
    login(other_device, email)
    other_device.wait_for_url(re.compile(r"/student/video-sessions/?$"))

    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("#password-submit")
    page.locator("#password-changed").wait_for()
    assert page.locator("#current_password").input_value() == ""

    open_path(other_device, "/wallet")  # that login was revoked
    other_device.wait_for_url(re.compile(r"/login"))

    logout(page)
    login(page, email)  # the old password
    page.locator("#form-error").wait_for()
    login(page, email, NEW_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))


def test_an_unsubscribe_link_works_without_logging_in(new_page, app_server, app_db) -> None:  # type: ignore[no-untyped-def]
    email = unique_email("unsub")
    register(new_page("fr-FR"), role="student", name="Alan Turing", email=email)
    user = _user(app_db, email)
    token = unsubscribe.token_for(app_db, user_id=user.id, kind="enrollment_confirmed")

    page = new_page("fr-FR")  # a mail program's browser: nobody logged in
    open_path(page, f"/unsubscribe?token={token}")
    page.locator("#unsubscribe-kind").wait_for()
    assert "Inscription confirmée" in page.locator("#unsubscribe-kind").inner_text()
    assert notice_preferences.wants_email(app_db, user_id=user.id, kind="enrollment_confirmed")

    page.click("#unsubscribe-confirm")
    page.locator("#unsubscribe-done").wait_for()
    app_db.rollback()
    assert not notice_preferences.wants_email(app_db, user_id=user.id, kind="enrollment_confirmed")
    assert page.locator("#manage").get_attribute("href") == "/account"

    open_path(page, f"/unsubscribe?token={token[:-1]}x")
    page.locator("#unsubscribe-error").wait_for()


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
@pytest.mark.parametrize("width", [390, 1280])
def test_screens_of_account_and_unsubscribe(new_page, app_db, locale, width) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    email = unique_email("screens")
    page = new_page(locale, width=width, height=900 if width > 600 else 844)
    register(page, role="student", name="Grace Hopper", email=email)
    token = unsubscribe.token_for(
        app_db, user_id=_user(app_db, email).id, kind="enrollment_confirmed"
    )

    open_path(page, "/account")
    page.locator("#pref-session_moved").wait_for()
    lang = locale[:2]
    page.screenshot(path=str(SCREENS / f"account-{lang}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    visitor = new_page(locale, width=width, height=900 if width > 600 else 844)
    open_path(visitor, f"/unsubscribe?token={token}")
    visitor.locator("#unsubscribe-kind").wait_for()
    visitor.screenshot(path=str(SCREENS / f"unsubscribe-{lang}-{width}.png"), full_page=True)
    assert visitor.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    visitor.click("#unsubscribe-confirm")
    visitor.locator("#unsubscribe-done").wait_for()
    visitor.screenshot(path=str(SCREENS / f"unsubscribed-{lang}-{width}.png"), full_page=True)
