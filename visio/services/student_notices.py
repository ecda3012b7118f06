"""The notices a student gets about their money and schedule, written into the outbox inside the
transaction of the use case that causes them (so a refused or rolled-back action leaves none).

Each is one row of plain data (nothing is rendered here: the sender builds the mail, in the
student's language, with dates in the student's zone, and the session's .ics). The data holds the
session's page, never its meeting link, and nothing about another user.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from visio.models import Enrollment, EnrollmentStatus, Material, User, VideoSession
from visio.services import ics, outbox
from visio.settings import settings


def _data(session: VideoSession, student: User, **extra: Any) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "title": session.title,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "session_tz": session.timezone,
        "tz": student.timezone or settings.default_timezone,
        "currency": session.currency,
        "sequence": ics.sequence(session.rescheduled_at, session.cancelled_at),
        **extra,
    }


def enrollment_data(
    session: VideoSession, student: User, *, paid_cents: int, balance_cents: int
) -> dict[str, Any]:
    """The confirmation of a seat (written with the seat's other notices, see `seat_notices`)."""
    return _data(session, student, paid_cents=paid_cents, balance_cents=balance_cents)


def unenrolled(
    db: Session,
    *,
    student: User,
    session: VideoSession,
    refunded_cents: int,
    balance_cents: int,
    at: datetime,
) -> None:
    outbox.enqueue(
        db,
        kind="unenrolled",
        user=student,
        data=_data(session, student, refunded_cents=refunded_cents, balance_cents=balance_cents),
        at=at,
    )


def active_students(db: Session, session_id: int) -> list[User]:
    """The students enrolled in a session now, in enrollment order."""
    return list(
        db.exec(
            select(User)
            .join(Enrollment, Enrollment.student_id == User.id)  # type: ignore[arg-type]
            .where(
                Enrollment.session_id == session_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .order_by(Enrollment.id)  # type: ignore[arg-type]
        ).all()
    )


def session_cancelled(
    db: Session,
    *,
    students: Iterable[User],
    session: VideoSession,
    refunds: dict[int, int],
    at: datetime,
    automatic: bool = False,
) -> None:
    """One notice per student (once per session and student: a retried cancel adds none).

    `automatic` (too few participants) is kept in the data: the mail and the inbox then say so
    instead of "the teacher cancelled".
    """
    extra = {"automatic": True} if automatic else {}
    for student in students:
        outbox.enqueue(
            db,
            kind="session_cancelled",
            user=student,
            data=_data(
                session,
                student,
                reason=session.cancel_reason or "",
                refunded_cents=refunds.get(student.id, 0),  # type: ignore[arg-type]
                **extra,
            ),
            at=at,
            dedupe_key=f"session_cancelled:{session.id}:{student.id}",
        )


def session_moved(
    db: Session,
    *,
    students: Iterable[User],
    session: VideoSession,
    old_starts_at: datetime,
    at: datetime,
) -> None:
    """The new start, the old one, and the right to leave refunded until the new start."""
    for student in students:
        outbox.enqueue(
            db,
            kind="session_moved",
            user=student,
            data=_data(
                session,
                student,
                old_starts_at=old_starts_at.isoformat(),
                refund_until=session.starts_at.isoformat(),
            ),
            at=at,
        )


def material_shared(db: Session, *, session: VideoSession, material: Material) -> None:
    """A new material, to every student enrolled now: its name and the session's page (never
    the file's or the link's address: the page serves it to whoever may see it)."""
    for student in active_students(db, session.id):  # type: ignore[arg-type]
        outbox.enqueue(
            db,
            kind="material_shared",
            user=student,
            data=_data(session, student, material=material.title),
            at=material.created_at,
        )


def series_enrolled(
    db: Session,
    *,
    student: User,
    series_id: int,
    sessions: list[VideoSession],
    paid_cents: int,
    balance_cents: int,
    at: datetime,
) -> None:
    """One summary for the seats taken in a series at once (instead of one per occurrence):
    the title, every start (shown in the student's zone), the total paid and the balance."""
    first = sessions[0]
    outbox.enqueue(
        db,
        kind="series_enrolled",
        user=student,
        data={
            "series_id": series_id,
            "title": first.title,
            "starts": [s.starts_at.isoformat() for s in sessions],
            "tz": student.timezone or settings.default_timezone,
            "currency": first.currency,
            "paid_cents": paid_cents,
            "balance_cents": balance_cents,
        },
        at=at,
    )
