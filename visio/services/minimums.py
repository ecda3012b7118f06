"""Minimum enrollment: a published session with `min_participants` is decided at `decide_at`.

Reached: the session is kept (`decided_at` set) and its students are told it is confirmed.
Not reached: it is cancelled through `sessions.cancel_session` (every paid seat refunded once,
the students' usual notices) with a translated reason, and its teacher is told. Ahead of the
decision (WARN_BEFORE), a teacher whose session still lacks students is warned once.

`decide_due` and `warn_due` are run by every worker, every minute. A decision locks the session's
row (the lock an enrollment takes first) and re-checks `decided_at IS NULL` under it: two workers
decide once, and a last-minute enrollment lands either before the decision (counted, and refunded
if the session is cancelled) or after it (refused on a cancelled session, kept on a kept one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.i18n import LANGUAGES, t
from visio.models import (
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Notice,
    Purchase,
    PurchaseStatus,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services import audit, locking, notice_rows, outbox, student_notices
from visio.services.errors import Busy
from visio.services.sessions import cancel_session, effective_status
from visio.settings import settings

logger = logging.getLogger(__name__)
WARN_BEFORE = timedelta(hours=24)  # the teacher's warning, ahead of the decision
KEPT, CANCELLED = "kept", "cancelled"


@dataclass(frozen=True)
class MinimumView:
    """What the pages and the API show of a session's minimum."""

    min_participants: int | None
    decide_at: datetime | None
    confirmed: bool  # the minimum is reached (or was, when the session was kept)
    needed: int  # more students needed for the minimum, 0 when reached or none


def view(session: VideoSession) -> MinimumView:
    """A session's minimum as its pages show it (no query: from the row's counters)."""
    minimum = session.min_participants
    if minimum is None:
        return MinimumView(None, None, False, 0)
    kept = session.decided_at is not None and session.status == StoredStatus.SCHEDULED
    needed = max(0, minimum - session.enrolled_count)
    confirmed = session.status == StoredStatus.SCHEDULED and (kept or needed == 0)
    return MinimumView(minimum, session.decide_at, confirmed, 0 if kept else needed)


def _undecided() -> list[Any]:
    return [
        VideoSession.status == StoredStatus.SCHEDULED,
        VideoSession.min_participants.is_not(None),  # type: ignore[union-attr]
        VideoSession.decided_at.is_(None),  # type: ignore[union-attr]
    ]


def decide_due(db: Session, *, clock: Clock = utcnow) -> int:
    """Take every decision that is due (each in its own transaction): how many were taken."""
    now = clock()
    ids = db.exec(
        select(VideoSession.id)
        .where(*_undecided(), VideoSession.decide_at <= now)  # type: ignore[operator]
        .order_by(VideoSession.decide_at, VideoSession.id)
    ).all()
    db.rollback()  # the reads hold nothing: each decision locks its own row first
    decided = 0
    for session_id in ids:
        try:
            if decide(db, video_session_id=session_id, clock=clock) is not None:  # type: ignore[arg-type]
                decided += 1
        except Busy:  # an enrollment holds the row for long: the next pass decides it
            continue
        except Exception:  # one session's failure must not hold up the others' decisions
            logger.exception("minimum decision of session %s failed", session_id)
    return decided


def decide(db: Session, *, video_session_id: int, clock: Clock = utcnow) -> str | None:
    """Decide one session if it is due and undecided: KEPT, CANCELLED, or None (nothing to do).

    Lock first, then check: the row lock is the one `enroll` takes, and `decided_at` is set in
    the transaction that takes the decision, so it is taken once.
    """
    try:
        db.rollback()  # the lock must be the transaction's first statement
        rows = locking.lock(db, VideoSession, [video_session_id])
        now = clock()
        session: VideoSession | None = rows[0] if rows else None  # type: ignore[assignment]
        if (
            session is None
            or session.status != StoredStatus.SCHEDULED
            or session.min_participants is None
            or session.decided_at is not None
            or session.decide_at is None
            or session.decide_at > now
        ):
            db.rollback()
            return None
        session.decided_at = now
        db.add(session)
        if effective_status(session, now) in (EffectiveStatus.ONGOING, EffectiveStatus.FINISHED):
            # Undecided until after its start (the app was down): a class under way is not
            # cancelled under its students; it runs as it is.
            db.commit()
            return KEPT
        enrolled = int(
            db.exec(
                select(func.count())
                .select_from(Enrollment)
                .where(
                    Enrollment.session_id == session.id,
                    Enrollment.status == EnrollmentStatus.ACTIVE,
                )
            ).one()
        )
        teacher = db.get(User, session.teacher_id)
        assert teacher is not None  # a session's teacher is a foreign key
        audit.record(
            db,
            actor_id=None,
            action="session.minimum_reached"
            if enrolled >= session.min_participants
            else "session.minimum_not_reached",
            target_type="session",
            target_id=session.id,
            at=now,
            enrolled=enrolled,
            min_participants=session.min_participants,
        )
        if enrolled >= session.min_participants:
            _confirm(db, session, now)
            db.commit()
            return KEPT
        _tell_teacher_cancelled(db, session, teacher, enrolled, now)
        lang = teacher.locale if teacher.locale in LANGUAGES else settings.default_locale
        reason = t("minimum.cancel_reason", lang, enrolled=enrolled, min=session.min_participants)
        cancel_session(
            db=db,
            actor=teacher,
            video_session_id=session.id,  # type: ignore[arg-type]
            reason=reason,
            clock=lambda: now,
            locked=session,
            automatic=True,
        )  # commits: the decision, the refunds and every notice together
        return CANCELLED
    except BaseException:
        db.rollback()
        raise


def _confirm(db: Session, session: VideoSession, now: datetime) -> None:
    for student in student_notices.active_students(db, session.id):  # type: ignore[arg-type]
        outbox.enqueue(
            db,
            kind="session_confirmed",
            user=student,
            data={
                "session_id": session.id,
                "title": session.title,
                "starts_at": session.starts_at.isoformat(),
                "tz": student.timezone or settings.default_timezone,
            },
            at=now,
            dedupe_key=f"session_confirmed:{session.id}:{student.id}",
        )


def _teacher_data(session: VideoSession, teacher: User, **extra: Any) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "title": session.title,
        "starts_at": session.starts_at.isoformat(),
        "decide_at": session.decide_at.isoformat() if session.decide_at else None,
        "tz": teacher.timezone or settings.default_timezone,
        "currency": session.currency,
        "min_participants": session.min_participants,
        **extra,
    }


def _tell_teacher_cancelled(
    db: Session, session: VideoSession, teacher: User, enrolled: int, now: datetime
) -> None:
    count, total = db.exec(
        select(func.count(), func.coalesce(func.sum(Purchase.amount_cents), 0)).where(
            Purchase.session_id == session.id, Purchase.status == PurchaseStatus.HELD
        )
    ).one()
    outbox.enqueue(
        db,
        kind="minimum_cancelled",
        user=teacher,
        data=_teacher_data(
            session,
            teacher,
            enrolled=enrolled,
            refunded_count=int(count),
            refunded_cents=int(total),
        ),
        at=now,
        dedupe_key=f"minimum_cancelled:{session.id}",
    )


def auto_cancelled() -> ColumnElement[bool]:
    """A session cancelled for want of participants, in SQL (the decision and the cancel are one
    transaction: one instant). The statistics count them in their scan of the sessions."""
    return and_(
        VideoSession.status == StoredStatus.CANCELLED,
        VideoSession.decided_at.is_not(None),  # type: ignore[union-attr]
        VideoSession.cancelled_at == VideoSession.decided_at,
    )


def warning_key(session: VideoSession) -> str:
    """One warning per session and decision time (a new decision time warns again)."""
    assert session.decide_at is not None
    return f"minimum_warning:{session.id}:{int(session.decide_at.timestamp())}"


def warn_due(db: Session, *, clock: Clock = utcnow) -> int:
    """Warn each teacher whose session's decision is within WARN_BEFORE and whose minimum is not
    reached yet, once: how many warnings were written (set-based; duplicates are skipped)."""
    now = clock()
    try:
        found = db.exec(
            select(VideoSession, User)
            .join(User, User.id == VideoSession.teacher_id)  # type: ignore[arg-type]
            .where(
                *_undecided(),
                VideoSession.decide_at > now,  # type: ignore[operator]
                VideoSession.decide_at <= now + WARN_BEFORE,  # type: ignore[operator]
                VideoSession.enrolled_count < VideoSession.min_participants,  # type: ignore[operator]
            )
        ).all()
        keys = {warning_key(session): (session, teacher) for session, teacher in found}
        if keys:
            written = set(
                db.exec(
                    select(Notice.dedupe_key).where(Notice.dedupe_key.in_(list(keys)))  # type: ignore[union-attr]
                ).all()
            )
            keys = {key: pair for key, pair in keys.items() if key not in written}
        db.rollback()  # the reads hold nothing while the inserts wait for the write lock
        if not keys:
            return 0
        rows = [
            notice_rows.values(
                teacher,
                kind="minimum_warning",
                data=_teacher_data(
                    session,
                    teacher,
                    enrolled=session.enrolled_count,
                    needed=session.min_participants - session.enrolled_count,  # type: ignore[operator]
                ),
                at=now,
                chosen=None,
                dedupe_key=key,
            )
            for key, (session, teacher) in keys.items()
        ]
        with locking.busy_on_timeout():
            if db.get_bind().dialect.name == "sqlite":
                locking.begin_immediate(db)
            written_count = len(notice_rows.insert_once(db, rows))
            db.commit()
        return written_count
    except BaseException:
        db.rollback()
        raise
