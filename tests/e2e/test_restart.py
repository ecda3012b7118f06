"""Restarting every worker between an enrollment and a cancellation loses nothing."""

from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import login, open_path, wait_ready
from tests.factories import STRONG_PASSWORD, make_funded_student, make_session, make_teacher
from visio.clock import FrozenClock, utcnow

pytestmark = pytest.mark.e2e


def test_a_restart_between_enroll_and_cancel_keeps_logins_seats_and_money(
    new_page, app_db, app_server
) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(utcnow())
    teacher = make_teacher(app_db, clock=clock)
    student = make_funded_student(app_db, clock=clock, amount_cents=3000)
    session = make_session(
        app_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=1000,
        title="Thermodynamique après redémarrage",
    )

    page = new_page("fr-FR")
    open_path(page, "/login")
    login(page, student.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    open_path(page, f"/sessions/{session.id}")
    page.click("#action-pay")
    page.click("#confirm-pay")
    page.get_by_text("Payé et inscrit").wait_for()

    app_server.restart()

    page.reload()
    wait_ready(page)
    page.locator("#action-unenroll").wait_for()  # still logged in, still enrolled
    assert page.locator("#wallet-balance").inner_text() == "20,00\xa0€"

    teacher_page = new_page("fr-FR")
    open_path(teacher_page, "/login")
    login(teacher_page, teacher.email, STRONG_PASSWORD)
    teacher_page.wait_for_url(re.compile(r"/teacher/video-sessions/?$"))
    open_path(teacher_page, f"/teacher/video-sessions/{session.id}")
    teacher_page.click("#cancel-session")
    teacher_page.fill("#cancel-reason", "Salle indisponible")
    teacher_page.click("#confirm-cancel")
    teacher_page.get_by_text("Session annulée. 1 étudiant(s) remboursé(s)").wait_for()

    open_path(page, f"/sessions/{session.id}")
    page.locator("#refund-note").wait_for()
    assert page.locator("#wallet-balance").inner_text() == "30,00\xa0€"
