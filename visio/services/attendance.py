"""Joining a session ("Rejoindre") and the attendance it records.

Who may join, and when: the owning teacher and actively enrolled students of a published, not
cancelled session, from JOIN_OPENS_MINUTES before its start until its end. The platform link
leaves this module only for them.

Time attended comes from the in-app room, which reports every VISIO_HEARTBEAT_SECONDS that it is
still open. Each sign of life (heartbeat, leave, a rejoin while still in the room) credits the time
since the previous one, clipped to the session itself (nothing before the start nor after the end),
unless that gap is longer than two heartbeat intervals: then the user was gone (tab closed, laptop
asleep, network lost) and the gap counts for nothing. The total never exceeds the session's
duration. Sessions on other platforms record the join only: their time cannot be measured.
"""

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
from visio.services import audit, jitsi, locking
from visio.services.enrollments import enrollment_deadline
from visio.services.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from visio.settings import settings


def join_opens_at(session: VideoSession) -> datetime:
    return session.starts_at - timedelta(minutes=settings.join_opens_minutes)


def max_gap() -> timedelta:
    """The longest silence still counted as presence: two heartbeat intervals."""
    return timedelta(seconds=2 * settings.heartbeat_seconds)


def opens_in_app(session: VideoSession) -> bool:
    """Jitsi sessions are joined in the in-app room page; others open their link in a new tab."""
    return jitsi.is_jitsi(session)


def join_window_open(session: VideoSession, now: datetime) -> bool:
    """A published session whose join window (opening minutes before start, until end) is now."""
    return session.status == StoredStatus.SCHEDULED and join_opens_at(session) <= now < (
        session.ends_at
    )


def next_change_at(session: VideoSession, now: datetime) -> datetime | None:
    """The next instant a session's page changes by the clock alone (join button, status)."""
    if session.status == StoredStatus.CANCELLED:
        return None
    moments = (
        enrollment_deadline(session),
        join_opens_at(session),
        session.starts_at,
        session.ends_at,
    )
    upcoming = [at for at in moments if at > now]
    return min(upcoming) if upcoming else None


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
    url: str  # the meeting link for this participant (with their own JWT when set up)
    attendance: Attendance
    session: VideoSession | None = None
    in_app: bool = False  # a Jitsi room, shown in the in-app room page

    @property
    def is_owner(self) -> bool:
        return self.session is not None and self.session.teacher_id == self.attendance.user_id


@dataclass(frozen=True)
class Presence:
    seconds_attended: int
    ended: bool  # the session is over: nothing more is counted


def _session(db: Session, actor: User | None, video_session_id: int) -> VideoSession:
    if actor is None:
        raise NotAuthenticated()
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    return session


def _attendance(db: Session, session_id: int, user_id: int) -> Attendance | None:
    found = db.exec(
        select(Attendance.id).where(
            Attendance.session_id == session_id, Attendance.user_id == user_id
        )
    ).first()
    if found is None:
        return None
    return locking.lock(db, Attendance, [found])[0]  # type: ignore[return-value]


def _to_second(at: datetime) -> datetime:
    """Bookkeeping in whole seconds: no fraction is lost at each heartbeat."""
    return at.replace(microsecond=0)


def _credit(attendance: Attendance, session: VideoSession, now: datetime) -> None:
    """Count the time since the last sign of life, if it was recent enough (see module doc)."""
    last = attendance.last_seen_at
    if now <= last:
        return
    if attendance.left_at is None and now - last <= max_gap():
        start, end = max(last, session.starts_at), min(now, session.ends_at)
        if end > start:
            total = attendance.seconds_attended + int((end - start).total_seconds())
            attendance.seconds_attended = min(total, session.duration_minutes * 60)
    attendance.last_seen_at = now


def join(
    *,
    db: Session,
    actor: User | None,
    video_session_id: int,
    clock: Clock = utcnow,
    in_app: bool = False,
) -> Join:
    """The platform link for a participant inside the join window; records the attendance.

    `in_app`: the caller is the in-app room, which only Jitsi sessions have.
    """
    session = _session(db, actor, video_session_id)
    assert actor is not None
    now = clock()
    check_join(db, session, actor, now)
    if in_app and not opens_in_app(session):
        raise Conflict("no_in_app_room")
    url = (
        jitsi.meeting_url(session, actor, not_before=join_opens_at(session))
        if jitsi.is_jitsi(session)
        else session.link
    )
    at = _to_second(now)
    attendance = _attendance(db, session.id, actor.id)  # type: ignore[arg-type]
    first = attendance is None
    if attendance is None:
        attendance = Attendance(
            session_id=session.id,  # type: ignore[arg-type]
            user_id=actor.id,  # type: ignore[arg-type]
            first_joined_at=at,
            last_seen_at=at,
            join_count=1,
        )
    else:
        if opens_in_app(session):  # a reload while in the room: still there
            _credit(attendance, session, at)
        attendance.join_count += 1
        attendance.left_at = None
    db.add(attendance)
    if first:  # the history says who came; rejoins and reloads are counted on the attendance
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
        return join(
            db=db, actor=actor, video_session_id=video_session_id, clock=clock, in_app=in_app
        )
    return Join(url=url, attendance=attendance, session=session, in_app=jitsi.is_jitsi(session))


def heartbeat(
    *, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow
) -> Presence:
    """The room is still open: count the time since the last sign of life."""
    session = _session(db, actor, video_session_id)
    assert actor is not None
    if not is_participant(db, session, actor):
        raise Forbidden("not_enrolled")
    if session.status != StoredStatus.SCHEDULED:  # cancelled while the room was open
        raise Conflict("invalid_status", status=session.status)
    attendance = _attendance(db, session.id, actor.id)  # type: ignore[arg-type]
    if attendance is None:
        raise Conflict("not_joined")
    now = _to_second(clock())
    if attendance.left_at is not None:
        # Left in one tab, still open in another: present again from now on.
        attendance.left_at = None
        attendance.last_seen_at = max(attendance.last_seen_at, now)
    else:
        _credit(attendance, session, now)
    db.add(attendance)
    db.commit()
    return Presence(seconds_attended=attendance.seconds_attended, ended=now >= session.ends_at)


def leave(
    *, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow
) -> Attendance | None:
    """The participant left the room: count up to now and record when; None if never joined."""
    session = _session(db, actor, video_session_id)
    assert actor is not None
    attendance = _attendance(db, session.id, actor.id)  # type: ignore[arg-type]
    if attendance is None:
        db.rollback()
        return None
    if attendance.left_at is None:
        now = _to_second(clock())
        if session.status == StoredStatus.SCHEDULED:
            _credit(attendance, session, now)
        attendance.left_at = max(now, attendance.last_seen_at)
        db.add(attendance)
    db.commit()
    return attendance
