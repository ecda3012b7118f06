"""A teacher's statistics: counts, rates, revenue and series, all from SQL aggregates.

Every figure comes from a grouped query over the teacher's sessions
(ix_video_sessions_teacher_starts), their enrollments (ix_enrollments_session_status) and purchases
(ix_purchases_session_status): the number of queries is fixed, whatever the number of sessions.
Python only folds per-day buckets (at most a year of days) into weeks and months, and builds one
page of the per-session table.

Weeks (Monday first) and months are the viewer's: each row is put on its local day in SQL,
PostgreSQL with `timezone()`, SQLite by shifting the stored UTC time by the zone's offset, which
is split at the zone's changes (summer time) within the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, distinct, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement
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
    table: SessionTable
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


def _status_case(now: datetime) -> ColumnElement[str]:
    """The effective status in SQL: the same rule as sessions.effective_status."""
    scheduled = S.status == StoredStatus.SCHEDULED
    return case(
        (and_(scheduled, S.ends_at <= now), EffectiveStatus.FINISHED.value),
        (and_(scheduled, S.starts_at <= now), EffectiveStatus.ONGOING.value),
        else_=S.status,
    )


def _finished(now: datetime) -> ColumnElement[bool]:
    # starts_at <= now follows from ends_at <= now: said, it bounds the (teacher, start) index.
    return and_(S.status == StoredStatus.SCHEDULED, S.starts_at <= now, S.ends_at <= now)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise InvalidInput("timezone_invalid", field="timezone") from None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _offset_minutes(at: datetime, zone: ZoneInfo) -> int:
    offset = at.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _offset_segments(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offset over [start, end) as (until, minutes) pieces, the last until None.

    Walks the window a day at a time and pins each change to its second by bisection: a few
    hundred steps for a year, whatever the number of rows.
    """
    pieces: list[tuple[datetime | None, int]] = []
    current = _offset_minutes(start, zone)
    step = start
    while step < end:
        nxt = min(step + timedelta(days=1), end)
        if _offset_minutes(nxt, zone) != current:
            lo, hi = int(step.timestamp()), int(nxt.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_minutes(datetime.fromtimestamp(mid, UTC), zone) == current:
                    lo = mid
                else:
                    hi = mid
            change = datetime.fromtimestamp(hi, UTC)
            pieces.append((change, current))
            current = _offset_minutes(change, zone)
        step = nxt
    pieces.append((None, current))
    return pieces


def _local_day(
    db: Session, column: Any, zone: ZoneInfo, start: datetime, end: datetime
) -> ColumnElement[Any]:
    """The viewer's calendar day of a UTC timestamp column, for rows within [start, end)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone.key, column))
    # SQLite keeps naive UTC text: shift it by the offset in force at that instant.
    pieces = _offset_segments(zone, start, end)
    *changes, (_, last) = pieces
    modifier: Any = literal(f"{last:+d} minutes")
    if changes:
        modifier = case(
            *[(column < until, f"{minutes:+d} minutes") for until, minutes in changes],
            else_=f"{last:+d} minutes",
        )
    return func.date(column, modifier)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _sum_by_day(
    db: Session,
    *,
    teacher_id: int,
    model: Any,
    at: Any,
    value: Any,
    where: Sequence[ColumnElement[bool]],
    zone: ZoneInfo,
    first: date,
    end: date,
) -> dict[date, int]:
    """`value` summed per local day of `at` within [first, end), over the teacher's sessions."""
    start, stop = _midnight(first, zone), _midnight(end, zone)
    inner = (
        select(_local_day(db, at, zone, start, stop).label("day"), value.label("value"))
        .select_from(model)
        .join(S, S.id == model.session_id)
        # Seats are taken (and paid) before their session starts: one that started before the
        # period has nothing in it, and the (teacher, start) index skips it.
        .where(S.teacher_id == teacher_id, S.starts_at >= start, at >= start, at < stop, *where)
        .subquery()
    )
    # Grouping on the subquery's column: PostgreSQL would not match a GROUP BY expression whose
    # parameters are bound apart from the SELECT's.
    rows = db.exec(select(inner.c.day, func.sum(inner.c.value)).group_by(inner.c.day)).all()
    return {_as_date(day): int(total) for day, total in rows}


def _week_starts(today: date) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def _month_starts(today: date) -> list[date]:
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - MONTHS + 1, index + 1)]


def _fold(per_day: dict[date, int], starts: list[date], end: date) -> list[Point]:
    """Per-day sums folded into the periods beginning at `starts` (the last ends at `end`)."""
    bounds = [*starts[1:], end]
    return [
        Point(first, sum(v for day, v in per_day.items() if first <= day < stop))
        for first, stop in zip(starts, bounds, strict=True)
    ]


def _enrolled_attended(db: Session, session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Active enrollments and how many of those students joined, per session, in one query."""
    if not session_ids:
        return {}
    rows = db.exec(
        select(Enrollment.session_id, func.count(), func.count(Attendance.id))
        .outerjoin(
            Attendance,
            and_(
                Attendance.session_id == Enrollment.session_id,
                Attendance.user_id == Enrollment.student_id,
            ),
        )
        .where(
            Enrollment.session_id.in_(session_ids),  # type: ignore[attr-defined]
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
        .group_by(Enrollment.session_id)
    ).all()
    return {sid: (int(enrolled), int(attended)) for sid, enrolled, attended in rows}


def _revenue_by_session(db: Session, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.exec(
        select(Purchase.session_id, func.sum(Purchase.amount_cents))
        .where(
            Purchase.session_id.in_(session_ids),  # type: ignore[attr-defined]
            Purchase.status.in_(EARNED),  # type: ignore[attr-defined]
        )
        .group_by(Purchase.session_id)
    ).all()
    return {sid: int(total) for sid, total in rows}


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SessionSums:
    counts: dict[str, int]  # sessions per effective status
    seats: int  # offered by published capped sessions
    enrolled: int  # active enrollments (each session's cached seat count)
    in_capped: int  # of which in capped sessions
    in_finished: int  # of which in finished sessions


def _session_sums(db: Session, teacher_id: int, now: datetime) -> _SessionSums:
    """Counts, seats and enrollments per effective status, from the sessions rows alone.

    A session's `enrolled_count` is its active enrollments (kept with them in every write, and
    checked by the tests' seat invariants): summing it spares reading every enrollment.
    """
    capped = S.capacity.is_not(None)  # type: ignore[union-attr]
    inner = (
        select(
            _status_case(now).label("status"),
            S.capacity.label("capacity"),  # type: ignore[attr-defined]
            S.enrolled_count.label("enrolled"),  # type: ignore[attr-defined]
            case((capped, S.enrolled_count), else_=0).label("in_capped"),
        )
        .where(S.teacher_id == teacher_id)
        .subquery()
    )
    rows = db.exec(
        select(
            inner.c.status,
            func.count(),
            func.sum(inner.c.capacity),
            func.sum(inner.c.enrolled),
            func.sum(inner.c.in_capped),
        ).group_by(inner.c.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    seats = enrolled = in_capped = in_finished = 0
    for status, n, capacity, seated, seated_capped in rows:
        counts[status] = int(n)
        # Drafts are not offered yet; a cancelled session offers nothing any more.
        if status in (EffectiveStatus.DRAFT, EffectiveStatus.CANCELLED):
            continue
        seats += int(capacity or 0)
        enrolled += int(seated or 0)
        in_capped += int(seated_capped or 0)
        if status == EffectiveStatus.FINISHED:
            in_finished += int(seated or 0)
    return _SessionSums(counts, seats, enrolled, in_capped, in_finished)


def _attended(db: Session, teacher_id: int, now: datetime) -> int:
    """Students with a seat in a finished session who joined it (read from the attendance)."""
    return int(
        db.exec(
            select(func.count())
            .select_from(Attendance)
            .join(S, S.id == Attendance.session_id)
            .join(
                Enrollment,
                and_(
                    Enrollment.session_id == Attendance.session_id,
                    Enrollment.student_id == Attendance.user_id,
                ),
            )
            .where(
                S.teacher_id == teacher_id,
                _finished(now),
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
        ).one()
    )


def _series_fill(db: Session, teacher_id: int) -> SeriesFill:
    """The teacher's series and their fill, in one query over their occurrences' rows.

    Published occurrences (stored `scheduled`: upcoming, under way or finished) count, as in the
    fill rate; drafts offer nothing yet and a cancelled occurrence nothing any more.
    """
    published = S.status == StoredStatus.SCHEDULED
    offering = and_(published, S.capacity.is_not(None))  # type: ignore[union-attr]
    series, taken, offered = db.exec(
        select(
            func.count(distinct(case((published, S.series_id)))),
            func.coalesce(func.sum(case((offering, S.enrolled_count), else_=0)), 0),
            func.coalesce(func.sum(case((offering, S.capacity), else_=0)), 0),
        ).where(S.teacher_id == teacher_id, S.series_id.is_not(None))  # type: ignore[union-attr]
    ).one()
    return SeriesFill(series=int(series), fill=Rate(int(taken), int(offered)))


def _revenue(db: Session, teacher_id: int) -> Revenue:
    rows = db.exec(
        select(Purchase.status, func.sum(Purchase.amount_cents))
        .join(S, S.id == Purchase.session_id)
        .where(S.teacher_id == teacher_id)
        .group_by(Purchase.status)
    ).all()
    by_status = {status: int(total) for status, total in rows}
    return Revenue(
        held_cents=by_status.get(PurchaseStatus.HELD, 0),
        released_cents=by_status.get(PurchaseStatus.RELEASED, 0),
        refunded_cents=by_status.get(PurchaseStatus.REFUNDED, 0),
    )


def _upcoming(db: Session, teacher_id: int, now: datetime) -> list[UpcomingSession]:
    """The next published sessions that have not started, soonest first."""
    rows = db.exec(
        select(S.id, S.title, S.starts_at, S.enrolled_count, S.capacity)
        .where(S.teacher_id == teacher_id, S.status == StoredStatus.SCHEDULED, S.starts_at > now)
        .order_by(S.starts_at, S.id)
        .limit(UPCOMING)
    ).all()
    return [UpcomingSession(*row) for row in rows]


def _attendance_by_session(db: Session, teacher_id: int, now: datetime) -> list[SessionAttendance]:
    """The last finished sessions with their enrolled and attending students, oldest first."""
    last = db.exec(
        select(S.id, S.title, S.starts_at)
        .where(S.teacher_id == teacher_id, _finished(now))
        .order_by(S.starts_at.desc(), S.id.desc())  # type: ignore[attr-defined]
        .limit(ATTENDANCE_SESSIONS)
    ).all()
    figures = _enrolled_attended(db, [sid for sid, _, _ in last])
    return [
        SessionAttendance(sid, title, starts_at, *figures.get(sid, (0, 0)))
        for sid, title, starts_at in reversed(last)
    ]


def _series(
    db: Session, teacher_id: int, now: datetime, zone: ZoneInfo
) -> tuple[list[Point], list[Point]]:
    """Enrollments per week (by enrolled_at) and earned money per month (by purchase date)."""
    today = now.astimezone(zone).date()
    weeks = _week_starts(today)
    weeks_end = weeks[-1] + timedelta(weeks=1)
    per_day = _sum_by_day(
        db,
        teacher_id=teacher_id,
        model=Enrollment,
        at=Enrollment.enrolled_at,
        value=literal_column("1"),
        where=(),
        zone=zone,
        first=weeks[0],
        end=weeks_end,
    )
    by_week = _fold(per_day, weeks, weeks_end)

    months = _month_starts(today)
    months_end = (months[-1] + timedelta(days=31)).replace(day=1)
    per_day = _sum_by_day(
        db,
        teacher_id=teacher_id,
        model=Purchase,
        at=Purchase.created_at,
        value=Purchase.amount_cents,
        where=(Purchase.status.in_(EARNED),),  # type: ignore[attr-defined]
        zone=zone,
        first=months[0],
        end=months_end,
    )
    return by_week, _fold(per_day, months, months_end)


def session_table(
    *, db: Session, actor: User, page: int = 1, page_size: int = 20, clock: Clock = utcnow
) -> SessionTable:
    """One page of the teacher's sessions with their figures, latest start first."""
    require_role(actor, Role.TEACHER)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    now = clock()
    where = S.teacher_id == actor.id
    total = int(db.exec(select(func.count()).select_from(S).where(where)).one())
    page = min(max(1, page), max(1, -(-total // page_size)))
    found = db.exec(
        select(S)
        .where(where)
        .order_by(S.starts_at.desc(), S.id.desc())  # type: ignore[attr-defined]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
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
) -> Overview:
    """The teacher's dashboard: counts, rates, revenue, series and a page of the table."""
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
        table=session_table(db=db, actor=actor, page=page, page_size=page_size, clock=clock),
        waiting=waitlist.waiting_for_teacher(db, teacher_id, now),
        auto_cancelled=minimums.auto_cancelled_count(db, teacher_id=teacher_id),
        series_fill=_series_fill(db, teacher_id),
    )
