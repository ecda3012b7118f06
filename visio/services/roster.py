"""What a teacher sees of one of their sessions: its students, its money, its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    AuditEvent,
    EffectiveStatus,
    Enrollment,
    Purchase,
    PurchaseStatus,
    Role,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services.accounts import require_role
from visio.services.catalog import tags_by_session
from visio.services.errors import Forbidden, NotFound
from visio.services.sessions import effective_status, refund_preview

MAX_ROWS = 200


@dataclass(frozen=True)
class OwnerView:
    session: VideoSession
    status: EffectiveStatus
    tags: list[str]
    ever_enrolled: int
    refund_count: int
    refund_cents: int
    revenue_cents: int

    @property
    def delete_blocker(self) -> str | None:
        """Why delete is refused (the code of the error it would raise), or None."""
        if self.session.status != StoredStatus.DRAFT and self.ever_enrolled:
            return "delete_has_enrollments"
        return None


def owned_session(db: Session, actor: User, video_session_id: int) -> VideoSession:
    """The session, if the actor is the teacher who owns it."""
    require_role(actor, Role.TEACHER)
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    if session.teacher_id != actor.id:
        raise Forbidden("not_owner")
    return session


def owner_view(
    *, db: Session, actor: User, video_session_id: int, clock: Clock = utcnow
) -> OwnerView:
    session = owned_session(db, actor, video_session_id)
    ever = db.exec(
        select(func.count()).select_from(Enrollment).where(Enrollment.session_id == session.id)
    ).one()
    count, total = refund_preview(db=db, actor=actor, video_session_id=session.id)  # type: ignore[arg-type]
    revenue = db.exec(
        select(func.coalesce(func.sum(Purchase.amount_cents), 0)).where(
            Purchase.session_id == session.id,
            Purchase.status.in_([PurchaseStatus.HELD, PurchaseStatus.RELEASED]),  # type: ignore[attr-defined]
        )
    ).one()
    return OwnerView(
        session=session,
        status=effective_status(session, clock()),
        tags=tags_by_session(db, [session.id])[session.id],  # type: ignore[list-item, index]
        ever_enrolled=int(ever),
        refund_count=count,
        refund_cents=total,
        revenue_cents=int(revenue),
    )


@dataclass(frozen=True)
class StudentRow:
    student_id: int
    full_name: str
    email: str
    status: str
    enrolled_at: datetime
    paid_cents: int
    purchase_status: str | None


def enrolled_students(
    *, db: Session, actor: User, video_session_id: int, limit: int = MAX_ROWS
) -> list[StudentRow]:
    """Everyone who enrolled (active first), with what they paid."""
    session = owned_session(db, actor, video_session_id)
    rows = db.exec(
        select(Enrollment, User.full_name, User.email, Purchase.amount_cents, Purchase.status)
        .join(User, User.id == Enrollment.student_id)
        .join(
            Purchase,
            and_(Purchase.enrollment_id == Enrollment.id, Purchase.session_id == session.id),
            isouter=True,
        )
        .where(Enrollment.session_id == session.id)
        .order_by(Enrollment.status, Enrollment.enrolled_at, Purchase.id)
        .limit(min(limit, MAX_ROWS))
    ).all()
    latest: dict[int, StudentRow] = {}
    for enrollment, name, email, amount, purchase_status in rows:
        # A student who re-enrolled has several purchases (in id order): show the last one.
        latest[enrollment.student_id] = StudentRow(
            student_id=enrollment.student_id,
            full_name=name,
            email=email,
            status=enrollment.status,
            enrolled_at=enrollment.enrolled_at,
            paid_cents=int(amount or 0),
            purchase_status=purchase_status,
        )
    return list(latest.values())


@dataclass(frozen=True)
class HistoryRow:
    action: str
    actor_name: str | None
    at: datetime
    data: dict[str, Any]


def audit_history(
    *, db: Session, actor: User, video_session_id: int, limit: int = 50
) -> list[HistoryRow]:
    """The session's audit trail, newest first, its payments' refunds included."""
    session = owned_session(db, actor, video_session_id)
    purchase_ids = select(Purchase.id).where(Purchase.session_id == session.id)
    rows = db.exec(
        select(AuditEvent, User.full_name)
        .join(User, User.id == AuditEvent.actor_id, isouter=True)
        .where(
            or_(
                and_(AuditEvent.target_type == "session", AuditEvent.target_id == session.id),
                and_(
                    AuditEvent.target_type == "purchase",
                    AuditEvent.target_id.in_(purchase_ids),  # type: ignore[union-attr]
                ),
            )
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())  # type: ignore[attr-defined]
        .limit(min(limit, MAX_ROWS))
    ).all()
    return [HistoryRow(e.action, name, e.created_at, dict(e.data or {})) for e, name in rows]
