"""Password recovery in a real browser: "Forgot password?", the mail the app wrote (the embedded
transport's .eml files), the link, a new password; the old password and the link then fail."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import login, open_path, register, unique_email, wait_ready

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "Amber-Quarry-Whistle-77"


def wait_for_mail(mail_dir: Path, to: str, subject: str | None = None, seconds: float = 60):  # type: ignore[no-untyped-def]
    """The first mail the app wrote to `to` (with this subject, if given; the outbox delivers
    within a few seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to and subject in (None, message["Subject"]):
                return message
        time.sleep(0.5)
    raise AssertionError(f"no mail to {to} in {mail_dir}")


def test_a_student_resets_a_forgotten_password_from_the_mailed_link(new_page, app_server) -> None:  # type: ignore[no-untyped-def]
    student = unique_email("forgetful")
    page = new_page("en-US")
    register(page, role="student", name="Grace Hopper", email=student)
    page = new_page("en-US")  # a day later, on another device: not logged in there

    open_path(page, "/login")
    page.click("#forgot-password")
    page.wait_for_url(re.compile(r"/forgot-password/?$"))
    wait_ready(page)
    page.fill("#email", student)
    page.click("#forgot-submit")
    page.locator("#reset-sent").wait_for()
    assert student in page.locator("#reset-sent").inner_text()

    # In English: registered from an English page (the verification mail came first).
    mail = wait_for_mail(app_server.mail_dir, student, subject="Reset your Visio password")
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/reset-password\?token=\S+)", text).group(1)  # type: ignore[union-attr]
    assert link.startswith(app_server.url)

    open_path(page, link)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("#reset-submit")
    page.wait_for_url(re.compile(r"/login/?$"))
    wait_ready(page)

    login(page, student)  # the old password
    page.locator("#form-error").wait_for()
    assert "/login" in page.url
    login(page, student, NEW_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))

    other = new_page("en-US")
    open_path(other, link)  # the link served once
    other.fill("#password", "Other-Lighthouse-88")
    other.fill("#confirm", "Other-Lighthouse-88")
    other.click("#reset-submit")
    other.locator("#form-error").wait_for()
    assert "not valid" in other.locator("#form-error").inner_text()
    assert "/reset-password" in other.url


def test_an_unknown_email_gets_the_same_page_in_french(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("fr-FR")
    open_path(page, "/forgot-password")
    page.get_by_role("heading", name="Mot de passe oublié ?").wait_for()
    ghost = unique_email("ghost")
    page.fill("#email", ghost)
    page.click("#forgot-submit")
    page.locator("#reset-sent").wait_for()
    assert f"Si un compte existe pour {ghost}" in page.locator("#reset-sent").inner_text()
