"""The bell and /notifications in a real browser: a student enrolls, the bell counts it, the page
lists it and leads to the session, and "mark all as read" empties the badge."""

from __future__ import annotations

import re
import time

import pytest
from sqlmodel import select

from tests.e2e.helpers import login, open_path, register, unique_email, wait_ready
from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from visio.clock import FrozenClock, utcnow
from visio.models import Notice, User
from visio.services import enrollments, mail, outbox, sessions

pytestmark = pytest.mark.e2e


def test_the_bell_counts_the_page_lists_and_mark_all_clears(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(utcnow())
    teacher = make_teacher(app_db, clock=clock)
    session = make_session(app_db, teacher=teacher, clock=clock, publish=True)
    email = unique_email("inbox")

    page = new_page("en-GB")
    register(page, role="student", name="Ada Lovelace", email=email)
    assert page.locator("#notification-badge").count() == 0
    assert page.locator("#notification-bell").get_attribute("aria-label") == "Notifications"
    # Landmarks, and the account menu's name holds the text it shows (axe: region, label-in-name).
    assert page.locator("header").count() == 1 and page.locator("main").count() == 1
    assert page.locator("#account-menu").get_attribute("aria-label") == "Ada Lovelace, account"

    open_path(page, f"/sessions/{session.id}")
    page.click("#action-enroll")
    page.locator("#action-unenroll").wait_for()

    open_path(page, "/student/video-sessions")
    page.locator("#notification-badge").wait_for()
    assert page.locator("#notification-badge").inner_text() == "1"
    bell = page.locator("#notification-bell")
    assert bell.get_attribute("aria-label") == "Notifications: 1 unread"

    bell.click()
    page.wait_for_url(re.compile(r"/notifications/?$"))
    wait_ready(page)
    unread = page.locator("#notifications-list li.notice-unread")
    unread.first.wait_for()
    assert unread.count() == 1
    assert f"You are enrolled: {session.title}" in unread.first.inner_text()

    page.locator(".notice-open").first.click()
    page.wait_for_url(re.compile(rf"/sessions/{session.id}/?$"))
    wait_ready(page)
    page.wait_for_function("!document.querySelector('#notification-badge')")

    # The teacher cancels: a second notice, unread; "mark all as read" clears the badge.
    student = app_db.exec(select(User).where(User.email == email)).one()
    sessions.cancel_session(
        db=app_db, actor=teacher, video_session_id=session.id, reason="Room flooded"
    )
    open_path(page, "/notifications")
    page.locator("#notification-badge").wait_for()
    assert page.locator("#notification-badge").inner_text() == "1"
    assert "Reason: Room flooded" in page.locator("li.notice-unread").first.inner_text()
    page.click("#mark-all-read")
    page.wait_for_function("!document.querySelector('#notification-badge')")
    assert page.locator("#notifications-list li.notice-unread").count() == 0
    assert page.locator("#mark-all-read").is_disabled()

    # Beyond nine, the badge says 9+.
    for n in range(10):
        outbox.enqueue(
            app_db, kind="unenrolled", user=student, data={"title": f"Old {n}"}, at=utcnow()
        )
    app_db.commit()
    open_path(page, "/notifications")
    page.wait_for_function("document.querySelector('#notification-badge')?.innerText === '9+'")
    assert page.locator("#notification-bell").get_attribute("aria-label") == (
        "Notifications: 10 unread"
    )


def test_the_teacher_reads_a_new_enrollment_once_the_sender_has_passed(
    new_page, app_db, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A seat writes the student's notice only; the sender writes the teacher's (seconds later,
    in every worker's loop): here a pass of its own, then the teacher's bell and list show it."""
    clock = FrozenClock(utcnow())
    teacher = make_teacher(app_db, clock=clock, full_name="Grace Hopper")
    teacher.locale = "en"
    app_db.commit()
    session = make_session(app_db, teacher=teacher, clock=clock, publish=True, capacity=1)
    student = make_student(app_db, clock=clock, full_name="Ada Lovelace")
    enrollments.enroll(db=app_db, actor=student, video_session_id=session.id, clock=clock)

    mine = select(Notice.kind).where(Notice.user_id == teacher.id)
    for _ in range(20):  # the app's own loop may be the one that writes them
        outbox.deliver_due(db=app_db, transport=mail.FileTransport(tmp_path), clock=clock)
        app_db.rollback()
        if len(app_db.exec(mine).all()) == 2:
            break
        time.sleep(0.25)

    assert sorted(app_db.exec(mine).all()) == ["new_enrollment", "session_full"]
    page = new_page("en-GB")
    login(page, teacher.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/teacher/"))
    open_path(page, "/notifications")
    page.locator("#notification-badge").wait_for()
    assert page.locator("#notification-badge").inner_text() == "2"
    items = page.locator("#notifications-list li.notice-unread")
    assert items.count() == 2
    listed = " ".join(items.all_inner_texts())
    assert f"New enrollment: {session.title}" in listed
    assert "Ada Lovelace" in listed and student.email not in listed
    assert "The only seat is taken" in listed  # one seat: said in the singular
