"""From what the services return to the API's JSON shapes (no queries but per-page lookups)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from visio.api.schemas import (
    EnrollmentOut,
    MaterialOut,
    SessionOut,
    TransactionOut,
    UserOut,
)
from visio.clock import utcnow
from visio.models import (
    EffectiveStatus,
    Enrollment,
    LedgerEntry,
    Material,
    User,
    VideoSession,
)
from visio.services import api_views, catalog, minimums
from visio.services.catalog import SessionRow
from visio.services.sessions import effective_status, planned_schedule
from visio.services.wallet_history import EntryLine


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,  # type: ignore[arg-type]
        email=user.email,
        full_name=user.full_name,
        role=user.role,  # type: ignore[arg-type]
        created_at=user.created_at,
        email_verified=user.email_verified_at is not None,
    )


def session_out(
    session: VideoSession,
    *,
    teacher_name: str,
    tags: list[str],
    materials_count: int,
    show_link: bool,
    status: EffectiveStatus,
    moved_from: datetime | None = None,
) -> SessionOut:
    """A session's JSON; the link only when `show_link` (its owner: students get it from join)."""
    minimum = minimums.view(session)
    return SessionOut(
        id=session.id,  # type: ignore[arg-type]
        title=session.title,
        description=session.description,
        date=session.starts_at,
        duration=session.duration_minutes,
        timezone=session.timezone,
        platform=session.platform,  # type: ignore[arg-type]
        link=session.link if show_link else None,
        teacher_id=session.teacher_id,
        teacher_name=teacher_name,
        status=status,
        is_paid=session.is_paid,
        price_cents=session.price_cents,
        currency=session.currency,
        capacity=session.capacity,
        enrolled_count=session.enrolled_count,
        enrollment_deadline=session.enrollment_deadline,
        tags=tags,
        materials_count=materials_count,
        created_at=session.created_at,
        moved_from=moved_from,
        min_participants=minimum.min_participants,
        decide_at=minimum.decide_at,
        confirmed=minimum.confirmed,
    )


def session_items(
    db: Session, actor: User, rows: list[SessionRow], now: datetime | None = None
) -> list[SessionOut]:
    """A page of listed sessions, with one grouped lookup (materials) unless the listing read
    them with its page.

    The link shows to the session's teacher only. A student gets it from the join action, inside
    the join window, which records the join (and so ends the right to a refund): a link read days
    ahead would be a seat kept for free after unenrolling.
    """
    unread: list[int] = [row.session.id for row in rows if row.materials_count is None]  # type: ignore[misc]
    counts = api_views.materials_count_by_session(db, unread)
    at = now or utcnow()
    return [
        session_out(
            row.session,
            teacher_name=row.teacher_name,
            tags=row.tags,
            materials_count=counts.get(row.session.id, 0)  # type: ignore[arg-type]
            if row.materials_count is None
            else row.materials_count,
            show_link=row.session.teacher_id == actor.id,
            status=effective_status(row.session, at),
            moved_from=planned_schedule(row.session)[0] if row.moved else None,
        )
        for row in rows
    ]


def owned_session_out(db: Session, owner: User, session: VideoSession) -> SessionOut:
    """A session its teacher just created or changed (the owner sees the link)."""
    tags = catalog.tags_by_session(db, [session.id])  # type: ignore[list-item]
    row = SessionRow(session, owner.full_name, tags[session.id])  # type: ignore[index]
    return session_items(db, owner, [row])[0]


def enrollment_out(enrollment: Enrollment) -> EnrollmentOut:
    return EnrollmentOut(
        id=enrollment.id,  # type: ignore[arg-type]
        session_id=enrollment.session_id,
        student_id=enrollment.student_id,
        status=enrollment.status,  # type: ignore[arg-type]
        enrolled_at=enrollment.enrolled_at,
        ended_at=enrollment.ended_at,
    )


def material_out(material: Material) -> MaterialOut:
    return MaterialOut(
        id=material.id,  # type: ignore[arg-type]
        session_id=material.session_id,
        kind=material.kind,  # type: ignore[arg-type]
        title=material.title,
        url=material.url,
        filename=material.filename,
        content_type=material.content_type,
        size_bytes=material.size_bytes,
        created_at=material.created_at,
    )


def transaction_out(line: EntryLine | LedgerEntry, currency: str) -> TransactionOut:
    """A ledger entry, from the wallet history or straight from a top-up."""
    if isinstance(line, LedgerEntry):
        line = EntryLine(
            line.id,  # type: ignore[arg-type]
            line.kind,
            line.amount_cents,
            line.created_at,
            line.session_id,
            None,
            line.reference,
        )
    return TransactionOut(
        id=line.id,
        kind=line.kind,  # type: ignore[arg-type]
        amount_cents=line.amount_cents,
        currency=currency,
        created_at=line.at,
        session_id=line.session_id,
        session_title=line.session_title,
        reference=line.reference,
    )
