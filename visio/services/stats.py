"""A teacher's statistics: counts, rates, revenue and series, all from SQL aggregates.

Every figure comes from a grouped query over the teacher's sessions (on SQLite from
ix_video_sessions_teacher_figures alone, which holds every column read of them; on PostgreSQL
ix_video_sessions_teacher_starts), their enrollments and purchases: the number of queries is
fixed, whatever the number of sessions. The series and the revenue read enrollments and purchases
by the teacher id copied onto them (ix_enrollments_teacher_enrolled, ix_purchases_teacher_created:
a seek and a covering range, no join to the sessions); the per-session figures by session
(ix_enrollments_session_status, ix_purchases_session_status).
Python builds one page of the per-session table.

Weeks (Monday first) and months are the viewer's: each period is bounded by its first local
midnight and the next one, turned into UTC instants here (summer time included), and each period's
figure is one range of the teacher's index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, bindparam, case, func
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    Attendance,
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Purchase,
    PurchaseStatus,
    Role,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services import minimums, waitlist
from visio.services.accounts import require_role
from visio.services.errors import InvalidInput
from visio.services.sessions import effective_status

WEEKS = 12
MONTHS = 12
UPCOMING = 5
ATTENDANCE_SESSIONS = 10
MAX_PAGE_SIZE = 50
STATUSES = tuple(s.value for s in EffectiveStatus)
EARNED = (PurchaseStatus.HELD.value, PurchaseStatus.RELEASED.value)  # money not given back

S = VideoSession


@dataclass(frozen=True)
class Rate:
    """A share: `part` of `whole`; no value when there is nothing to measure."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class Revenue:
    held_cents: int = 0  # in escrow until the session ends
    released_cents: int = 0  # paid out to the teacher
    refunded_cents: int = 0  # given back to students


@dataclass(frozen=True)
class UpcomingSession:
    session_id: int
    title: str
    starts_at: datetime
    enrolled_count: int
    capacity: int | None


@dataclass(frozen=True)
class Point:
    """One bar of a series: the first local day of its week or month, and its value."""

    start: date
    value: int


@dataclass(frozen=True)
class SessionAttendance:
    session_id: int
    title: str
    starts_at: datetime
    enrolled: int
    attended: int


@dataclass(frozen=True)
class SessionStats:
    """One row of the per-session table."""

    session_id: int
    title: str
    starts_at: datetime
    status: EffectiveStatus
    enrolled: int  # active enrollments
    capacity: int | None
    revenue_cents: int  # held or released
    attended: int  # enrolled students who joined

    @property
    def fill_percent(self) -> int | None:
        if not self.capacity:
            return None
        return round(100 * self.enrolled / self.capacity)


@dataclass(frozen=True)
class SessionTable:
    rows: list[SessionStats]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class SeriesFill:
    """How full a teacher's recurring series are, over their published occurrences."""

    series: int = 0  # series with at least one published occurrence
    fill: Rate = Rate(0, 0)  # seats taken / seats offered, occurrences with a capacity

    @property
    def rate(self) -> float | None:
        return self.fill.value


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int]  # by effective status, every status present
    upcoming: list[UpcomingSession]
    active_enrollments: int
    fill: Rate  # active enrollments / seats, over published sessions with a capacity
    attendance: Rate  # enrolled students who joined / enrolled, over finished sessions
    revenue: Revenue
    enrollments_by_week: list[Point]
    revenue_by_month: list[Point]
    attendance_by_session: list[SessionAttendance]  # oldest first
    table: SessionTable | None  # None when not asked for (the API shows none)
    waiting: int = 0  # students in the open waiting lists of the teacher's sessions
    auto_cancelled: int = 0  # cancelled because their minimum of participants was not reached
    series_fill: SeriesFill = SeriesFill()

    @property
    def total_sessions(self) -> int:
        return sum(self.counts.values())

    @property
    def fill_rate(self) -> float | None:
        return self.fill.value

    @property
    def attendance_rate(self) -> float | None:
        return self.attendance.value


# --- SQL pieces -----------------------------------------------------------------------------


def _status_case(now: datetime | BindParameter[Any]) -> ColumnElement[str]:
    """The effective status in SQL: the same rule as sessions.effective_status."""
    scheduled = S.status == StoredStatus.SCHEDULED
    return case(
        (and_(scheduled, S.ends_at <= now), EffectiveStatus.FINISHED.value),
        (and_(scheduled, S.starts_at <= now), EffectiveStatus.ONGOING.value),
        else_=S.status,
    )


def _finished(now: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    # starts_at <= now follows from ends_at <= now: said, it bounds the (teacher, start) index.
    return and_(S.status == StoredStatus.SCHEDULED, S.starts_at <= now, S.ends_at <= now)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise InvalidInput("timezone_invalid", field="timezone") from None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _week_starts(today: date) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def _month_starts(today: date) -> list[date]:
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - MONTHS + 1, index + 1)]


# The dashboard's statements, built once: building one (and its cache key) took a few hundred
# microseconds, as long as running the smaller ones. Run with `teacher`, `now`, `ids`...
_IDS = bindparam("ids", expanding=True)
# An attendance row and the enrollment of the same student in the same session.
_ATTENDEE_SEAT = and_(
    Attendance.session_id == Enrollment.session_id,
    Attendance.user_id == Enrollment.student_id,
)
_ENROLLED_ATTENDED = (
    select(Enrollment.session_id, func.count(), func.count(Attendance.id))
    .outerjoin(
        Attendance,
        _ATTENDEE_SEAT,
    )
    .where(
        Enrollment.session_id.in_(_IDS),  # type: ignore[attr-defined]
        Enrollment.status == EnrollmentStatus.ACTIVE,
    )
    .group_by(Enrollment.session_id)
)
_REVENUE_BY_SESSION = (
    select(Purchase.session_id, func.sum(Purchase.amount_cents))
    .where(
        Purchase.session_id.in_(_IDS),  # type: ignore[attr-defined]
        Purchase.status.in_(EARNED),  # type: ignore[attr-defined]
    )
    .group_by(Purchase.session_id)
)


def _enrolled_attended(db: Session, session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Active enrollments and how many of those students joined, per session, in one query."""
    if not session_ids:
        return {}
    rows = db.exec(_ENROLLED_ATTENDED, params={"ids": session_ids}).all()  # type: ignore[call-overload]
    return {sid: (int(enrolled), int(attended)) for sid, enrolled, attended in rows}


def _revenue_by_session(db: Session, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.exec(_REVENUE_BY_SESSION, params={"ids": session_ids}).all()  # type: ignore[call-overload]
    return {sid: int(total) for sid, total in rows}


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SessionSums:
    counts: dict[str, int]  # sessions per effective status
    seats: int  # offered by published capped sessions
    enrolled: int  # active enrollments (each session's cached seat count)
    in_capped: int  # of which in capped sessions
    in_finished: int  # of which in finished sessions
    waiting: int  # students in the open waiting lists
    auto_cancelled: int  # cancelled because their minimum of participants was not reached
    series_fill: SeriesFill


def _sums_statement() -> Select[Any]:
    """The teacher's sessions rows, one scan (of ix_video_sessions_teacher_figures alone on
    SQLite), grouped by effective status and series; built once, run with `teacher` and `now`.

    A session's `enrolled_count` is its active enrollments (kept with them in every write, and
    checked by the tests' seat invariants): summing it spares reading every enrollment. Who
    waits in an open line is counted per session row, by session id, so no second pass over the
    sessions finds them again. (Who joined a finished session is not: on PostgreSQL a second
    correlated subquery per row makes the plan's estimated cost grow past `jit_above_cost`
    at a few thousand sessions, and compiling it costs more than the query; on SQLite it saves
    nothing measurable over `_attended`.)
    """
    now = bindparam("now")
    capped = S.capacity.is_not(None)  # type: ignore[union-attr]
    inner = (
        select(
            _status_case(now).label("status"),
            S.series_id.label("series_id"),  # type: ignore[attr-defined]
            S.capacity.label("capacity"),  # type: ignore[attr-defined]
            S.enrolled_count.label("enrolled"),  # type: ignore[attr-defined]
            case((capped, S.enrolled_count), else_=0).label("in_capped"),
            waitlist.waiting_in_line(now).label("waiting"),
            case((minimums.auto_cancelled(), 1), else_=0).label("auto"),
        )
        .where(S.teacher_id == bindparam("teacher"))
        .subquery()
    )
    c = inner.c
    return select(
        c.status,
        c.series_id,
        func.count(),
        *[func.sum(col) for col in (c.capacity, c.enrolled, c.in_capped, c.waiting, c.auto)],
    ).group_by(c.status, c.series_id)


SUMS = _sums_statement()


def _session_sums(db: Session, teacher_id: int, now: datetime) -> _SessionSums:
    """Every figure of the sessions rows (a series' occurrences can be in several published
    statuses: Python counts each series once)."""
    rows = db.exec(SUMS, params={"teacher": teacher_id, "now": now}).all()  # type: ignore[call-overload]
    counts = dict.fromkeys(STATUSES, 0)
    seats = enrolled = in_capped = in_finished = waiting = auto = 0
    series: set[int] = set()
    series_taken = series_offered = 0
    for status, series_id, n, capacity, seated, seated_capped, line, auto_n in rows:
        counts[status] += int(n)
        waiting += int(line or 0)
        auto += int(auto_n or 0)
        # Drafts are not offered yet; a cancelled session offers nothing any more.
        if status in (EffectiveStatus.DRAFT, EffectiveStatus.CANCELLED):
            continue
        seats += int(capacity or 0)
        enrolled += int(seated or 0)
        in_capped += int(seated_capped or 0)
        if status == EffectiveStatus.FINISHED:
            in_finished += int(seated or 0)
        if series_id is not None:
            series.add(series_id)
            series_taken += int(seated_capped or 0)
            series_offered += int(capacity or 0)
    return _SessionSums(
        counts,
        seats,
        enrolled,
        in_capped,
        in_finished,
        waiting,
        auto,
        SeriesFill(len(series), Rate(series_taken, series_offered)),
    )


_ATTENDED = (
    select(func.count())
    .select_from(Attendance)
    .join(S, S.id == Attendance.session_id)
    .join(
        Enrollment,
        _ATTENDEE_SEAT,
    )
    .where(
        S.teacher_id == bindparam("teacher"),
        _finished(bindparam("now")),
        Enrollment.status == EnrollmentStatus.ACTIVE,
    )
)


def _attended(db: Session, teacher_id: int, now: datetime) -> int:
    """Students with a seat in a finished session who joined it (read from the attendance)."""
    params = {"teacher": teacher_id, "now": now}
    return int(db.exec(_ATTENDED, params=params).one())  # type: ignore[call-overload]


_REVENUE = (
    select(Purchase.status, func.sum(Purchase.amount_cents))
    .where(Purchase.teacher_id == bindparam("teacher"))
    .group_by(Purchase.status)
)


def _revenue(db: Session, teacher_id: int) -> Revenue:
    """Money by where it is now, read from the teacher's range of ix_purchases_teacher_created."""
    rows = db.exec(_REVENUE, params={"teacher": teacher_id}).all()  # type: ignore[call-overload]
    by_status = {status: int(total) for status, total in rows}
    return Revenue(
        held_cents=by_status.get(PurchaseStatus.HELD, 0),
        released_cents=by_status.get(PurchaseStatus.RELEASED, 0),
        refunded_cents=by_status.get(PurchaseStatus.REFUNDED, 0),
    )


_UPCOMING = (
    select(S.id, S.title, S.starts_at, S.enrolled_count, S.capacity)
    .where(
        S.teacher_id == bindparam("teacher"),
        S.status == StoredStatus.SCHEDULED,
        S.starts_at > bindparam("now"),
    )
    .order_by(S.starts_at, S.id)
    .limit(UPCOMING)
)


def _upcoming(db: Session, teacher_id: int, now: datetime) -> list[UpcomingSession]:
    """The next published sessions that have not started, soonest first."""
    params = {"teacher": teacher_id, "now": now}
    rows = db.exec(_UPCOMING, params=params).all()  # type: ignore[call-overload]
    return [UpcomingSession(*row) for row in rows]


_LAST_FINISHED = (
    select(S.id, S.title, S.starts_at)
    .where(S.teacher_id == bindparam("teacher"), _finished(bindparam("now")))
    .order_by(S.starts_at.desc(), S.id.desc())  # type: ignore[attr-defined]
    .limit(ATTENDANCE_SESSIONS)
)


def _attendance_by_session(db: Session, teacher_id: int, now: datetime) -> list[SessionAttendance]:
    """The last finished sessions with their enrolled and attending students, oldest first."""
    params = {"teacher": teacher_id, "now": now}
    last = db.exec(_LAST_FINISHED, params=params).all()  # type: ignore[call-overload]
    figures = _enrolled_attended(db, [sid for sid, _, _ in last])
    return [
        SessionAttendance(sid, title, starts_at, *figures.get(sid, (0, 0)))
        for sid, title, starts_at in reversed(last)
    ]


def _series_statement() -> Select[Any]:
    """Enrollments per week and earned money per month, built once: a count or a sum per
    period, each over its own range of the teacher's covering index
    (ix_enrollments_teacher_enrolled, ix_purchases_teacher_created), between bounds `w0`..`w12`
    and `m0`..`m12` given at each run; no row's day is computed in SQL."""
    teacher = bindparam("teacher")
    enrolled = [
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.teacher_id == teacher)
        .where(Enrollment.enrolled_at >= bindparam(f"w{i}"))
        .where(Enrollment.enrolled_at < bindparam(f"w{i + 1}"))
        .scalar_subquery()
        for i in range(WEEKS)
    ]
    earned = [
        select(func.coalesce(func.sum(Purchase.amount_cents), 0))
        .where(Purchase.teacher_id == teacher)
        .where(Purchase.created_at >= bindparam(f"m{i}"))
        .where(Purchase.created_at < bindparam(f"m{i + 1}"))
        .where(Purchase.status.in_(EARNED))  # type: ignore[attr-defined]
        .scalar_subquery()
        for i in range(MONTHS)
    ]
    return select(*enrolled, *earned)


SERIES = _series_statement()


def _series(
    db: Session, teacher_id: int, now: datetime, zone: ZoneInfo
) -> tuple[list[Point], list[Point]]:
    """Enrollments per week (by enrolled_at) and earned money per month (by purchase date).

    Each period runs from its first local midnight to the next period's, in UTC: a row is in the
    period of its local day exactly when its UTC time is within those bounds, summer time or not.
    """
    today = now.astimezone(zone).date()
    weeks = _week_starts(today)
    months = _month_starts(today)
    week_edges = [*weeks, weeks[-1] + timedelta(weeks=1)]
    month_edges = [*months, (months[-1] + timedelta(days=31)).replace(day=1)]
    params: dict[str, Any] = {"teacher": teacher_id}
    params.update({f"w{i}": _midnight(day, zone) for i, day in enumerate(week_edges)})
    params.update({f"m{i}": _midnight(day, zone) for i, day in enumerate(month_edges)})
    row = db.exec(SERIES, params=params).one()  # type: ignore[call-overload]
    by_week = [Point(start, int(n)) for start, n in zip(weeks, row[:WEEKS], strict=True)]
    by_month = [Point(start, int(n)) for start, n in zip(months, row[WEEKS:], strict=True)]
    return by_week, by_month


def session_table(
    *, db: Session, actor: User, page: int = 1, page_size: int = 20, clock: Clock = utcnow
) -> SessionTable:
    """One page of the teacher's sessions with their figures, latest start first."""
    require_role(actor, Role.TEACHER)
    teacher_id: int = actor.id  # type: ignore[assignment]
    count = select(func.count()).select_from(S).where(S.teacher_id == teacher_id)
    total = int(db.exec(count).one())
    return _table(db, teacher_id, page, page_size, clock(), total)


_TABLE_PAGE = (
    select(S)
    .where(S.teacher_id == bindparam("teacher"))
    .order_by(S.starts_at.desc(), S.id.desc())  # type: ignore[attr-defined]
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)


def _table(
    db: Session, teacher_id: int, page: int, page_size: int, now: datetime, total: int
) -> SessionTable:
    """The page of the table, `total` being the teacher's number of sessions."""
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    page = min(max(1, page), max(1, -(-total // page_size)))
    params = {"teacher": teacher_id, "offset": (page - 1) * page_size, "limit": page_size}
    found = db.exec(_TABLE_PAGE, params=params).all()  # type: ignore[call-overload]
    ids = [s.id for s in found]
    figures = _enrolled_attended(db, ids)  # type: ignore[arg-type]
    revenue = _revenue_by_session(db, ids)  # type: ignore[arg-type]
    rows = [
        SessionStats(
            session_id=s.id,  # type: ignore[arg-type]
            title=s.title,
            starts_at=s.starts_at,
            status=effective_status(s, now),
            enrolled=figures.get(s.id, (0, 0))[0],  # type: ignore[arg-type]
            capacity=s.capacity,
            revenue_cents=revenue.get(s.id, 0),  # type: ignore[arg-type]
            attended=figures.get(s.id, (0, 0))[1],  # type: ignore[arg-type]
        )
        for s in found
    ]
    return SessionTable(rows, total, page, page_size)


def teacher_overview(
    *,
    db: Session,
    actor: User,
    clock: Clock = utcnow,
    tz: str = "UTC",
    page: int = 1,
    page_size: int = 20,
    table: bool = True,
) -> Overview:
    """The teacher's dashboard: counts, rates, revenue, series and (with `table`, for the page
    that shows it) a page of the per-session table."""
    require_role(actor, Role.TEACHER)
    zone = _zone(tz)
    now = clock()
    teacher_id: int = actor.id  # type: ignore[assignment]
    sums = _session_sums(db, teacher_id, now)
    by_week, by_month = _series(db, teacher_id, now, zone)
    return Overview(
        counts=sums.counts,
        upcoming=_upcoming(db, teacher_id, now),
        active_enrollments=sums.enrolled,
        fill=Rate(sums.in_capped, sums.seats),
        attendance=Rate(_attended(db, teacher_id, now), sums.in_finished),
        revenue=_revenue(db, teacher_id),
        enrollments_by_week=by_week,
        revenue_by_month=by_month,
        attendance_by_session=_attendance_by_session(db, teacher_id, now),
        # The sessions' count is the sums' total: no second count for the table.
        table=_table(db, teacher_id, page, page_size, now, sum(sums.counts.values()))
        if table
        else None,
        waiting=sums.waiting,
        auto_cancelled=sums.auto_cancelled,
        series_fill=sums.series_fill,
    )
