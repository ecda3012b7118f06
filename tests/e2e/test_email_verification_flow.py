"""Email verification in a real browser: a new account sees the banner, opens the link of the
mail the app wrote (the embedded transport's .eml files), and the banner is gone."""

from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import open_path, register, unique_email
from tests.e2e.test_password_reset_flow import wait_for_mail

pytestmark = pytest.mark.e2e


def test_a_new_student_confirms_the_address_from_the_mailed_link(new_page, app_server) -> None:  # type: ignore[no-untyped-def]
    student = unique_email("newcomer")
    page = new_page("en-US")
    register(page, role="student", name="Ada Lovelace", email=student)

    banner = page.locator("#verify-banner")
    banner.wait_for()
    assert f"we sent a link to {student}" in banner.inner_text()
    page.click("#verify-resend")
    page.get_by_text(f"A new link is on its way to {student}.").wait_for()

    mail = wait_for_mail(app_server.mail_dir, student, "Confirm your email address for Visio")
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/verify-email\?token=\S+)", text).group(1)  # type: ignore[union-attr]
    assert link.startswith(app_server.url)

    open_path(page, link)
    page.locator("#verify-done").wait_for()
    assert student in page.locator("#verify-done").inner_text()
    assert page.locator("#verify-banner").count() == 0
    open_path(page, "/student/video-sessions")
    page.locator("#wallet-balance").wait_for()
    assert page.locator("#verify-banner").count() == 0

    again = new_page("fr-FR")  # the link served once; a visitor who is not logged in
    open_path(again, link)
    again.locator("#verify-failed").wait_for()
    assert "déjà servi" in again.locator("#verify-failed").inner_text()
