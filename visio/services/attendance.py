"""Joining a session ("Rejoindre") and the attendance it records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    Attendance,
    Enrollment,
    EnrollmentStatus,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services import audit
from visio.services.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from visio.settings import settings


def join_opens_at(session: VideoSession) -> datetime:
    return session.starts_at - timedelta(minutes=settings.join_opens_minutes)


def is_participant(db: Session, session: VideoSession, user: User) -> bool:
    """The owning teacher, or a student whose enrollment is active."""
    if session.teacher_id == user.id:
        return True
    return (
        db.exec(
            select(Enrollment.id).where(
                Enrollment.session_id == session.id,
                Enrollment.student_id == user.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
        ).first()
        is not None
    )


def check_join(db: Session, session: VideoSession, user: User, now: datetime) -> None:
    """Every rule of joining; raises the reason it is refused."""
    if not is_participant(db, session, user):
        raise Forbidden("not_enrolled")
    if session.status != StoredStatus.SCHEDULED:
        raise Conflict("invalid_status", status=session.status)
    if now < join_opens_at(session):
        raise Conflict("join_not_open", opens_minutes=settings.join_opens_minutes)
    if now >= session.ends_at:
        raise Conflict("join_closed")


@dataclass(frozen=True)
class Join:
    url: str
    attendance: Attendance


def join(*, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow) -> Join:
    """The platform link for a participant inside the join window; records the attendance."""
    if actor is None:
        raise NotAuthenticated()
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    now = clock()
    check_join(db, session, actor, now)
    attendance = db.exec(
        select(Attendance).where(
            Attendance.session_id == session.id, Attendance.user_id == actor.id
        )
    ).first()
    if attendance is None:
        attendance = Attendance(
            session_id=session.id,
            user_id=actor.id,
            first_joined_at=now,
            last_seen_at=now,
            join_count=1,
        )
    else:
        attendance.join_count += 1
        attendance.last_seen_at, attendance.left_at = now, None
    db.add(attendance)
    audit.record(
        db,
        actor_id=actor.id,
        action="session.joined",
        target_type="session",
        target_id=session.id,
        at=now,
    )
    try:
        db.commit()
    except IntegrityError:  # two first joins at once: the other one recorded it
        db.rollback()
        return join(db=db, actor=actor, video_session_id=video_session_id, clock=clock)
    return Join(url=session.link, attendance=attendance)
