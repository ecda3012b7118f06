"""The admin console in a real browser: an admin finds a student and suspends them (the
student's open tab is logged out at its next click), credits a teacher's wallet with a reason,
cancels a paid session (its student refunded), and downloads the audit log as CSV. Screenshots
of every admin page, French and English, wide and phone, land in test-artifacts/screens/."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import login, open_path, wait_ready
from tests.factories import (
    STRONG_PASSWORD,
    make_admin,
    make_funded_student,
    make_session,
    make_teacher,
)
from visio.clock import FrozenClock, utcnow
from visio.services import enrollments, wallets

pytestmark = pytest.mark.e2e
SCREENS = ARTIFACTS / "screens"


def _cast(app_db):  # type: ignore[no-untyped-def]
    clock = FrozenClock(utcnow())
    tag = uuid.uuid4().hex[:6]
    admin = make_admin(app_db, clock=clock)
    teacher = make_teacher(app_db, clock=clock, full_name=f"Teacher {tag}")
    student = make_funded_student(
        app_db, clock=clock, amount_cents=3_000, full_name=f"Suspect {tag}"
    )
    paid = make_session(
        app_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=1_000,
        title=f"Admin flow {tag}",
    )
    enrollments.enroll(db=app_db, actor=student, video_session_id=paid.id)
    return admin, teacher, student, paid


def test_an_admin_suspends_credits_cancels_and_exports(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    admin, teacher, student, paid = _cast(app_db)
    their_tab = new_page("en-US")
    login(their_tab, student.email, STRONG_PASSWORD)
    their_tab.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    open_path(their_tab, "/wallet")

    page = new_page("en-US")
    login(page, admin.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/admin/?$"))
    wait_ready(page)
    page.locator("#recon-status", has_text="Balanced").wait_for()

    # Find the student and suspend them.
    page.click("#admin-nav-users")
    page.wait_for_url(re.compile(r"/admin/users/?$"))
    page.fill("#admin-user-search", student.full_name)
    page.locator(".admin-user-row").filter(has_text=student.email).wait_for()
    expect(page.locator(".admin-user-row")).to_have_count(1)
    page.click(".admin-user-link")
    page.wait_for_url(re.compile(rf"/admin/users/{student.id}/?$"))
    page.click("#admin-suspend")
    page.fill("#suspend-reason", "Chargeback fraud")
    page.click("#confirm-suspend")
    page.locator("#admin-user-state", has_text="Suspended").wait_for()
    page.locator("#admin-restore").wait_for()

    # Their open tab is logged out at its next event.
    their_tab.click("#topup-10")
    their_tab.wait_for_url(re.compile(r"/login"))

    # Credit the teacher's wallet, with a reason.
    open_path(page, f"/admin/users/{teacher.id}")
    page.fill("#adjust-amount", "15")
    page.click("#adjust-submit")
    page.locator("#adjust-error").wait_for()  # no reason given: refused, said why
    page.fill("#adjust-reason", "Goodwill for a broken class")
    page.click("#adjust-submit")
    page.locator("#admin-user-balance", has_text="15.00").wait_for()
    page.locator("#admin-ledger", has_text="Goodwill for a broken class").wait_for()
    app_db.rollback()
    assert wallets.balance_of(app_db, teacher.id) == 1_500

    # Cancel the student's paid session: refunded.
    page.click("#admin-nav-sessions")
    page.wait_for_url(re.compile(r"/admin/sessions/?$"))
    page.fill("#admin-session-search", paid.title)
    row = page.locator(".admin-session-row").filter(has_text=paid.title)
    row.wait_for()
    row.locator(".admin-session-cancel").click()
    page.fill("#admin-cancel-reason", "Reported content")
    page.click("#admin-confirm-cancel")
    page.get_by_text("Session cancelled: 1 refunds (€10.00).").wait_for()
    app_db.rollback()
    assert wallets.balance_of(app_db, student.id) == 3_000

    # The audit log, filtered, exported as CSV.
    page.click("#admin-nav-audit")
    page.wait_for_url(re.compile(r"/admin/audit/?$"))
    page.fill("#audit-actor_email", admin.email)
    page.click("#audit-apply")
    page.locator(".audit-row", has_text="admin.user_suspended").wait_for()
    with page.expect_download() as download:
        page.click("#audit-export")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    actions = [row[4] for row in csv.reader(io.StringIO(text))][1:]
    assert "admin.user_suspended" in actions and "admin.wallet_credited" in actions
    assert "session.cancelled" in actions


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_screenshots_of_the_admin_console(new_page, app_db, locale) -> None:  # type: ignore[no-untyped-def]
    admin, teacher, student, _ = _cast(app_db)
    SCREENS.mkdir(parents=True, exist_ok=True)
    lang = locale[:2]
    for width, height, size in ((1280, 900, "wide"), (390, 844, "phone")):
        page = new_page(locale, width=width, height=height)
        login(page, admin.email, STRONG_PASSWORD)
        page.wait_for_url(re.compile(r"/admin/?$"))
        for name, path, ready in (
            ("overview", "/admin", "#recon-status"),
            ("users", "/admin/users", ".admin-user-row"),
            ("user", f"/admin/users/{student.id}", "#admin-ledger"),
            ("sessions", "/admin/sessions", ".admin-session-row"),
            ("audit", "/admin/audit", ".audit-row"),
        ):
            open_path(page, path)
            page.locator(ready).first.wait_for()
            page.screenshot(path=str(SCREENS / f"admin-{name}-{lang}-{size}.png"), full_page=True)
