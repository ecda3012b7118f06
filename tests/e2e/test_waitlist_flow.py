"""The waiting list in a real browser (issue 13): a student joins the line of a full session, the
enrolled student leaves, and the first in line finds the seat on the page and in their mail."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import login, open_path, unique_email
from tests.e2e.test_password_reset_flow import wait_for_mail
from tests.factories import STRONG_PASSWORD, make_funded_student, make_session, make_teacher
from visio.clock import FrozenClock, utcnow
from visio.i18n import t
from visio.i18n.formatting import format_money
from visio.services import enrollments, waitlist
from visio.settings import settings

pytestmark = pytest.mark.e2e
SCREENS = ARTIFACTS / "screens"
PRICE = 1_500


def _full_session(app_db, clock, title: str):  # type: ignore[no-untyped-def]
    teacher = make_teacher(app_db, clock=clock, email=unique_email("teacher"))
    session = make_session(
        app_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        title=title,
        capacity=1,
        is_paid=True,
        price_cents=PRICE,
    )
    seated = make_funded_student(
        app_db, clock=clock, amount_cents=5_000, email=unique_email("seated")
    )
    enrollments.enroll(db=app_db, actor=seated, video_session_id=session.id, clock=clock)
    return teacher, session, seated


def _signed_in(new_page, user, locale: str = "en-US", width: int = 1280):  # type: ignore[no-untyped-def]
    page = new_page(locale, width=width, height=900 if width > 600 else 844)
    login(page, user.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/(student|teacher)/video-sessions/?$"))
    return page


def test_the_first_in_line_gets_the_seat_another_student_gives_back(new_page, app_db, app_server):  # type: ignore[no-untyped-def]
    clock = FrozenClock(utcnow())
    title = f"Waiting-list workshop {uuid.uuid4().hex[:6]}"
    _, session, seated = _full_session(app_db, clock, title)
    waiting = make_funded_student(
        app_db, clock=clock, amount_cents=5_000, email=unique_email("waiting")
    )

    student = _signed_in(new_page, waiting)
    open_path(student, f"/sessions/{session.id}")
    student.click("#action-join-waitlist")
    place = student.locator("#waitlist-place")
    place.wait_for()
    assert "You are #1 in line" in place.inner_text()

    leaver = _signed_in(new_page, seated)
    open_path(leaver, f"/sessions/{session.id}")
    leaver.click("#action-unenroll")
    leaver.click("#confirm-unenroll")
    leaver.locator("#action-join-waitlist").wait_for()  # full again: the seat went to the line

    open_path(student, f"/sessions/{session.id}")
    student.locator("#action-unenroll").wait_for()  # enrolled: may give the seat back
    assert student.get_by_text("You are enrolled").first.is_visible()

    # The mail speaks the account's language (the default, French, for an account made here).
    subject = t("mail.waitlist_promoted.subject", settings.default_locale, title=title)
    mail = wait_for_mail(app_server.mail_dir, waiting.email, subject)
    body = mail.get_body(("plain",)).get_content()
    assert (
        f"/sessions/{session.id}" in body and format_money(PRICE, settings.default_locale) in body
    )
    assert session.link not in mail.as_string()


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
@pytest.mark.parametrize("width", [390, 1280])
def test_screens_of_the_waiting_list(new_page, app_db, locale, width) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    clock = FrozenClock(utcnow())
    teacher, session, _ = _full_session(app_db, clock, "Atelier d'écriture")
    first, second = (
        make_funded_student(app_db, clock=clock, amount_cents=5_000, email=unique_email("line"))
        for _ in range(2)
    )
    waitlist.join(db=app_db, actor=first, video_session_id=session.id, clock=clock)
    lang = locale[:2]

    page = _signed_in(new_page, second, locale, width)
    open_path(page, f"/sessions/{session.id}")
    page.locator("#action-join-waitlist").wait_for()
    page.screenshot(path=str(SCREENS / f"waitlist-join-{lang}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#action-join-waitlist")
    page.locator("#waitlist-place").wait_for()
    page.screenshot(path=str(SCREENS / f"waitlist-place-{lang}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    owner = _signed_in(new_page, teacher, locale, width)
    open_path(owner, f"/teacher/video-sessions/{session.id}")
    owner.locator("#waiting-list").wait_for()
    owner.locator("#waiting-list").scroll_into_view_if_needed()
    owner.screenshot(path=str(SCREENS / f"waitlist-teacher-{lang}-{width}.png"), full_page=True)
    assert owner.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
