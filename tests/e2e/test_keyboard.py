"""The keyboard alone: a student logs in, finds a session, pays and enrolls, and joins
("Rejoindre"), with Tab, Shift+Tab, Enter and Space only (no clicks), and sees where the focus is.

There is no internet here: requests to meet.jit.si are aborted; the test waits only for the room's
iframe to be on the page.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.e2e.helpers import wait_ready
from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher, top_up
from visio.clock import FrozenClock, utcnow
from visio.models import Enrollment, EnrollmentStatus

pytestmark = pytest.mark.e2e

MAX_TABS = 120

# How the element that has the focus is drawn: what a focus indicator changes.
RING = """e => { const s = getComputedStyle(e);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | '); }"""


def focused_matches(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "sel => !!document.activeElement && document.activeElement.matches(sel)", selector
    )


def tab_to(page, selector: str, key: str = "Tab") -> None:  # type: ignore[no-untyped-def]
    """Press Tab (or Shift+Tab) until `selector` has the focus, then check that the focus shows:
    the element is drawn differently than before it had it (outline or shadow), and visibly."""
    target = page.locator(selector)
    target.wait_for()
    unfocused = target.evaluate(RING)
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if focused_matches(page, selector):
            break
    else:
        pytest.fail(f"{selector} never got the focus with {key}")
    focused = target.evaluate(RING)
    assert focused != unfocused, f"{selector}: no visible change when focused ({focused})"
    style, width = focused.split(" | ")[:2]
    shadow = focused.split(" | ")[3]
    assert (style != "none" and width != "0px") or shadow != "none", (
        f"{selector}: the focus indicator is invisible ({focused})"
    )


def test_a_student_pays_enrolls_and_joins_with_the_keyboard_alone(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    past = FrozenClock(utcnow() - timedelta(hours=1))
    teacher = make_teacher(app_db, clock=past, full_name="Ada Lovelace")
    session = make_session(
        app_db,
        teacher=teacher,
        clock=past,
        publish=True,
        title=f"Clavier seul : machines analytiques {uuid.uuid4().hex[:6]}",
        starts_at=utcnow() + timedelta(minutes=5),  # "Rejoindre" is open already
        is_paid=True,
        price_cents=700,
    )
    student = make_student(app_db, clock=past, full_name="Grace Hopper")
    top_up(app_db, user=student, amount_cents=2_000, clock=past)

    page = new_page("fr-FR")
    page.context.route(re.compile(r"^https://meet\.jit\.si/"), lambda route: route.abort())
    page.goto("/login")
    wait_ready(page)

    # Log in: Tab to the fields, type, Shift+Tab back and forth, Enter submits.
    tab_to(page, "#email")
    page.keyboard.type(student.email)
    tab_to(page, "#password")
    page.keyboard.type(STRONG_PASSWORD)
    tab_to(page, "#email", key="Shift+Tab")
    tab_to(page, "#password")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    wait_ready(page)

    # Find it by its title in the search box (other tests' sessions may fill the first page),
    # then its card: a link, followed with Enter.
    tab_to(page, "#filter-q")
    page.keyboard.type(session.title)
    tab_to(page, f'a[href="/sessions/{session.id}"]')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/sessions/{session.id}/?$"))
    wait_ready(page)

    # Pay and enroll: Enter opens the confirmation, the focus moves into it, Space confirms.
    tab_to(page, "#action-pay")
    page.keyboard.press("Enter")
    page.locator("#confirm-pay").wait_for()
    tab_to(page, "#confirm-pay")
    page.keyboard.press("Space")
    page.locator("#confirm-pay").wait_for(state="detached")

    # "Rejoindre", now that a seat is held: Enter opens the in-app room.
    tab_to(page, "#action-join")
    assert page.locator("#action-join").inner_text().strip() == "Rejoindre"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/sessions/{session.id}/room/?$"))
    page.locator("#jitsi-room").wait_for(state="attached")

    app_db.expire_all()
    seat = app_db.exec(
        select(Enrollment).where(
            Enrollment.session_id == session.id, Enrollment.student_id == student.id
        )
    ).one()
    assert seat.status == EnrollmentStatus.ACTIVE
