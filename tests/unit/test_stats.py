"""The teacher's statistics: every figure on a known data set, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import make_session, make_student, make_teacher, session_input, top_up
from tests.statements import recorded, sqlite_plan
from visio.clock import FrozenClock
from visio.models import Enrollment, Purchase, User, VideoSession
from visio.services import attendance, enrollments, series, sessions, stats
from visio.services.errors import Forbidden, InvalidInput

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 3, 11, 9, 30, tzinfo=UTC)  # Wednesday of the next week


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> Session:
    """The services' unit of work on SQLite, then on PostgreSQL (skipped when absent)."""
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def funded_student(db: Session, clock: FrozenClock) -> User:
    student = make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=5_000, clock=clock)
    return student


def enroll(db: Session, student: User, session: VideoSession, clock: FrozenClock) -> None:
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)


def joins(db: Session, user: User, session: VideoSession, clock: FrozenClock) -> None:
    """`user` joins a few minutes after the start, through the join service (attendance row)."""
    clock.at = session.starts_at + timedelta(minutes=5)
    attendance.join(db=db, actor=user, video_session_id=session.id, clock=clock)


def build_known_teacher(db: Session) -> tuple[User, dict[str, VideoSession]]:
    """Six sessions of one teacher in every status, with payments, a refund and a payout.

    Another teacher's paid, attended session runs alongside: it must never be counted.
    """
    clock = FrozenClock(T0)
    teacher, other = make_teacher(db, clock=clock), make_teacher(db, clock=clock)
    a, b, c, d = (funded_student(db, clock) for _ in range(4))

    def session(days: float, **kw: object) -> VideoSession:
        starts = T0 + timedelta(days=days)
        return make_session(db, teacher=teacher, clock=clock, starts_at=starts, **kw)

    s = {
        "finished": session(8, publish=True, is_paid=True, price_cents=1_000, capacity=10),
        "ongoing": session(9, publish=True, capacity=4),  # 11 March 09:00, 60 minutes
        "draft": session(10, capacity=100),
        "cancelled": session(20, publish=True, is_paid=True, price_cents=500, capacity=5),
        "free": session(30, publish=True, capacity=20),
        "upcoming": session(40, publish=True, is_paid=True, price_cents=700),
    }
    theirs = make_session(
        db, teacher=other, clock=clock, publish=True, is_paid=True, price_cents=900, capacity=3
    )

    # Week of 2 March: two enrollments.
    enroll(db, a, s["finished"], clock)
    enroll(db, a, s["ongoing"], clock)
    enroll(db, a, theirs, clock)
    joins(db, a, theirs, clock)
    # Week of 9 March: six enrollments, one of them given back, one in a session cancelled.
    clock.at = T0 + timedelta(days=7)
    for student, key in ((b, "finished"), (a, "cancelled"), (c, "upcoming"), (b, "free")):
        enroll(db, student, s[key], clock)
    enroll(db, c, s["free"], clock)
    enroll(db, d, s["free"], clock)
    enrollments.unenroll(db=db, actor=d, video_session_id=s["free"].id, clock=clock)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=s["cancelled"].id, reason="Ill", clock=clock
    )

    joins(db, a, s["finished"], clock)
    joins(db, teacher, s["finished"], clock)  # the teacher joins too: not a student who came
    joins(db, a, s["ongoing"], clock)
    clock.at = NOW
    enrollments.release_escrow(db=db, clock=clock)
    return teacher, s


def test_overview_figures_on_a_known_data_set(any_db: Session) -> None:
    teacher, s = build_known_teacher(any_db)

    overview = stats.teacher_overview(db=any_db, actor=teacher, clock=FrozenClock(NOW), page_size=4)

    assert overview.counts == {
        "draft": 1,
        "scheduled": 2,
        "ongoing": 1,
        "finished": 1,
        "cancelled": 1,
    }
    assert overview.total_sessions == 6
    assert overview.active_enrollments == 6
    # Seats of published, not cancelled sessions with a limit: 10 + 4 + 20; 2 + 1 + 2 taken.
    assert (overview.fill.part, overview.fill.whole) == (5, 34)
    assert overview.fill_rate == pytest.approx(5 / 34)
    # The finished session: two enrolled, one of them joined (the teacher does not count).
    assert (overview.attendance.part, overview.attendance.whole) == (1, 2)
    assert overview.attendance_rate == 0.5
    assert overview.revenue == stats.Revenue(
        held_cents=700, released_cents=2_000, refunded_cents=500
    )
    assert [(u.title, u.enrolled_count, u.capacity) for u in overview.upcoming] == [
        (s["free"].title, 2, 20),
        (s["upcoming"].title, 1, None),
    ]
    assert [(a.title, a.enrolled, a.attended) for a in overview.attendance_by_session] == [
        (s["finished"].title, 2, 1)
    ]


def test_enrollments_and_purchases_carry_their_sessions_teacher(any_db: Session) -> None:
    """The series and the revenue find rows by the teacher id copied onto them at the insert."""
    build_known_teacher(any_db)

    for model in (Enrollment, Purchase):
        rows = any_db.exec(
            select(model.teacher_id, VideoSession.teacher_id).join(
                VideoSession,
                VideoSession.id == model.session_id,  # type: ignore[arg-type]
            )
        ).all()
        assert rows and all(copied == owner for copied, owner in rows)


def test_the_api_overview_skips_the_table_and_keeps_every_figure(any_db: Session) -> None:
    teacher, _ = build_known_teacher(any_db)
    clock = FrozenClock(NOW)

    page = stats.teacher_overview(db=any_db, actor=teacher, clock=clock, tz="Europe/Paris")
    api = stats.teacher_overview(
        db=any_db, actor=teacher, clock=clock, tz="Europe/Paris", table=False
    )

    assert api.table is None and page.table is not None
    assert api == dataclasses.replace(page, table=None)


def make_series(
    db: Session,
    teacher: User,
    clock: FrozenClock,
    *,
    count: int,
    publish: bool = True,
    **kw: object,
) -> list[VideoSession]:
    """A weekly series of `count` occurrences, through the series service."""
    return series.create_series(
        db=db,
        actor=teacher,
        data=session_input(clock, **kw),
        repeat=series.Repeat(every_days=7, count=count),
        publish=publish,
        clock=clock,
    ).occurrences


def test_series_fill_counts_the_published_occurrences_with_a_capacity(any_db: Session) -> None:
    db, clock = any_db, FrozenClock(T0)
    teacher, other = make_teacher(db, clock=clock), make_teacher(db, clock=clock)
    a, b, c = (make_student(db, clock=clock) for _ in range(3))
    weekly = make_series(db, teacher, clock, count=3, capacity=4)
    make_series(db, teacher, clock, count=2)  # published, no seat limit: a series, no seats
    make_series(db, teacher, clock, count=2, publish=False, capacity=10)  # drafts: nothing
    alone = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=5)
    theirs = make_series(db, other, clock, count=2, capacity=3)
    series.enroll_series(db=db, actor=a, series_id=weekly[0].series_id, clock=clock)
    enroll(db, b, weekly[0], clock)
    enroll(db, c, weekly[2], clock)
    enroll(db, c, alone, clock)  # not in a series
    enroll(db, c, theirs[0], clock)  # another teacher's series
    # A cancelled occurrence offers nothing any more (its two seats taken were given back).
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=weekly[2].id, reason="Holiday", clock=clock
    )
    # A finished occurrence still counts, as in the fill rate.
    clock.at = weekly[0].ends_at + timedelta(minutes=1)

    found = stats.teacher_overview(db=db, actor=teacher, clock=clock).series_fill

    assert found.series == 2
    assert (found.fill.part, found.fill.whole) == (3, 8)  # 2 + 1 of 4 + 4
    assert found.rate == pytest.approx(3 / 8)
    assert stats.teacher_overview(db=db, actor=other, clock=clock).series_fill == (
        stats.SeriesFill(series=1, fill=stats.Rate(1, 6))
    )


def test_without_series_the_series_fill_is_empty(db: Session) -> None:
    clock = FrozenClock(T0)
    teacher = make_teacher(db, clock=clock)
    make_session(db, teacher=teacher, clock=clock, publish=True, capacity=5)

    found = stats.teacher_overview(db=db, actor=teacher, clock=clock).series_fill

    assert found == stats.SeriesFill(series=0, fill=stats.Rate(0, 0))
    assert found.rate is None


def test_series_have_every_week_and_month_with_zeros(any_db: Session) -> None:
    teacher, _ = build_known_teacher(any_db)

    overview = stats.teacher_overview(db=any_db, actor=teacher, clock=FrozenClock(NOW))

    weeks = overview.enrollments_by_week
    assert len(weeks) == 12
    assert weeks[0].start == date(2025, 12, 22) and weeks[-1].start == date(2026, 3, 9)
    assert all(w.start.weekday() == 0 for w in weeks)
    # Every enrollment made counts, even one given back later or in a cancelled session.
    assert [w.value for w in weeks] == [0] * 10 + [2, 6]
    months = overview.revenue_by_month
    assert [m.start for m in months] == [date(2025, 4 + i, 1) for i in range(9)] + [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    # Held and released money count; the refunded 5.00 does not.
    assert [m.value for m in months] == [0] * 11 + [2_700]


def test_session_table_pages_with_figures_per_row(any_db: Session) -> None:
    teacher, s = build_known_teacher(any_db)
    clock = FrozenClock(NOW)

    first = stats.session_table(db=any_db, actor=teacher, page=1, page_size=4, clock=clock)
    second = stats.session_table(db=any_db, actor=teacher, page=2, page_size=4, clock=clock)

    assert (first.total, first.pages, second.page) == (6, 2, 2)
    assert [r.title for r in first.rows + second.rows] == [
        s[k].title for k in ("upcoming", "free", "cancelled", "draft", "ongoing", "finished")
    ]
    rows = {r.session_id: r for r in first.rows + second.rows}
    figures = {
        key: (
            rows[v.id].status,
            rows[v.id].enrolled,
            rows[v.id].capacity,
            rows[v.id].fill_percent,
            rows[v.id].revenue_cents,
            rows[v.id].attended,
        )
        for key, v in s.items()
    }
    assert figures == {
        "finished": ("finished", 2, 10, 20, 2_000, 1),
        "ongoing": ("ongoing", 1, 4, 25, 0, 1),
        "draft": ("draft", 0, 100, 0, 0, 0),
        "cancelled": ("cancelled", 0, 5, 0, 0, 0),
        "free": ("scheduled", 2, 20, 10, 0, 0),
        "upcoming": ("scheduled", 1, None, None, 700, 0),
    }


def test_session_table_bounds_its_page_and_page_size(db: Session) -> None:
    teacher, _ = build_known_teacher(db)
    clock = FrozenClock(NOW)

    huge = stats.session_table(db=db, actor=teacher, page_size=10_000, clock=clock)
    beyond = stats.session_table(db=db, actor=teacher, page=99, page_size=4, clock=clock)
    before = stats.session_table(db=db, actor=teacher, page=-3, page_size=4, clock=clock)

    assert huge.page_size == stats.MAX_PAGE_SIZE
    assert (beyond.page, len(beyond.rows)) == (2, 2)
    assert (before.page, len(before.rows)) == (1, 4)


def test_other_teachers_data_is_never_counted(db: Session) -> None:
    build_known_teacher(db)
    newcomer = make_teacher(db, clock=FrozenClock(T0))

    overview = stats.teacher_overview(db=db, actor=newcomer, clock=FrozenClock(NOW))

    assert overview.total_sessions == 0
    assert overview.active_enrollments == 0
    assert overview.revenue == stats.Revenue()
    assert {w.value for w in overview.enrollments_by_week} == {0}
    assert {m.value for m in overview.revenue_by_month} == {0}


def test_empty_teacher_gets_zeros_and_no_rates(db: Session) -> None:
    teacher = make_teacher(db, clock=FrozenClock(T0))

    overview = stats.teacher_overview(db=db, actor=teacher, clock=FrozenClock(NOW))

    assert overview.counts == dict.fromkeys(stats.STATUSES, 0)
    assert overview.fill_rate is None
    assert overview.attendance_rate is None
    assert overview.upcoming == [] and overview.attendance_by_session == []
    assert [len(overview.enrollments_by_week), len(overview.revenue_by_month)] == [12, 12]
    assert (overview.table.rows, overview.table.total, overview.table.pages) == ([], 0, 1)


def test_sessions_without_enrollments_give_no_attendance_rate(db: Session) -> None:
    clock = FrozenClock(T0)
    teacher = make_teacher(db, clock=clock)
    make_session(db, teacher=teacher, clock=clock, publish=True, capacity=8)
    clock.advance(days=5)

    overview = stats.teacher_overview(db=db, actor=teacher, clock=clock)

    assert overview.counts["finished"] == 1
    assert overview.attendance_rate is None
    assert overview.fill_rate == 0.0


def test_student_is_refused(db: Session) -> None:
    student = make_student(db, clock=FrozenClock(T0))
    with pytest.raises(Forbidden):
        stats.teacher_overview(db=db, actor=student)
    with pytest.raises(Forbidden):
        stats.session_table(db=db, actor=student)


def test_unknown_time_zone_is_refused(db: Session) -> None:
    teacher = make_teacher(db, clock=FrozenClock(T0))
    with pytest.raises(InvalidInput) as refused:
        stats.teacher_overview(db=db, actor=teacher, tz="Mars/Olympus_Mons")
    assert refused.value.code == "timezone_invalid"


def test_weeks_and_months_are_the_viewers_across_a_summer_time_change(any_db: Session) -> None:
    clock = FrozenClock(datetime(2026, 2, 27, 9, 0, tzinfo=UTC))
    teacher = make_teacher(any_db, clock=clock)
    paid = make_session(
        any_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=1_000,
        starts_at=datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
    )
    students = [funded_student(any_db, clock) for _ in range(3)]
    # Saturday 28 Feb 23:30 UTC is already 1 March in Paris, still 28 February in New York.
    # 9 March 03:30 UTC is Sunday 8 March 23:30 in New York (summer time began that morning);
    # 04:30 UTC is Monday there, but would still be Sunday with the winter offset.
    moments = [(2026, 2, 28, 23, 30), (2026, 3, 9, 3, 30), (2026, 3, 9, 4, 30)]
    for student, moment in zip(students, moments, strict=True):
        clock.at = datetime(*moment, tzinfo=UTC)
        enroll(any_db, student, paid, clock)
    now = FrozenClock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))

    def figures(tz: str) -> tuple[dict[date, int], dict[date, int]]:
        o = stats.teacher_overview(db=any_db, actor=teacher, clock=now, tz=tz)
        weeks = {w.start: w.value for w in o.enrollments_by_week if w.value}
        months = {m.start: m.value for m in o.revenue_by_month if m.value}
        return weeks, months

    feb23, mar2, mar9 = date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)
    feb, mar = date(2026, 2, 1), date(2026, 3, 1)
    assert figures("UTC") == ({feb23: 1, mar9: 2}, {feb: 1_000, mar: 2_000})
    assert figures("Europe/Paris") == ({feb23: 1, mar9: 2}, {mar: 3_000})
    assert figures("America/New_York") == (
        {feb23: 1, mar2: 1, mar9: 1},
        {feb: 1_000, mar: 2_000},
    )


def test_the_number_of_queries_does_not_grow_with_the_sessions(db: Session) -> None:
    clock = FrozenClock(T0)
    small, large = make_teacher(db, clock=clock), make_teacher(db, clock=clock)
    student = funded_student(db, clock)
    enroll(db, student, make_session(db, teacher=small, clock=clock, publish=True), clock)
    for days in range(1, 13):
        held = make_session(
            db, teacher=large, clock=clock, publish=True, starts_at=T0 + timedelta(days=days)
        )
        enroll(db, student, held, clock)
    with recorded(db) as statements:
        clock.advance(days=6)
        stats.teacher_overview(db=db, actor=small, clock=clock)
        for_small = len(statements)
        statements.clear()
        stats.teacher_overview(db=db, actor=large, clock=clock)

    assert len(statements) == for_small


def test_sqlite_reads_the_teachers_sessions_from_one_covering_index(db: Session) -> None:
    """The sums by status and series and who attended: the teacher's range of
    ix_video_sessions_teacher_figures alone, never the sessions' rows (0017)."""
    teacher, _ = build_known_teacher(db)
    with recorded(db) as statements:
        stats.teacher_overview(db=db, actor=teacher, clock=FrozenClock(NOW))
    sums = next(one for one in statements if "GROUP BY" in one.sql and "series_id" in one.sql)
    attended = next(
        one
        for one in statements
        if one.sql.startswith("SELECT count(*)")
        and ("FROM attendance JOIN video_sessions" in one.sql)
    )
    covering = "USING COVERING INDEX ix_video_sessions_teacher_figures (teacher_id=?"
    for statement, params in (sums, attended):
        plan = sqlite_plan(db, statement, params)
        reads = [step for step in plan if "video_sessions" in step and "waitlist" not in step]
        assert reads and all(covering in step for step in reads), plan
