"""A teacher in a real browser: create through the dialog, publish, edit, find, bulk publish."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from tests.e2e.helpers import open_path, register, unique_email, wait_ready
from tests.factories import make_session
from visio.clock import FrozenClock, utcnow
from visio.models import User
from visio.services.accounts import normalize_email

pytestmark = pytest.mark.e2e


def test_teacher_creates_publishes_edits_and_finds_a_session(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    token = f"zt{secrets.token_hex(3)}"
    email = unique_email("prof")
    page = new_page("fr-FR")
    register(page, role="teacher", name="Émilie du Châtelet", email=email)

    page.click("#create-session")
    page.fill("#field-title", "ab")
    page.click("#field-description")
    page.get_by_text("Le titre doit contenir au moins 3 caractères.").wait_for()
    page.fill("#field-title", f"Optique {token}")
    page.fill("#field-description", "Lentilles et miroirs.")
    tomorrow = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d")
    page.fill("#field-date", tomorrow)
    page.fill("#field-time", "18:30")
    page.click("#toggle-advanced")
    page.click("#field-is_paid")
    page.fill("#field-price", "0,10")
    page.fill("#field-capacity", "20")
    page.click("#form-publish")
    page.get_by_text("Le prix doit être compris entre 0,50\xa0€ et 10\xa0000,00\xa0€.").wait_for()
    page.fill("#field-price", "12,50")
    page.fill("#field-tag_input", "optique")
    page.keyboard.press("Enter")
    page.click("#form-publish")

    page.wait_for_url(re.compile(r"/teacher/video-sessions/\d+/?$"))
    wait_ready(page)
    page.locator("#cancel-session").wait_for()
    assert page.get_by_role("heading", name=f"Optique {token}").is_visible()
    assert page.get_by_text("Programmée").first.is_visible()
    assert page.locator("#session-link").inner_text().startswith("https://meet.jit.si/")

    page.click("#edit-session")
    page.fill("#field-title", f"Optique géométrique {token}")
    page.click("#form-save")
    page.get_by_role("heading", name=f"Optique géométrique {token}").wait_for()
    assert page.get_by_text("Modifiée").first.is_visible()  # the history says so

    open_path(page, "/teacher/video-sessions")
    page.fill("#filter-q", token)
    page.wait_for_function("document.querySelectorAll('.session-card').length === 1")
    card = page.locator(".session-card").first
    assert "Programmée" in card.inner_text() and "12,50" in card.inner_text()


def test_bulk_publish_reports_what_was_done_and_what_was_skipped(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    token = f"zb{secrets.token_hex(3)}"
    page = new_page("en-US")
    email = unique_email("bulk")
    register(page, role="teacher", name="Nikola Tesla", email=email)
    teacher = app_db.query(User).filter(User.email == normalize_email(email)).one()
    clock = FrozenClock(utcnow())
    for index in range(2):
        make_session(app_db, teacher=teacher, clock=clock, title=f"Draft {index} {token}")
    make_session(app_db, teacher=teacher, clock=clock, publish=True, title=f"Live {token}")

    open_path(page, "/teacher/video-sessions")  # this new teacher has just these three
    page.wait_for_function("document.querySelectorAll('.session-card').length === 3")
    page.click("#select-page")
    page.locator("#bulk-bar").wait_for()
    assert page.locator("#bulk-bar").inner_text().startswith("Selected: 3")  # English colon
    page.click("#bulk-publish")
    page.click("#bulk-confirm")
    results = page.locator("#bulk-results")
    results.wait_for()
    text = results.inner_text()
    assert "Draft 0" in text and "Draft 1" in text
    assert "Not possible while the session is scheduled." in text
    page.get_by_text("2 done, 1 skipped.").wait_for()


def _slow_uploads(page) -> None:  # type: ignore[no-untyped-def]
    """Throttle the browser's uploads so that the progress bar has time to be seen."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": 256 * 1024,
        },
    )


def test_teacher_creates_with_a_link_uploads_a_pdf_with_progress_and_sees_the_dashboard(
    new_page,
) -> None:  # type: ignore[no-untyped-def]
    token = f"zu{secrets.token_hex(3)}"
    page = new_page("fr-FR")
    register(page, role="teacher", name="Lise Meitner", email=unique_email("lise"))

    page.click("#create-session")
    page.fill("#field-title", f"Fission {token}")
    page.fill("#field-date", (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d"))
    page.fill("#field-time", "09:00")
    page.click("#toggle-advanced")
    page.fill("#field-material_title", "Programme")
    page.fill("#field-material_url", "javascript:alert(1)")
    page.click("#add-material-link")
    page.get_by_text("Le lien doit commencer par https://.").wait_for()
    page.fill("#field-material_url", "https://example.org/programme")
    page.click("#add-material-link")
    page.click("#form-publish")
    page.wait_for_url(re.compile(r"/teacher/video-sessions/\d+/?$"))
    wait_ready(page)
    panel = page.locator("#materials-panel")
    panel.get_by_role("link", name="Programme").wait_for()

    _slow_uploads(page)
    pdf = b"%PDF-1.7\n" + b"0" * (1024 * 1024) + b"\n%%EOF\n"
    page.set_input_files(
        "#materials-upload input[type=file]",
        files=[{"name": "cours.pdf", "mimeType": "application/pdf", "buffer": pdf}],
    )
    page.fill("#material-file-title", "Cours complet")
    page.click("#material-upload")
    page.locator("#materials-panel [role=progressbar]").wait_for()  # the progress is shown
    panel.get_by_role("link", name="Cours complet").wait_for(timeout=30_000)
    href = panel.get_by_role("link", name="Cours complet").get_attribute("href")
    assert re.fullmatch(r"/api/materials/\d+/download\?grant=[\w.-]+", href)  # signed for her

    open_path(page, "/teacher/video-sessions")
    page.fill("#filter-q", token)
    page.wait_for_function("document.querySelectorAll('.session-card').length === 1")
    assert "Programmée" in page.locator(".session-card").first.inner_text()

    open_path(page, "/teacher/statistics")
    page.locator("#status-count-scheduled").wait_for()
    assert page.locator("#status-count-scheduled").inner_text().startswith("1")
