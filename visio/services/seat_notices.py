"""The notices of a seat just taken: the student's confirmation, the teacher's new enrollment,
and the teacher's "session full" when it was the last seat.

They ride in every seat claim, whose speed the enrollment benchmark watches (the notices may cost
at most a tenth of it): so one read (the teacher, and both people's choices for these kinds) and
one insert of every row, statements built once, run on the transaction's connection without the
ORM. The rows are those `outbox.enqueue` would write (see `notice_rows`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, insert, literal, or_
from sqlmodel import Session, select

from visio.models import Notice, NoticePreference, User, VideoSession
from visio.services import notice_rows, student_notices, teacher_notices

TEACHER_KINDS = ("new_enrollment", "session_full")

_PEOPLE_AND_CHOICES = (
    select(  # type: ignore[call-overload]
        User.id,
        User.email,
        User.locale,
        User.timezone,
        NoticePreference.user_id,
        NoticePreference.kind,
        NoticePreference.email,
    )
    .outerjoin(
        NoticePreference,
        or_(
            and_(  # literal kinds: no list parameter to expand on each call
                NoticePreference.user_id == User.id,
                or_(*(NoticePreference.kind == literal(kind) for kind in TEACHER_KINDS)),
            ),
            and_(
                NoticePreference.user_id == bindparam("student_id"),
                NoticePreference.kind == "enrollment_confirmed",
            ),
        ),
    )
    .where(User.id == bindparam("teacher_id"))
)
_INSERT = insert(Notice.__table__)  # type: ignore[attr-defined]


def seat_taken(
    db: Session,
    *,
    session: VideoSession,
    student: User,
    paid_cents: int,
    balance_cents: int,
    at: datetime,
    student_kind: str | None = "enrollment_confirmed",
) -> None:
    """Write the seat's notices (call after the seat count was raised); never commits.

    `student_kind`: the student's notice, the confirmation in its own words (a seat from the
    waiting list is told as a promotion: one mail, not two); None writes none for the student
    (a series' seats are confirmed by one summary, see `series.enroll_series`)."""
    connection = db.connection()
    found = connection.execute(
        _PEOPLE_AND_CHOICES, {"teacher_id": session.teacher_id, "student_id": student.id}
    ).all()
    teacher_id, email, locale, timezone = found[0][:4]
    teacher = notice_rows.Person(teacher_id, email, locale, timezone)
    chosen = {(user_id, kind): value for *_, user_id, kind, value in found if kind is not None}
    rows = []
    if student_kind is not None:
        rows.append(
            notice_rows.values(
                student,
                kind=student_kind,
                data=student_notices.enrollment_data(
                    session, student, paid_cents=paid_cents, balance_cents=balance_cents
                ),
                at=at,
                chosen=chosen.get((student.id, student_kind)),
            )
        )
    rows.append(
        notice_rows.values(
            teacher,
            kind="new_enrollment",
            data=teacher_notices.session_data(
                session,
                teacher,
                student=student.full_name,
                taken=session.enrolled_count,
                capacity=session.capacity,
            ),
            at=at,
            chosen=chosen.get((teacher_id, "new_enrollment")),
        )
    )
    if session.capacity is not None and session.enrolled_count == session.capacity:
        rows.append(
            notice_rows.values(
                teacher,
                kind="session_full",
                data=teacher_notices.session_data(session, teacher, capacity=session.capacity),
                at=at,
                chosen=chosen.get((teacher_id, "session_full")),
            )
        )
    connection.execute(_INSERT, rows)
