"""The create / edit dialog's handlers: real state, real services, the test's own SQLite file."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from tests.factories import (
    STRONG_PASSWORD,
    fresh,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from tests.state.conftest import new_state, redirect_target, toasts
from visio.clock import FrozenClock, utcnow
from visio.models import StoredStatus, VideoSession
from visio.services import accounts, enrollments, sessions
from visio.state.session_detail import SessionDetailState
from visio.state.session_form import SessionFormState


def _state(db: Session, user, lang: str = "en") -> SessionFormState:  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(SessionFormState, token)
    state.lang_choice = lang
    return state


def _sessions_of(db: Session, teacher) -> list[VideoSession]:  # type: ignore[no-untyped-def]
    db.rollback()
    db.expire_all()
    return list(db.exec(select(VideoSession).where(VideoSession.teacher_id == teacher.id)).all())


def test_a_student_opening_the_create_dialog_is_sent_home(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _state(db, make_student(db, clock=now_clock))

    result = state.open_create()

    assert redirect_target(result) == "/student/video-sessions"
    assert toasts(result) == [("warning", "This page is for another kind of account.")]
    assert state.dialog_open is False
    assert state.date == ""


def test_a_teacher_opens_the_create_dialog_on_tomorrow_evening(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _state(db, make_teacher(db, clock=now_clock))
    state.title = "left over from last time"

    assert state.open_create() is None

    tomorrow = utcnow().astimezone(ZoneInfo(state.form_tz)) + timedelta(days=1)
    assert state.dialog_open is True and state.editing is False
    assert (state.date, state.time) == (tomorrow.strftime("%Y-%m-%d"), "18:00")
    assert (state.title, state.duration, state.platform, state.errors) == ("", "60", "jitsi", {})


def test_a_bad_title_is_shown_under_the_title_and_nothing_is_created(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    state.open_create()
    state.title = "ab"
    counts = table_counts(db)

    result = state.submit(False)

    assert result is None
    assert state.errors == {"title": "The title needs at least 3 characters."}
    assert state.dialog_open is True and state.saving is False
    assert table_counts(db) == counts


def test_errors_are_translated_in_the_viewers_language(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _state(db, make_teacher(db, clock=now_clock), lang="fr")
    state.open_create()
    state.title = "ab"

    state.submit(False)

    assert set(state.errors) == {"title"}
    assert state.errors["title"] != "The title needs at least 3 characters."
    assert "3" in state.errors["title"]


def test_every_wrong_field_is_shown_on_submit(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    state.open_create()
    state.title, state.duration, state.capacity = "ab", "2", "0"
    state.set_paid(True)
    state.price = "abc"
    counts = table_counts(db)

    state.submit(False)

    assert set(state.errors) == {"title", "duration_minutes", "capacity", "price"}
    assert state.errors["price"] == "Enter a price like 15 or 15,50."
    assert state.show_advanced is True  # the price and capacity fields are in that section
    assert table_counts(db) == counts


def test_submitting_a_valid_form_creates_a_draft_and_opens_it(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    state.open_create()
    state.title = "Linear algebra"
    state.tag_input = "Maths, exam"

    result = state.submit(False)

    [created] = _sessions_of(db, teacher)
    assert redirect_target(result) == f"/teacher/video-sessions/{created.id}"
    assert toasts(result) == [("success", "Draft saved. Publish it when it is ready.")]
    assert (created.title, created.status, created.duration_minutes) == (
        "Linear algebra",
        StoredStatus.DRAFT,
        60,
    )
    assert created.timezone == state.form_tz
    assert state.dialog_open is False and state.errors == {}


def test_submit_and_publish_creates_a_scheduled_session(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    state.open_create()
    state.title = "Linear algebra, live"
    state.set_paid(True)
    state.price = "12,50"

    result = state.submit(True)

    [created] = _sessions_of(db, teacher)
    assert redirect_target(result) == f"/teacher/video-sessions/{created.id}"
    assert toasts(result) == [("success", "Session published: students can enroll.")]
    assert (created.status, created.is_paid, created.price_cents) == (
        StoredStatus.SCHEDULED,
        True,
        1_250,
    )


def test_a_student_submitting_the_form_creates_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    state = _state(db, make_student(db, clock=now_clock))
    state.title, state.date, state.time = "Sneaky session", "2099-01-01", "10:00"
    counts = table_counts(db)

    result = state.submit(True)

    assert redirect_target(result) == "/student/video-sessions"
    assert table_counts(db) == counts


def test_the_owner_opens_the_edit_dialog_filled_in_and_saves(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(
        db,
        teacher=teacher,
        clock=now_clock,
        publish=True,
        is_paid=True,
        price_cents=1_505,
        capacity=20,
        timezone="America/New_York",
        tags=["maths"],
    )
    state = _state(db, teacher)

    assert state.open_edit(session.id) is None

    start = session.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert state.dialog_open is True and state.editing is True
    assert state.form_tz == "America/New_York"
    assert (state.title, state.date, state.time) == (
        session.title,
        start.strftime("%Y-%m-%d"),
        start.strftime("%H:%M"),
    )
    assert (state.price, state.capacity, state.tags) == ("15,05", "20", ["maths"])
    assert state.show_advanced is True

    state.title = "Renamed by its teacher"
    result = state.submit(False)

    assert toasts(result) == [("success", "Changes saved.")]
    assert result[-1] is SessionDetailState.reload  # the detail page behind shows the change
    stored = fresh(db, VideoSession, session.id)
    assert stored["title"] == "Renamed by its teacher"
    assert (stored["starts_at"], stored["price_cents"]) == (session.starts_at, 1_505)


def test_opening_another_teachers_session_for_edit_shows_an_error(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    session = make_session(db, teacher=make_teacher(db, clock=now_clock), clock=now_clock)
    state = _state(db, make_teacher(db, clock=now_clock))

    result = state.open_edit(session.id)

    assert toasts(result) == [("error", "Only the teacher who created this session can do that.")]
    assert state.dialog_open is False and state.editing is False
    assert state.title == ""


def test_saving_an_edit_of_a_session_deleted_meanwhile_says_so(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock)
    state = _state(db, teacher)
    state.open_edit(session.id)
    sessions.delete_session(db=db, actor=teacher, video_session_id=session.id, clock=now_clock)
    state.title = "Renamed too late"
    counts = table_counts(db)

    result = state.submit(False)

    assert redirect_target(result) is None
    assert state.form_error == "This session does not exist."
    assert state.saving is False and state.dialog_open is True
    assert table_counts(db) == counts


def test_editing_a_started_session_with_a_bad_price_shows_only_the_price_error(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    yesterday = FrozenClock(now_clock() - timedelta(days=1))
    started = now_clock().replace(second=0, microsecond=0) - timedelta(minutes=10)  # as typed
    session = make_session(
        db,
        teacher=teacher,
        clock=yesterday,
        publish=True,
        starts_at=started,
        is_paid=True,
        price_cents=1_000,
    )
    state = _state(db, teacher)
    state.open_edit(session.id)
    state.price = "ten euros"
    before = fresh(db, VideoSession, session.id)

    state.submit(False)

    assert state.errors == {"price": "Enter a price like 15 or 15,50."}
    assert fresh(db, VideoSession, session.id) == before


def test_an_unfair_move_is_shown_under_the_date_and_changes_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(
        db, teacher=teacher, clock=now_clock, publish=True, duration_minutes=240, timezone="UTC"
    )
    student = make_student(db, clock=now_clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=now_clock)
    state = _state(db, teacher)
    state.open_edit(session.id)
    assert state.move_note.startswith("1 student(s) enrolled: the session can move earlier only")
    soon = utcnow() + timedelta(hours=2)
    state.date, state.time = soon.strftime("%Y-%m-%d"), soon.strftime("%H:%M")
    state.duration = "60"
    before = fresh(db, VideoSession, session.id)

    assert state.submit(False) is None

    assert state.errors["starts_at"] == (
        "Students are enrolled: the session can only move earlier to a start at least "
        "24 hours from now."
    )
    assert state.dialog_open is True
    assert fresh(db, VideoSession, session.id) == before
