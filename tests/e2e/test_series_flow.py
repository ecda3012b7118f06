"""A teacher creates a weekly series across the spring daylight-saving change, in a real browser:
every occurrence shows 18:00, Paris time."""

from __future__ import annotations

import re
import secrets
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.helpers import open_path, register, unique_email, wait_ready
from visio.models import User, VideoSession
from visio.services.accounts import normalize_email

pytestmark = pytest.mark.e2e

# Summer time starts on Sunday 28 March 2027: two occurrences before, two after.
FIRST_DAY = "2027-03-15"


def test_a_weekly_series_across_the_march_change_stays_at_18_00(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    token = f"zs{secrets.token_hex(3)}"
    email = unique_email("series")
    page = new_page("fr-FR")
    register(page, role="teacher", name="Marie Curie", email=email)

    page.click("#create-session")
    page.fill("#field-title", f"Chimie hebdo {token}")
    page.fill("#field-date", FIRST_DAY)
    page.fill("#field-time", "18:00")
    page.click("#repeat_mode-weekly")
    page.locator("#repeat-preview").wait_for()
    page.fill("#field-repeat_count", "4")
    page.get_by_text("4 séances, à la même heure locale :").wait_for()
    preview = page.locator("#repeat-preview").inner_text()
    assert preview.count("18:00") == 4, preview
    page.click("#form-publish")

    page.wait_for_url(re.compile(r"/teacher/video-sessions/\d+/?$"))
    wait_ready(page)
    page.locator(".series-badge").first.wait_for()
    page.locator(".series-badge").first.click()
    page.wait_for_url(re.compile(r"/series/\d+/?$"))
    wait_ready(page)
    page.wait_for_function("document.querySelectorAll('.occurrence').length === 4")
    shown = page.locator(".occurrence-when").all_inner_texts()
    assert len(shown) == 4 and all("18:00" in when for when in shown), shown

    teacher = app_db.query(User).filter(User.email == normalize_email(email)).one()
    rows = (
        app_db.query(VideoSession)
        .filter(VideoSession.teacher_id == teacher.id)
        .order_by(VideoSession.starts_at)
        .all()
    )
    assert len({r.series_id for r in rows}) == 1 and len(rows) == 4
    paris = [r.starts_at.astimezone(ZoneInfo("Europe/Paris")) for r in rows]
    assert [p.strftime("%Y-%m-%d %H:%M") for p in paris] == [
        "2027-03-15 18:00",
        "2027-03-22 18:00",
        "2027-03-29 18:00",
        "2027-04-05 18:00",
    ]
    assert [r.starts_at.astimezone(ZoneInfo("UTC")).hour for r in rows] == [17, 17, 16, 16]

    open_path(page, "/teacher/video-sessions")
    page.fill("#filter-q", token)
    page.wait_for_function("document.querySelectorAll('.session-card').length === 4")
    assert page.locator(".session-card .series-badge").count() == 4
