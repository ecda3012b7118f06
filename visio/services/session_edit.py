"""Editing a session, within the rules of its status.

Drafts change freely. A scheduled session keeps its students' trust: its date and duration
change only before it starts, its price never once someone has paid, and its capacity never
below the seats already taken. Cancelled and finished sessions are history: no edits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import EffectiveStatus, Platform, Purchase, StoredStatus, User, VideoSession
from visio.services import audit
from visio.services.catalog import tags_by_session
from visio.services.errors import Conflict
from visio.services.sessions import (
    SessionInput,
    effective_status,
    jitsi_link,
    lock_owned,
    set_tags,
    validate,
)


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
    )


def update_session(
    *, db: Session, actor: User, video_session_id: int, data: SessionInput, clock: Clock = utcnow
) -> VideoSession:
    """Apply an edit form to a session the actor owns."""
    try:
        session = lock_owned(db, actor, video_session_id)
        now = clock()
        status = effective_status(session, now)
        if status in (EffectiveStatus.CANCELLED, EffectiveStatus.FINISHED):
            raise Conflict("invalid_status", status=status.value)
        before = current_input(db, session)
        start_changed = (data.starts_at != session.starts_at) or (
            data.duration_minutes != session.duration_minutes
        )
        deadline_changed = data.enrollment_deadline != session.enrollment_deadline
        if session.status == StoredStatus.SCHEDULED and start_changed and now >= session.starts_at:
            # Checked before `validate`, which would call it a "start in the past" instead.
            raise Conflict("edit_time_after_start", field="starts_at")
        clean = validate(
            data, now=now, start_changed=start_changed, deadline_changed=deadline_changed
        )
        # Tags are a set (read back in name order): another order is no change.
        clean, before = (
            replace(clean, tags=sorted(clean.tags)),
            replace(before, tags=sorted(before.tags)),
        )
        if session.status == StoredStatus.SCHEDULED:
            _check_scheduled_edit(db, session, clean, before, now)

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
            )
            if getattr(clean, name) != getattr(before, name)
        )
        if not changed:
            db.rollback()
            return session
        _apply(db, session, clean, before)
        session.updated_at = now
        audit.record(
            db,
            actor_id=actor.id,
            action="session.edited",
            target_type="session",
            target_id=session.id,
            at=now,
            fields=changed,
        )
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
    if clean.tags != before.tags:
        set_tags(db, session.id, clean.tags)  # type: ignore[arg-type]
    db.add(session)
