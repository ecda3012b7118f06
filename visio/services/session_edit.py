"""Editing a session, within the rules of its status.

Drafts change freely. A scheduled session keeps its students' trust: its date and duration
change only before it starts, its price never once someone has paid, and its capacity never
below the seats already taken. Cancelled and finished sessions are history: no edits.

With students enrolled, a change of date or duration must stay fair to them (`check_fair_move`):
no earlier start with less than VISIO_MIN_NOTICE_HOURS of notice, no start more than
MAX_POSTPONE_DAYS after the one first planned, no cut of more than half the planned duration.
Each such change is stamped (`rescheduled_at`): the students enrolled then may unenroll with a full
refund until the new start, and escrow waits for the end first planned (see enrollments).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import EffectiveStatus, Platform, Purchase, StoredStatus, User, VideoSession
from visio.services import audit, student_notices, waitlist
from visio.services.catalog import tags_by_session
from visio.services.errors import Conflict
from visio.services.sessions import (
    SessionInput,
    effective_status,
    jitsi_link,
    lock_owned,
    planned_schedule,
    set_tags,
    validate,
)
from visio.settings import settings

MAX_POSTPONE_DAYS = 90


def check_fair_move(
    session: VideoSession, *, starts_at: datetime, duration_minutes: int, now: datetime
) -> None:
    """Refuse a move of a session with students enrolled that would be unfair to them."""
    planned_start, planned_end = planned_schedule(session)
    notice = timedelta(hours=settings.min_notice_hours)
    if starts_at < session.starts_at and starts_at < now + notice:
        raise Conflict(
            "reschedule_notice_too_short", field="starts_at", hours=settings.min_notice_hours
        )
    if starts_at > planned_start + timedelta(days=MAX_POSTPONE_DAYS):
        raise Conflict("reschedule_too_late", field="starts_at", days=MAX_POSTPONE_DAYS)
    planned_minutes = int((planned_end - planned_start).total_seconds() // 60)
    shortest = (planned_minutes + 1) // 2
    if duration_minutes < shortest:
        raise Conflict("duration_cut_too_far", field="duration_minutes", min=shortest)


def current_input(db: Session, session: VideoSession) -> SessionInput:
    """A session's editable fields, as the edit form starts from them."""
    return SessionInput(
        title=session.title,
        description=session.description,
        starts_at=session.starts_at,
        duration_minutes=session.duration_minutes,
        timezone=session.timezone,
        platform=session.platform,
        link="" if session.platform == Platform.JITSI else session.link,
        is_paid=session.is_paid,
        price_cents=session.price_cents,
        capacity=session.capacity,
        enrollment_deadline=session.enrollment_deadline,
        tags=tags_by_session(db, [session.id])[session.id],  # type: ignore[list-item, index]
        min_participants=session.min_participants,
        decide_at=session.decide_at,
    )


def update_session(
    *,
    db: Session,
    actor: User,
    video_session_id: int,
    data: SessionInput,
    clock: Clock = utcnow,
    locked: VideoSession | None = None,
) -> VideoSession:
    """Apply an edit form to a session the actor owns.

    `locked`: the session's row, already locked and its ownership checked by the caller (a
    series' edit of its future occurrences): the edit joins the caller's transaction, which
    commits (or rolls back) all of them together.
    """
    try:
        session = locked or lock_owned(db, actor, video_session_id)
        now = clock()
        status = effective_status(session, now)
        if status in (EffectiveStatus.CANCELLED, EffectiveStatus.FINISHED):
            raise Conflict("invalid_status", status=status.value)
        before = current_input(db, session)
        start_changed = (data.starts_at != session.starts_at) or (
            data.duration_minutes != session.duration_minutes
        )
        deadline_changed = data.enrollment_deadline != session.enrollment_deadline
        decide_changed = (data.min_participants, data.decide_at) != (
            session.min_participants,
            session.decide_at,
        )
        if decide_changed and session.decided_at is not None:  # decided once, for good
            raise Conflict("minimum_decided", field="min_participants")
        if session.status == StoredStatus.SCHEDULED and start_changed and now >= session.starts_at:
            # Checked before `validate`, which would call it a "start in the past" instead.
            raise Conflict("edit_time_after_start", field="starts_at")
        clean = validate(
            data,
            now=now,
            start_changed=start_changed,
            deadline_changed=deadline_changed,
            decide_changed=decide_changed,
        )
        # Tags are a set (read back in name order): another order is no change.
        clean, before = (
            replace(clean, tags=sorted(clean.tags)),
            replace(before, tags=sorted(before.tags)),
        )
        if session.status == StoredStatus.SCHEDULED:
            _check_scheduled_edit(db, session, clean, before, now)
            if start_changed and session.enrolled_count:
                check_fair_move(
                    session,
                    starts_at=clean.starts_at,
                    duration_minutes=clean.duration_minutes,
                    now=now,
                )

        changed = sorted(
            name
            for name in (
                "title",
                "description",
                "starts_at",
                "duration_minutes",
                "timezone",
                "platform",
                "link",
                "is_paid",
                "price_cents",
                "capacity",
                "enrollment_deadline",
                "tags",
                "min_participants",
                "decide_at",
            )
            if getattr(clean, name) != getattr(before, name)
        )
        if not changed:
            if locked is None:
                db.rollback()
            return session
        _apply(db, session, clean, before)
        session.updated_at = now
        if session.status == StoredStatus.SCHEDULED:  # a seat added goes to the first in line
            waitlist.promote(db, session=session, at=now)
        moved = "starts_at" in changed or "duration_minutes" in changed
        if moved and session.status == StoredStatus.SCHEDULED:
            if session.enrolled_count:  # they may leave refunded until the new start
                session.rescheduled_at = now
                student_notices.session_moved(
                    db,
                    students=student_notices.active_students(db, session.id),  # type: ignore[arg-type]
                    session=session,
                    old_starts_at=before.starts_at,
                    at=now,
                )
            else:  # nobody to keep a promise to: the new schedule is the one announced
                session.planned_starts_at, session.planned_ends_at = (
                    session.starts_at,
                    session.ends_at,
                )
        audit.record(
            db,
            actor_id=actor.id,
            action="session.edited",
            target_type="session",
            target_id=session.id,
            at=now,
            fields=changed,
            **(
                {"from": before.starts_at.isoformat(), "to": clean.starts_at.isoformat()}
                if "starts_at" in changed
                else {}
            ),
        )
        if locked is None:
            db.commit()
        return session
    except Exception:
        db.rollback()
        raise


def _check_scheduled_edit(
    db: Session, session: VideoSession, clean: SessionInput, before: SessionInput, now
) -> None:  # type: ignore[no-untyped-def]
    if (clean.platform, clean.link) != (before.platform, before.link) and now >= session.starts_at:
        raise Conflict("edit_link_after_start", field="link")
    price_changed = (clean.is_paid, clean.price_cents) != (before.is_paid, before.price_cents)
    if price_changed:
        paid = db.exec(
            select(func.count()).select_from(Purchase).where(Purchase.session_id == session.id)
        ).one()
        if paid:
            raise Conflict("edit_price_after_payment", field="price")
    if clean.capacity is not None and clean.capacity < session.enrolled_count:
        raise Conflict(
            "capacity_below_enrollments", field="capacity", enrolled=session.enrolled_count
        )


def _apply(db: Session, session: VideoSession, clean: SessionInput, before: SessionInput) -> None:
    session.title = clean.title
    session.description = clean.description
    session.starts_at = clean.starts_at
    session.duration_minutes = clean.duration_minutes
    session.ends_at = clean.starts_at + timedelta(minutes=clean.duration_minutes)
    session.timezone = clean.timezone
    if clean.platform != before.platform or clean.link != before.link:
        # Going back to Jitsi gets a fresh room; other platforms keep the teacher's link.
        session.link = clean.link if clean.platform != Platform.JITSI else jitsi_link()
        session.platform = clean.platform
    session.is_paid = clean.is_paid
    session.price_cents = clean.price_cents
    session.capacity = clean.capacity
    session.enrollment_deadline = clean.enrollment_deadline
    session.min_participants, session.decide_at = clean.min_participants, clean.decide_at
    if clean.tags != before.tags:
        set_tags(db, session.id, clean.tags)  # type: ignore[arg-type]
    db.add(session)
