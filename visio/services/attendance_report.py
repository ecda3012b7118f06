"""The teacher's attendance report of one session, on screen and as a CSV file.

Every actively enrolled student is listed, those who never joined too. Minutes attended come from
the in-app room's heartbeats (see `attendance`); for Zoom, Teams or custom links only the join is
known, so the report says time is not measured.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from visio.i18n import t
from visio.models import Attendance, Enrollment, EnrollmentStatus, User
from visio.services import jitsi
from visio.services.roster import owned_session

MAX_LINES = 200  # on screen; the CSV has everyone
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AttendanceLine:
    student_id: int
    full_name: str
    email: str
    first_joined_at: datetime | None
    last_seen_at: datetime | None
    join_count: int
    seconds_attended: int
    session_seconds: int

    @property
    def joined(self) -> bool:
        return self.first_joined_at is not None

    @property
    def minutes(self) -> int:
        """Whole minutes attended, to the nearest."""
        return (self.seconds_attended + 30) // 60

    @property
    def share_percent(self) -> int:
        """The share of the session attended, 0-100."""
        if not self.session_seconds:
            return 0
        return min(100, round(100 * self.seconds_attended / self.session_seconds))


@dataclass(frozen=True)
class AttendanceReport:
    session_id: int
    title: str
    measured: bool  # time attended is measured (in-app Jitsi room)
    total: int  # actively enrolled students
    joined: int  # of them, those who joined
    lines: list[AttendanceLine]  # joined first (by first join), then the absent, by name


def attendance_report(
    *, db: Session, actor: User | None, video_session_id: int, limit: int | None = MAX_LINES
) -> AttendanceReport:
    """Who of the enrolled students joined, when, and for how long (owner only)."""
    session = owned_session(db, actor, video_session_id)  # type: ignore[arg-type]
    active = and_(Enrollment.session_id == session.id, Enrollment.status == EnrollmentStatus.ACTIVE)
    on_attendance = and_(
        Attendance.session_id == Enrollment.session_id,
        Attendance.user_id == Enrollment.student_id,
    )
    total, joined = db.exec(
        select(func.count(), func.count(Attendance.id))
        .select_from(Enrollment)
        .outerjoin(Attendance, on_attendance)
        .where(active)
    ).one()
    query = (
        select(
            User.id,
            User.full_name,
            User.email,
            Attendance.first_joined_at,
            Attendance.last_seen_at,
            Attendance.join_count,
            Attendance.seconds_attended,
        )
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.student_id)
        .outerjoin(Attendance, on_attendance)
        .where(active)
        .order_by(
            case((Attendance.id.is_(None), 1), else_=0),  # type: ignore[union-attr]
            Attendance.first_joined_at,
            func.lower(User.full_name),
            User.id,
        )
    )
    if limit is not None:
        query = query.limit(limit)
    seconds = session.duration_minutes * 60
    lines = [
        AttendanceLine(
            student_id=int(user_id),
            full_name=name,
            email=email,
            first_joined_at=first,
            last_seen_at=last,
            join_count=int(count or 0),
            seconds_attended=int(attended or 0),
            session_seconds=seconds,
        )
        for user_id, name, email, first, last, count, attended in db.exec(query).all()
    ]
    return AttendanceReport(
        session_id=session.id,  # type: ignore[arg-type]
        title=session.title,
        measured=jitsi.is_jitsi(session),
        total=int(total),
        joined=int(joined),
        lines=lines,
    )


@dataclass(frozen=True)
class CsvFile:
    filename: str
    content: bytes


def _cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula (names are typed by users)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""


def attendance_csv(
    *, db: Session, actor: User | None, video_session_id: int, lang: str, tz: str
) -> CsvFile:
    """The report as CSV for Excel: UTF-8 with BOM, headers in `lang`, times in zone `tz`.

    French Excel splits on semicolons (the comma is its decimal mark), English Excel on commas.
    """
    report = attendance_report(db=db, actor=actor, video_session_id=video_session_id, limit=None)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    writer.writerow(
        [
            t("report.col_student", lang),
            t("report.col_email", lang),
            t("report.col_status", lang),
            t("report.csv_first_join", lang, zone=zone.key),
            t("report.csv_last_seen", lang, zone=zone.key),
            t("report.col_joins", lang),
            t("report.col_minutes", lang),
            t("report.csv_share", lang),
        ]
    )
    for line in report.lines:
        writer.writerow(
            [
                _cell(line.full_name),
                _cell(line.email),
                t("report.joined" if line.joined else "report.absent", lang),
                _local(line.first_joined_at, zone),
                _local(line.last_seen_at, zone),
                line.join_count,
                line.minutes if report.measured else "",
                line.share_percent if report.measured else "",
            ]
        )
    filename = t("report.csv_filename", lang, id=report.session_id)
    return CsvFile(filename=filename, content=out.getvalue().encode("utf-8-sig"))
