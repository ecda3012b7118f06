"""The create dialog's "Repeat" choice and an occurrence's edit scope, through the real state."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from reflex.istate.data import RouterData
from sqlmodel import Session, select

from tests.factories import (
    STRONG_PASSWORD,
    balances,
    fresh,
    make_funded_student,
    make_student,
    make_teacher,
    session_input,
    table_counts,
)
from tests.state.conftest import new_state, redirect_target, toasts
from visio.models import VideoSession
from visio.services import accounts, enrollments, series
from visio.state.series import SeriesState
from visio.state.session_detail import SessionDetailState
from visio.state.session_form import SessionFormState
from visio.state.session_page import SessionPageState

PARIS = ZoneInfo("Europe/Paris")


def _state(db: Session, user, lang: str = "en") -> SessionFormState:  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(SessionFormState, token)
    state.lang_choice = lang
    return state


def _weekly(state: SessionFormState, count: str = "4") -> None:
    state.open_create()
    state._form_tz = "Europe/Paris"
    state.title = "Weekly conversation"
    state.repeat_mode, state.repeat_end, state.repeat_count = "weekly", "count", count


def test_a_weekly_repeat_previews_its_dates_and_creates_the_series(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    _weekly(state)

    assert len(state.repeat_preview) == 4
    assert state.repeat_count_label == "4 occurrences, same local time:"
    result = state.submit(True)

    assert toasts(result) == [("success", "Series of 4 sessions created and published.")]
    db.rollback()
    rows = db.exec(select(VideoSession).where(VideoSession.teacher_id == teacher.id)).all()
    assert len(rows) == 4 and len({r.series_id for r in rows}) == 1
    assert {r.starts_at.astimezone(PARIS).strftime("%H:%M") for r in rows} == {"18:00"}
    first = min(rows, key=lambda r: r.starts_at)
    assert redirect_target(result) == f"/teacher/video-sessions/{first.id}"


def test_too_many_occurrences_show_under_repeat_and_create_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    _weekly(state, count="53")
    counts = table_counts(db)

    assert state.submit(False) is None

    assert state.errors == {"repeat": "A series has at most 52 occurrences."}
    assert state.repeat_preview == []
    assert table_counts(db) == counts


def test_editing_all_future_occurrences_from_the_dialog(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _state(db, teacher)
    _weekly(state)
    state.submit(False)
    db.rollback()
    rows = sorted(
        db.exec(select(VideoSession).where(VideoSession.teacher_id == teacher.id)).all(),
        key=lambda r: r.starts_at,
    )

    state.open_edit(rows[1].id)
    assert state.in_series is True and state.edit_scope == "one"
    state.title, state.edit_scope = "Renamed from the second on", "future"
    result = state.submit(False)

    assert toasts(result)[0] == ("success", "3 occurrence(s) saved.")
    titles = [fresh(db, VideoSession, r.id)["title"] for r in rows]
    assert titles[0] == "Weekly conversation"
    assert set(titles[1:]) == {"Renamed from the second on"}


# --- an occurrence's pages and the series page -------------------------------------------


def _at(state, pathname: str, path: str):  # type: ignore[no-untyped-def]
    state.router = RouterData.from_router_data(
        {"pathname": pathname, "asPath": path, "headers": {"origin": "http://localhost:3000"}}
    )
    return state


def _login(db: Session, user, cls, lang: str = "en"):  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(cls, token)
    state.lang_choice = lang
    return state


def _paid_series(db, now_clock, teacher):  # type: ignore[no-untyped-def]
    return series.create_series(
        db=db,
        actor=teacher,
        data=session_input(now_clock, is_paid=True, price_cents=1_000),
        repeat=series.Repeat(every_days=7, count=3),
        publish=True,
        clock=now_clock,
    )


def test_a_student_enrolls_in_all_remaining_from_an_occurrences_page(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    made = _paid_series(db, now_clock, make_teacher(db, clock=now_clock))
    student = make_funded_student(db, clock=now_clock, amount_cents=5_000)
    first = made.occurrences[0].id
    page = _at(
        _login(db, student, SessionPageState), "/sessions/[session_id]", f"/sessions/{first}"
    )
    page.on_load()
    assert (page.series_id, page.series_remaining) == (made.series.id, 3)
    assert page.series_total == "3 sessions, €30.00 in all"

    result = page.enroll_series()

    assert toasts(result)[0] == ("success", "Enrolled in 3 sessions.")
    assert page.series_remaining == 0
    assert balances(db, student)[student.email] == 2_000


def test_the_teacher_cancels_this_and_the_later_occurrences_from_the_page(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    made = _paid_series(db, now_clock, teacher)
    second = made.occurrences[1].id
    page = _at(
        _login(db, teacher, SessionDetailState),
        "/teacher/video-sessions/[session_id]",
        f"/teacher/video-sessions/{second}",
    )
    page.on_load()
    page.set_cancel_open(True)
    page.set_cancel_scope("future")
    page.set_cancel_reason("The course ends early")

    result = page.confirm_cancel()

    assert toasts(result)[0] == (
        "success",
        "2 occurrence(s) cancelled; 0 refund(s), €0.00 in all.",
    )
    statuses = [fresh(db, VideoSession, o.id)["status"] for o in made.occurrences]
    assert statuses == ["scheduled", "cancelled", "cancelled"]


def test_the_series_page_shows_the_schedule_and_the_seats_held(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    made = _paid_series(db, now_clock, make_teacher(db, clock=now_clock))
    student = make_funded_student(db, clock=now_clock, amount_cents=5_000)
    enrollments.enroll(db=db, actor=student, video_session_id=made.occurrences[2].id)
    page = _at(_login(db, student, SeriesState), "/series/[series_id]", f"/series/{made.series.id}")

    page.on_load()

    assert page.found is True
    assert [o["held"] for o in page.occurrences] == [False, False, True]
    assert page.seats_note == "Your seats: 1 of 3"
    assert (page.remaining, page.subtitle) == (2, "Every week, at the same local time")
    assert page.enroll_all() is not None
    assert page.seats_note == "Your seats: 3 of 3"


def test_another_student_sees_no_series_of_drafts(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    made = series.create_series(
        db=db,
        actor=make_teacher(db, clock=now_clock),
        data=session_input(now_clock),
        repeat=series.Repeat(every_days=7, count=2),
        clock=now_clock,
    )
    page = _at(
        _login(db, make_student(db, clock=now_clock), SeriesState),
        "/series/[series_id]",
        f"/series/{made.series.id}",
    )
    page.on_load()
    assert page.found is False and page.occurrences == []
    assert page.error_text == "This series does not exist."


def test_the_cancel_dialog_states_the_refunds_of_all_future_occurrences(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    made = _paid_series(db, now_clock, teacher)
    for _ in range(2):
        student = make_funded_student(db, clock=now_clock, amount_cents=5_000)
        series.enroll_series(db=db, actor=student, series_id=made.series.id)
    second = made.occurrences[1].id
    page = _at(
        _login(db, teacher, SessionDetailState),
        "/teacher/video-sessions/[session_id]",
        f"/teacher/video-sessions/{second}",
    )
    page.on_load()
    page.set_cancel_open(True)

    assert page.refund_note == "2 student(s) will be refunded automatically, €20.00 in all."
    page.set_cancel_scope("future")
    assert page.refund_note_future == (
        "This and the later occurrences: 4 paid seat(s) will be refunded automatically,"
        " €40.00 in all."
    )
    page.set_cancel_reason("The course ends early")
    assert toasts(page.confirm_cancel())[0] == (
        "success",
        "2 occurrence(s) cancelled; 4 refund(s), €40.00 in all.",
    )


def test_the_teacher_publishes_all_drafts_from_the_series_page_and_an_occurrence(
    bound, db, now_clock
) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    made = series.create_series(
        db=db,
        actor=teacher,
        data=session_input(now_clock),
        repeat=series.Repeat(every_days=7, count=3),
        clock=now_clock,
    )
    page = _at(_login(db, teacher, SeriesState), "/series/[series_id]", f"/series/{made.series.id}")
    page.on_load()
    assert (page.drafts, page.drafts_note) == (
        3,
        "3 occurrence(s) still in draft, not visible to students.",
    )

    assert toasts(page.publish_all()) == [
        ("success", "3 occurrence(s) published: students can enroll.")
    ]
    assert (page.drafts, page.drafts_note) == (0, "")
    assert {o["status"] for o in page.occurrences} == {"scheduled"}

    other = series.create_series(
        db=db,
        actor=teacher,
        data=session_input(now_clock),
        repeat=series.Repeat(every_days=7, count=2),
        clock=now_clock,
    )
    detail = _at(
        _login(db, teacher, SessionDetailState),
        "/teacher/video-sessions/[session_id]",
        f"/teacher/video-sessions/{other.occurrences[0].id}",
    )
    detail.on_load()
    assert detail.series_drafts == 2
    assert toasts(detail.publish_series())[0][0] == "success"
    assert detail.series_drafts == 0 and detail.can_publish is False
    assert {fresh(db, VideoSession, o.id)["status"] for o in other.occurrences} == {"scheduled"}


def test_a_student_cannot_publish_a_series(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    made = _paid_series(db, now_clock, make_teacher(db, clock=now_clock))
    page = _at(
        _login(db, make_student(db, clock=now_clock), SeriesState),
        "/series/[series_id]",
        f"/series/{made.series.id}",
    )
    page.on_load()
    assert page.drafts == 0
    assert redirect_target(page.publish_all()) is not None
