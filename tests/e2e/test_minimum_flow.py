"""A teacher sets a minimum of participants in the dialog, sees how many more are needed, then
that it is reached (with the "Confirmed" badge) once students enroll."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from tests.e2e.helpers import register, unique_email, wait_ready
from tests.factories import make_student
from visio.clock import FrozenClock, utcnow
from visio.models import VideoSession
from visio.services import enrollments

pytestmark = pytest.mark.e2e


def test_teacher_sets_a_minimum_and_sees_it_reached(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    token = f"zm{secrets.token_hex(3)}"
    page = new_page("en-US")
    register(page, role="teacher", name="Maria Montessori", email=unique_email("minimum"))

    page.click("#create-session")
    page.fill("#field-title", f"Choir {token}")
    page.fill("#field-date", (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d"))
    page.fill("#field-time", "18:00")
    page.click("#toggle-advanced")
    page.fill("#field-capacity", "5")
    page.fill("#field-min_participants", "6")
    page.click("#form-publish")
    page.get_by_text("The minimum cannot be above the number of seats (5).").wait_for()
    page.fill("#field-min_participants", "2")
    page.click("#form-publish")

    page.wait_for_url(re.compile(r"/teacher/video-sessions/\d+/?$"))
    wait_ready(page)
    note = page.locator("#minimum-note")
    note.wait_for()
    assert note.inner_text().startswith("2 more needed by ")

    session_id = int(re.search(r"/teacher/video-sessions/(\d+)", page.url).group(1))
    session = app_db.get(VideoSession, session_id)
    assert session.min_participants == 2
    clock = FrozenClock(utcnow())
    for _ in range(2):
        student = make_student(app_db, clock=clock)
        enrollments.enroll(db=app_db, actor=student, video_session_id=session_id)

    page.reload()
    wait_ready(page)
    page.get_by_text("Minimum reached (2 participants)").wait_for()
    assert page.locator(".confirmed-badge").first.inner_text().strip() == "Confirmed"
