"""The dialog's minimum of participants: typed, checked, saved, and left alone once decided."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from tests.factories import STRONG_PASSWORD, fresh, make_session, make_student, make_teacher
from tests.state.conftest import new_state, toasts
from visio.clock import FrozenClock
from visio.models import VideoSession
from visio.services import accounts, enrollments, minimums
from visio.state.session_form import SessionFormState


def _state(db: Session, user) -> SessionFormState:  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(SessionFormState, token)
    state.lang_choice = "en"
    return state


def test_a_minimum_above_the_seats_is_shown_and_a_valid_one_saved(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    state.open_create()
    start = now_clock() + timedelta(days=3)
    state.date = start.astimezone(ZoneInfo(state.form_tz)).strftime("%Y-%m-%d")
    state.title, state.capacity, state.min_participants = "Choir practice", "4", "5"

    assert state.submit(False) is None
    assert state.errors["min_participants"] == (
        "The minimum cannot be above the number of seats (4)."
    )
    assert state.show_advanced is True

    state.min_participants = "3"
    state.submit(False)

    db.rollback()
    [created] = db.exec(select(VideoSession).where(VideoSession.teacher_id == teacher.id)).all()
    assert created.min_participants == 3
    assert created.decide_at == created.starts_at - timedelta(hours=24)


def test_editing_a_kept_session_leaves_its_minimum_and_saves(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(
        db, teacher=teacher, clock=now_clock, publish=True, min_participants=1, capacity=5
    )
    enrollments.enroll(
        db=db, actor=make_student(db, clock=now_clock), video_session_id=session.id, clock=now_clock
    )
    later = FrozenClock(session.decide_at + timedelta(minutes=1))
    assert minimums.decide(db, video_session_id=session.id, clock=later) == minimums.KEPT
    state = _state(db, teacher)
    state.open_edit(session.id)
    assert (state.min_participants, state.show_advanced) == ("1", True)
    zone = ZoneInfo(state.form_tz)
    assert state.decide_time == session.decide_at.astimezone(zone).strftime("%H:%M")

    state.title = "Renamed, minimum untouched"
    result = state.submit(False)

    assert toasts(result) == [("success", "Changes saved.")]
    stored = fresh(db, VideoSession, session.id)
    assert stored["title"] == "Renamed, minimum untouched"
    assert (stored["min_participants"], stored["decide_at"]) == (1, session.decide_at)

    state.open_edit(session.id)
    state.min_participants = "2"
    assert state.submit(False) is None
    assert state.errors["min_participants"] == (
        "The minimum was already decided: it cannot change any more."
    )
