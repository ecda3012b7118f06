"""The notices a teacher gets about their sessions: a new enrollment, the session full, the
payout released from escrow (each written in the transaction that causes it), and the daily
digest of enrollments (written by the scheduler, see `reminders`).

Like `student_notices`: plain data, instants as ISO, `tz` the teacher's zone. A student is named
by their full name only (never their email); the link is the teacher's page of the session, the
meeting link is never in a notice.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlmodel import Session, select

from visio.models import Enrollment, EnrollmentStatus, Notice, NoticePreference, User, VideoSession
from visio.services import notice_rows, outbox
from visio.settings import settings


def _zone(user: notice_rows.Recipient) -> str:
    return user.timezone or settings.default_timezone


def _zoneinfo(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(_zone(user))
    except (KeyError, ValueError, OSError):
        return ZoneInfo(settings.default_timezone)


SESSION_FIELDS = ("session_id", "title", "starts_at", "currency")  # a student's notice has them


def session_data(
    session: VideoSession, teacher: notice_rows.Recipient, **extra: Any
) -> dict[str, Any]:
    """What a teacher's notice about one of their sessions holds, with `extra`."""
    return data_with(session_fields(session), teacher, **extra)


def session_fields(session: VideoSession) -> dict[str, Any]:
    """The session's `SESSION_FIELDS`, as a notice holds them."""
    return {
        "session_id": session.id,
        "title": session.title,
        "starts_at": session.starts_at.isoformat(),
        "currency": session.currency,
    }


def data_with(
    fields: dict[str, Any], teacher: notice_rows.Recipient, **extra: Any
) -> dict[str, Any]:
    """A teacher's notice data from a session's `SESSION_FIELDS` (as a notice already holds
    them), in the teacher's zone, with `extra`."""
    return {**fields, "tz": _zone(teacher), **extra}


def _teacher(db: Session, session: VideoSession) -> User:
    teacher = db.get(User, session.teacher_id)
    assert teacher is not None  # a session's teacher is a foreign key
    return teacher


def payout_released(
    db: Session, *, session: VideoSession, amount_cents: int, purchases: int, at: datetime
) -> None:
    """The held money of a finished session went to its teacher's wallet."""
    teacher = _teacher(db, session)
    outbox.enqueue(
        db,
        kind="payout_released",
        user=teacher,
        data=session_data(session, teacher, amount_cents=amount_cents, purchases=purchases),
        at=at,
    )


def digest_key(teacher_id: int, day: str) -> str:
    """The digest's dedupe key: one per teacher and (their) day."""
    return f"enrollment_digest:{teacher_id}:{day}"


def digests_due(db: Session, *, now: datetime) -> list[tuple[User, dict[str, Any], str]]:
    """The day before's enrollments, for each teacher who asked for a digest and has none for
    that day yet: (teacher, data, dedupe key); the scheduler inserts them skipping duplicates.

    The day is the teacher's own, in their zone; a day without enrollments writes nothing.
    """
    teachers = db.exec(
        select(User)
        .join(NoticePreference, NoticePreference.user_id == User.id)  # type: ignore[arg-type]
        .where(NoticePreference.kind == "enrollment_digest", NoticePreference.email.is_(True))  # type: ignore[attr-defined]
    ).all()
    found = []
    for teacher in teachers:
        zone = _zoneinfo(teacher)
        day = now.astimezone(zone).date() - timedelta(days=1)
        key = digest_key(teacher.id, day.isoformat())  # type: ignore[arg-type]
        if db.exec(select(Notice.id).where(Notice.dedupe_key == key)).first() is not None:
            continue
        since = datetime.combine(day, time(), zone)
        until = datetime.combine(day + timedelta(days=1), time(), zone)
        rows = db.exec(
            select(VideoSession, User.full_name)
            .join(Enrollment, Enrollment.session_id == VideoSession.id)  # type: ignore[arg-type]
            .join(User, User.id == Enrollment.student_id)  # type: ignore[arg-type]
            .where(
                VideoSession.teacher_id == teacher.id,
                and_(Enrollment.enrolled_at >= since, Enrollment.enrolled_at < until),
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .order_by(VideoSession.starts_at, VideoSession.id, Enrollment.enrolled_at)
        ).all()
        if not rows:
            continue
        grouped: dict[int, dict[str, Any]] = {}
        for session, name in rows:
            item = grouped.setdefault(
                session.id,  # type: ignore[arg-type]
                {
                    "session_id": session.id,
                    "title": session.title,
                    "starts_at": session.starts_at.isoformat(),
                    "count": 0,
                    "students": [],
                },
            )
            item["count"] += 1
            item["students"].append(name)
        digest = {
            "tz": str(zone),
            "since": since.isoformat(),
            "until": until.isoformat(),
            "sessions": list(grouped.values()),
        }
        found.append((teacher, digest, key))
    return found
