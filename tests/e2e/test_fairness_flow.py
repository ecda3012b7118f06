"""Trust in a real browser (issue 11): a moved session tells its students and refunds them past the
deadline; the login never follows a `next` off the site."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.e2e.helpers import login, open_path, unique_email, wait_ready
from tests.factories import (
    STRONG_PASSWORD,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
)
from visio.clock import FrozenClock, utcnow
from visio.services import enrollments
from visio.services.session_edit import current_input, update_session

pytestmark = pytest.mark.e2e


def test_a_moved_session_tells_the_student_and_refunds_past_the_deadline(new_page, app_db):
    now = utcnow()
    yesterday = FrozenClock(now - timedelta(days=1))
    teacher = make_teacher(app_db, clock=yesterday)
    # Enrollment closed an hour ago; the class was two days out.
    session = make_session(
        app_db,
        teacher=teacher,
        clock=yesterday,
        publish=True,
        title="Atelier d'écriture",
        starts_at=now + timedelta(days=2),
        enrollment_deadline=now - timedelta(hours=1),
        is_paid=True,
        price_cents=2400,
    )
    student = make_funded_student(
        app_db, clock=yesterday, amount_cents=5000, email=unique_email("ines")
    )
    enrollments.enroll(db=app_db, actor=student, video_session_id=session.id, clock=yesterday)
    later = session.starts_at + timedelta(days=5)
    update_session(
        db=app_db,
        actor=teacher,
        video_session_id=session.id,
        data=replace(current_input(app_db, session), starts_at=later),
    )

    page = new_page("fr-FR")
    login(page, student.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    open_path(page, "/student/video-sessions?view=upcoming")
    note = page.locator(".card-note").first
    note.wait_for()
    assert "Déplacée par l'enseignant" in note.inner_text()

    open_path(page, f"/sessions/{session.id}")
    moved = page.locator("#moved-note")
    moved.wait_for()
    assert "L'enseignant a déplacé cette session" in moved.inner_text()
    assert "remboursement complet" in moved.inner_text()
    page.click("#action-unenroll")
    page.click("#confirm-unenroll")
    page.get_by_text("24,00").first.wait_for()
    page.wait_for_function(
        "document.querySelector('#wallet-balance').innerText === '50,00\\u00a0€'"
    )


def test_login_never_follows_next_off_the_site(new_page, app_db):
    student = make_student(app_db, clock=FrozenClock(utcnow()), email=unique_email("tab"))
    page = new_page("en-US")
    open_path(page, "/login?next=/%09/evil.example")
    assert page.locator("#login-submit").is_visible()
    login(page, student.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    wait_ready(page)
    assert "evil.example" not in page.url
