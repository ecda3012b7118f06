"""Reminders before a session starts (VISIO_REMINDERS, e.g. 24 h and 1 h before), to its actively
enrolled students and to its teacher, and the teachers' daily enrollment digests.

`schedule_due` is run by every worker, again and again: it writes the notices that are due and not
written yet, and the outbox sends them. Each reminder has a dedupe key, per (session, person,
delay, start): the rows are inserted with ON CONFLICT DO NOTHING, so two workers running at once
(or a pass run twice) write each one once and neither fails. A session moved to another time gets
its reminders again, for the new time.

Rules: published sessions only, not cancelled, not started. A reminder due while the app was down
is still written as long as the session has not started; of several due at once only the nearest
to the start is written (the earlier ones are then never written). A reminder that was due before
the student enrolled (or before the teacher published) is not written: they were just told.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, String, and_, case, cast, exists, extract, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Notice,
    NoticePreference,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services import locking, notice_rows, teacher_notices
from visio.settings import settings


def schedule_due(
    db: Session, *, clock: Clock = utcnow, offsets: Sequence[int] | None = None
) -> int:
    """Write every reminder and digest that is due and not yet written; how many were written.

    `offsets`: seconds before the start (default: VISIO_REMINDERS). Reads first, then inserts
    in a short write transaction, skipping any row another worker wrote meanwhile.
    """
    now = clock()
    chosen = sorted(set(settings.reminders if offsets is None else offsets))
    try:
        rows = []
        if chosen:
            rows += _student_reminders(db, now, chosen)
            rows += _teacher_reminders(db, now, chosen)
        for teacher, data, key in teacher_notices.digests_due(db, now=now):
            rows.append(_row(teacher, "enrollment_digest", data, now, key, True))  # asked for
        db.rollback()  # the reads hold nothing while the inserts wait for the write lock
        if not rows:
            return 0
        with locking.busy_on_timeout():
            if db.get_bind().dialect.name == "sqlite":
                locking.begin_immediate(db)
            written = len(notice_rows.insert_once(db, rows))
            db.commit()
        return written
    except BaseException:
        db.rollback()
        raise


def _epoch(db: Session, column: Any) -> ColumnElement[int]:
    """A timestamp column as whole seconds since 1970 (SQLite keeps naive UTC text)."""
    if db.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(extract("epoch", column), BigInteger)


def _due_offset(now: datetime, offsets: list[int]) -> ColumnElement[int]:
    """Of the delays already reached for a session (start - delay <= now), the smallest."""
    return case(
        *[(VideoSession.starts_at <= now + timedelta(seconds=o), o) for o in offsets],  # type: ignore[arg-type, operator]
    )


def _upcoming(now: datetime, offsets: list[int]) -> list[ColumnElement[bool]]:
    """Published, not cancelled, not started, and starting within the largest delay."""
    return [
        VideoSession.status == StoredStatus.SCHEDULED,  # type: ignore[list-item]
        VideoSession.starts_at > now,  # type: ignore[list-item, operator]
        VideoSession.starts_at <= now + timedelta(seconds=offsets[-1]),  # type: ignore[list-item, operator]
    ]


def _key(prefix: str, *parts: Any) -> ColumnElement[str]:
    text: Any = prefix
    for part in parts:
        text = text + ":" + cast(part, String)
    return text  # type: ignore[no-any-return]


def _not_written(key: ColumnElement[str]) -> ColumnElement[bool]:
    return ~exists().where(Notice.dedupe_key == key)  # type: ignore[arg-type]


def _student_reminders(db: Session, now: datetime, offsets: list[int]) -> list[dict[str, Any]]:
    offset = _due_offset(now, offsets)
    starts = _epoch(db, VideoSession.starts_at)
    key = _key("reminder", VideoSession.id, User.id, offset, starts)
    found = db.exec(
        select(VideoSession, User, NoticePreference.email, offset, key)  # type: ignore[call-overload]
        .join(
            Enrollment,
            and_(
                Enrollment.session_id == VideoSession.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            ),
        )
        .join(User, User.id == Enrollment.student_id)
        .outerjoin(
            NoticePreference,
            and_(NoticePreference.user_id == User.id, NoticePreference.kind == "reminder"),
        )
        .where(
            *_upcoming(now, offsets),
            _epoch(db, Enrollment.enrolled_at) + offset <= starts,
            _not_written(key),
        )
    ).all()
    return [
        _row(student, "reminder", _data(session, student, seconds), now, dedupe, chosen)
        for session, student, chosen, seconds, dedupe in found
    ]


def _teacher_reminders(db: Session, now: datetime, offsets: list[int]) -> list[dict[str, Any]]:
    offset = _due_offset(now, offsets)
    starts = _epoch(db, VideoSession.starts_at)
    key = _key("teacher_reminder", VideoSession.id, offset, starts)
    published = func.coalesce(VideoSession.published_at, VideoSession.created_at)
    found = db.exec(
        select(VideoSession, User, NoticePreference.email, offset, key)  # type: ignore[call-overload]
        .join(User, User.id == VideoSession.teacher_id)
        .outerjoin(
            NoticePreference,
            and_(
                NoticePreference.user_id == User.id,
                NoticePreference.kind == "teacher_reminder",
            ),
        )
        .where(
            *_upcoming(now, offsets), _epoch(db, published) + offset <= starts, _not_written(key)
        )
    ).all()
    return [
        _row(
            teacher,
            "teacher_reminder",
            {
                **_data(session, teacher, seconds),
                "taken": session.enrolled_count,
                "capacity": session.capacity,
            },
            now,
            dedupe,
            chosen,
        )
        for session, teacher, chosen, seconds, dedupe in found
    ]


def _data(session: VideoSession, user: User, seconds: int) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "title": session.title,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "session_tz": session.timezone,
        "tz": user.timezone or settings.default_timezone,
        "before_seconds": seconds,
        "join_minutes": settings.join_opens_minutes,
    }


def _row(
    user: User, kind: str, data: dict[str, Any], now: datetime, key: str, chosen: bool | None
) -> dict[str, Any]:
    return notice_rows.values(user, kind=kind, data=data, at=now, chosen=chosen, dedupe_key=key)
