"""The statistics page's state: teachers only, figures formatted for the viewer."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from tests.factories import (
    STRONG_PASSWORD,
    make_session,
    make_student,
    make_teacher,
    session_input,
    top_up,
)
from tests.state.conftest import new_state, redirect_target
from visio.clock import FrozenClock
from visio.services import accounts, enrollments, series
from visio.state.stats import PAGE_SIZE, StatsState


def _token(db: Session, email: str) -> str:
    return accounts.login(db=db, email=email, password=STRONG_PASSWORD, address=None).token


def _teacher_state(db: Session, email: str, lang: str = "en") -> StatsState:
    state = new_state(StatsState, _token(db, email))
    state.lang_choice = lang
    return state


def test_student_is_redirected_and_gets_no_figures(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    make_session(db, teacher=teacher, clock=now_clock, publish=True)
    student = make_student(db, clock=now_clock)
    state = new_state(StatsState, _token(db, student.email))

    result = state.on_load()

    assert redirect_target(result) == "/student/video-sessions"
    assert (state.total_sessions, state.status_counts, state.rows) == (0, [], [])
    assert state.enrollments == state.revenue_held == ""
    assert redirect_target(state.go_to_page(2)) == "/student/video-sessions"
    assert state.rows == []


def test_logged_out_visitor_is_sent_to_login(bound) -> None:  # type: ignore[no-untyped-def]
    state = new_state(StatsState, "")
    assert redirect_target(state.on_load()).startswith("/login?next=")
    assert state.rows == []


def test_teacher_sees_the_tiles_charts_and_table(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    paid = make_session(
        db,
        teacher=teacher,
        clock=now_clock,
        publish=True,
        is_paid=True,
        price_cents=1_000,
        capacity=10,
    )
    make_session(db, teacher=teacher, clock=now_clock, starts_at=now_clock() + timedelta(days=1))
    make_session(db, teacher=make_teacher(db, clock=now_clock), clock=now_clock, publish=True)
    student = make_student(db, clock=now_clock)
    top_up(db, user=student, amount_cents=5_000, clock=now_clock)
    enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=now_clock)
    state = _teacher_state(db, teacher.email)

    assert redirect_target(state.on_load()) is None

    assert state.loading is False
    assert state.total_sessions == 2
    assert {c["status"]: c["count"] for c in state.status_counts} == {
        "draft": "1",
        "scheduled": "1",
        "ongoing": "0",
        "finished": "0",
        "cancelled": "0",
    }
    assert [c["label"] for c in state.status_counts][:2] == ["Draft", "Scheduled"]
    assert state.enrollments == "1"
    assert (state.fill_rate, state.fill_hint) == ("10%", "1 of 10 seats taken")
    assert state.attendance_rate == "—"
    assert state.attendance_hint == "No finished session with students yet"
    assert (state.revenue_held, state.revenue_released, state.revenue_refunded) == (
        "€10.00",
        "€0.00",
        "€0.00",
    )
    assert len(state.enrollments_by_week) == 12 and state.enrollments_by_week[-1]["value"] == 1
    assert len(state.revenue_by_month) == 12 and state.revenue_by_month[-1]["amount"] == 10.0
    # The charts' tables (their text alternative) say the same figures, formatted.
    assert state.enrollments_by_week[-1]["count"] == "1"
    assert state.revenue_by_month[-1]["money"] == "€10.00"
    assert state.attendance_by_session == []
    assert [(u["title"], u["seats"]) for u in state.upcoming] == [(paid.title, "1 / 10")]
    assert state.rows[0]["title"] == paid.title  # latest start first
    assert {k: state.rows[0][k] for k in ("status", "seats", "fill", "revenue", "attended")} == {
        "status": "scheduled",
        "seats": "1 / 10",
        "fill": "10%",
        "revenue": "€10.00",
        "attended": "0",
    }
    assert (state.page, state.pages) == (1, 1)


def test_teacher_without_sessions_gets_the_empty_state(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    state = _teacher_state(db, teacher.email, lang="fr")

    assert redirect_target(state.on_load()) is None

    assert state.total_sessions == 0
    assert state.loading is False
    assert state.fill_rate == state.attendance_rate == "—"
    assert state.fill_hint == "Aucune session publiée à places limitées"
    assert state.series_fill == "—"
    assert state.series_fill_hint == "Aucune série publiée à places limitées"
    assert state.rows == [] and state.upcoming == []


def test_the_series_fill_tile_in_each_language(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    weekly = series.create_series(
        db=db,
        actor=teacher,
        data=session_input(now_clock, capacity=4),
        repeat=series.Repeat(every_days=7, count=2),
        publish=True,
        clock=now_clock,
    ).occurrences
    for student in (make_student(db, clock=now_clock) for _ in range(2)):
        enrollments.enroll(db=db, actor=student, video_session_id=weekly[0].id, clock=now_clock)

    english = _teacher_state(db, teacher.email)
    english.on_load()
    french = _teacher_state(db, teacher.email, lang="fr")
    french.on_load()

    assert english.series_fill == "25%"
    assert english.series_fill_hint == "2 of 8 seats taken · series: 1"
    assert french.series_fill_hint == "2 places prises sur 8 · séries\u00a0: 1"


def test_pager_moves_through_the_table_and_stays_in_bounds(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    for hours in range(PAGE_SIZE + 2):
        make_session(
            db,
            teacher=teacher,
            clock=now_clock,
            starts_at=now_clock() + timedelta(days=3, hours=hours),
        )
    state = _teacher_state(db, teacher.email)
    state.on_load()
    first_page = [r["id"] for r in state.rows]

    state.go_to_page(2)
    assert (state.page, state.pages, len(state.rows)) == (2, 2, 2)
    assert not set(first_page) & {r["id"] for r in state.rows}
    state.go_to_page(99)
    assert state.page == 2
    state.go_to_page("not a page")  # type: ignore[arg-type]
    assert [r["id"] for r in state.rows] == first_page


def test_a_made_up_browser_zone_falls_back_to_the_platform_zone(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    make_session(db, teacher=teacher, clock=FrozenClock(now_clock()), publish=True)
    state = _teacher_state(db, teacher.email)
    state.browser_tz = "Nowhere/Atlantis"

    assert redirect_target(state.on_load()) is None
    assert state.total_sessions == 1 and len(state.enrollments_by_week) == 12
