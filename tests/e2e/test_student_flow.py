"""A student in a real browser: top up, search, enroll free and paid, refunded on cancellation."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from tests.e2e.helpers import open_path, register, unique_email, wait_ready
from tests.factories import STRONG_PASSWORD, make_session, make_teacher
from visio.clock import FrozenClock, utcnow

pytestmark = pytest.mark.e2e


def test_student_enrolls_free_and_paid_and_gets_the_refund_when_the_teacher_cancels(
    new_page, app_db
) -> None:  # type: ignore[no-untyped-def]
    token = f"zq{secrets.token_hex(3)}"  # one search word that only these sessions have
    clock = FrozenClock(utcnow())
    teacher = make_teacher(app_db, clock=clock, full_name="Marie Curie")
    free = make_session(
        app_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        title=f"Géométrie {token}",
        tags=["géométrie"],
    )
    paid = make_session(
        app_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        title=f"Chimie {token}",
        is_paid=True,
        price_cents=1250,
        starts_at=clock() + timedelta(days=3),
    )

    page = new_page("fr-FR")
    register(page, role="student", name="Paul Langevin", email=unique_email("paul"))
    open_path(page, "/wallet")
    page.click("#topup-50")
    page.get_by_text("Portefeuille rechargé").wait_for()
    assert page.locator("#wallet-balance").inner_text() == "50,00\xa0€"

    open_path(page, "/student/video-sessions")
    page.fill("#filter-q", token)
    page.wait_for_function("document.querySelectorAll('.session-card').length === 2")
    page.fill("#filter-q", f"géométrie {token}")
    page.wait_for_function("document.querySelectorAll('.session-card').length === 1")
    page.locator(".session-link").first.click()
    page.wait_for_url(re.compile(rf"/sessions/{free.id}/?$"))
    wait_ready(page)
    page.click("#action-enroll")
    page.get_by_text("Vous êtes inscrit. À bientôt !").wait_for()
    assert page.locator("#action-unenroll").is_visible()

    open_path(page, f"/sessions/{paid.id}")
    line = page.locator("#balance-after-line")
    assert line.inner_text() == "Solde après paiement\xa0: 37,50\xa0€"
    page.click("#action-pay")
    assert page.locator("#balance-after").inner_text() == "37,50\xa0€"
    page.click("#confirm-pay")
    page.get_by_text("Payé et inscrit").wait_for()
    page.wait_for_function(
        "document.querySelector('#wallet-balance').innerText === '37,50\\u00a0€'"
    )

    teacher_page = new_page("fr-FR")
    open_path(teacher_page, "/login")
    teacher_page.fill("#email", teacher.email)
    teacher_page.fill("#password", STRONG_PASSWORD)
    teacher_page.click("#login-submit")
    teacher_page.wait_for_url(re.compile(r"/teacher/video-sessions/?$"))
    open_path(teacher_page, f"/teacher/video-sessions/{paid.id}")
    teacher_page.click("#cancel-session")
    assert "1 étudiant(s) seront remboursés" in teacher_page.locator("#refund-note").inner_text()
    teacher_page.fill("#cancel-reason", "Laboratoire indisponible")
    teacher_page.click("#confirm-cancel")
    teacher_page.get_by_text("Session annulée. 1 étudiant(s) remboursé(s)").wait_for()

    open_path(page, f"/sessions/{paid.id}")
    assert "12,50" in page.locator("#refund-note").inner_text()
    assert page.get_by_text("Annulée : Laboratoire indisponible").is_visible()
    open_path(page, "/wallet")
    assert page.locator("#wallet-page-balance").inner_text() == "50,00\xa0€"
    history = page.locator("#wallet-history").inner_text()
    assert "Remboursement" in history and "Paiement" in history and f"Chimie {token}" in history

    open_path(page, "/student/video-sessions?view=cancelled")
    assert page.get_by_text(f"Chimie {token}").is_visible()
