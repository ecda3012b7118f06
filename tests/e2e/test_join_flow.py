"""Joining in a real browser: countdown, "Rejoindre", the in-app Jitsi room, the teacher's report.

There is no internet here: requests to meet.jit.si are aborted, and nothing waits for the meeting
itself to load, only for the iframe that embeds it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.helpers import login, open_path, wait_ready
from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from visio.clock import FrozenClock, utcnow
from visio.services import enrollments

pytestmark = pytest.mark.e2e


def test_an_enrolled_student_joins_the_room_and_the_teacher_report_shows_it(
    new_page, app_db
) -> None:  # type: ignore[no-untyped-def]
    past = FrozenClock(utcnow() - timedelta(hours=1))  # "now" for set-up: sessions start soon
    teacher = make_teacher(app_db, clock=past, full_name="Marie Curie")
    soon = make_session(
        app_db,
        teacher=teacher,
        clock=past,
        publish=True,
        title="Optique ondulatoire",
        starts_at=utcnow() + timedelta(minutes=5),
    )
    later = make_session(
        app_db,
        teacher=teacher,
        clock=past,
        publish=True,
        title="Optique géométrique",
        starts_at=utcnow() + timedelta(hours=3),
    )
    student = make_student(app_db, clock=past, full_name="Paul Langevin")
    absent = make_student(app_db, clock=past, full_name="Irène Joliot")
    for session in (soon, later):
        enrollments.enroll(db=app_db, actor=student, video_session_id=session.id, clock=utcnow)
    enrollments.enroll(db=app_db, actor=absent, video_session_id=soon.id, clock=utcnow)

    page = new_page("fr-FR")
    page.context.route(re.compile(r"^https://meet\.jit\.si/"), lambda route: route.abort())
    login(page, student.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))

    # Three hours ahead: a countdown in the browser, no join yet.
    open_path(page, f"/sessions/{later.id}")
    countdown = page.locator("#action-join-later")
    countdown.wait_for()
    page.wait_for_function(
        "document.querySelector('#action-join-later').innerText.includes('3 heures')"
    )
    assert countdown.is_disabled()
    assert "Rejoindre dans" in countdown.inner_text()

    # Five minutes ahead: inside the window.
    open_path(page, f"/sessions/{soon.id}")
    join = page.locator("#action-join")
    assert join.inner_text().strip() == "Rejoindre"
    join.click()
    page.wait_for_url(re.compile(rf"/sessions/{soon.id}/room/?$"))
    room = page.locator("#jitsi-room")
    room.wait_for(state="attached")
    src = room.get_attribute("src") or ""
    assert src.startswith("https://meet.jit.si/")
    assert "userInfo.displayName=%22Paul%20Langevin%22" in src
    assert "camera" in (room.get_attribute("allow") or "")

    teacher_page = new_page("fr-FR")
    login(teacher_page, teacher.email, STRONG_PASSWORD)
    teacher_page.wait_for_url(re.compile(r"/teacher/video-sessions/?$"))
    open_path(teacher_page, f"/teacher/video-sessions/{soon.id}")
    report = teacher_page.locator("#attendance")
    report.wait_for()
    assert (
        "1 étudiant(s) sur 2 ont rejoint"
        in teacher_page.locator("#attendance-summary").inner_text()
    )
    rows = teacher_page.locator(".attendance-row")
    assert rows.count() == 2
    assert "Paul Langevin" in rows.nth(0).inner_text() and "Présent" in rows.nth(0).inner_text()
    assert "Irène Joliot" in rows.nth(1).inner_text() and "Absent" in rows.nth(1).inner_text()

    with teacher_page.expect_download() as download:
        teacher_page.click("#attendance-csv")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Étudiant;E-mail;Présence;")
    assert lines[1].startswith(f"Paul Langevin;{student.email};Présent;")

    page.click("#room-leave")
    page.wait_for_url(re.compile(rf"/sessions/{soon.id}/?$"))
    wait_ready(page)
    page.get_by_text("Vous avez quitté la salle.").wait_for()
