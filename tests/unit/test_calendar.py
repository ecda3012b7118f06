"""The "Add to calendar" file: UTC times, the session's zone, a stable UID, no secret link."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from tests.factories import make_session, make_student, make_teacher
from visio.services import calendar, sessions
from visio.services.errors import NotFound

PAGE = "https://visio.example/sessions/1"


def _event(ics: calendar.IcsFile):  # type: ignore[no-untyped-def]
    parsed = Calendar.from_ical(ics.content)
    (event,) = parsed.walk("VEVENT")
    return parsed, event


def test_ics_has_utc_times_the_zone_a_stable_uid_and_never_the_platform_link(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True, timezone="Asia/Tokyo")
    student = make_student(db, clock=clock)

    first = calendar.session_ics(
        db=db, actor=student, video_session_id=session.id, page_url=PAGE, clock=clock
    )
    again = calendar.session_ics(
        db=db, actor=student, video_session_id=session.id, page_url=PAGE, clock=clock
    )
    parsed, event = _event(first)

    assert event["uid"] == _event(again)[1]["uid"] == f"visio-session-{session.id}@visio"
    assert event.decoded("dtstart") == session.starts_at
    assert event.decoded("dtstart").utcoffset().total_seconds() == 0
    assert event.decoded("dtend") == session.ends_at
    assert str(parsed["x-wr-timezone"]) == "Asia/Tokyo"
    assert str(event["summary"]) == session.title
    assert session.link not in first.content.decode()
    assert PAGE in first.content.decode()
    assert first.filename == f"visio-session-{session.id}.ics"


def test_a_cancelled_session_is_a_cancelled_event(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Malade", clock=clock
    )
    _, event = _event(
        calendar.session_ics(
            db=db, actor=teacher, video_session_id=session.id, page_url=PAGE, clock=clock
        )
    )
    assert str(event["status"]) == "CANCELLED"


def test_a_draft_has_no_calendar_file_for_anyone_but_its_teacher(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    draft = make_session(db, teacher=teacher, clock=clock)
    with pytest.raises(NotFound):
        calendar.session_ics(
            db=db,
            actor=make_student(db, clock=clock),
            video_session_id=draft.id,
            page_url=PAGE,
            clock=clock,
        )
    assert calendar.session_ics(
        db=db, actor=teacher, video_session_id=draft.id, page_url=PAGE, clock=clock
    ).content.startswith(b"BEGIN:VCALENDAR")
