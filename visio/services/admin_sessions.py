"""Admins and sessions: every teacher's sessions, and cancelling one with the normal refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import EffectiveStatus, StoredStatus, User, VideoSession
from visio.services import sessions
from visio.services.admins import require_admin
from visio.services.errors import InvalidInput

MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class SessionLine:
    id: int
    title: str
    teacher_id: int
    teacher_name: str
    teacher_email: str
    starts_at: datetime
    status: str  # effective
    is_paid: bool
    price_cents: int
    enrolled_count: int
    capacity: int | None


@dataclass(frozen=True)
class SessionPage:
    items: list[SessionLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _status_where(status: str, now: datetime) -> list:  # type: ignore[type-arg]
    """The stored columns that make an effective status (it derives from the clock)."""
    scheduled = VideoSession.status == StoredStatus.SCHEDULED
    match status:
        case EffectiveStatus.DRAFT | EffectiveStatus.CANCELLED:
            return [VideoSession.status == status]
        case EffectiveStatus.SCHEDULED:
            return [scheduled, VideoSession.starts_at > now]
        case EffectiveStatus.ONGOING:
            return [scheduled, VideoSession.starts_at <= now, VideoSession.ends_at > now]
        case EffectiveStatus.FINISHED:
            return [scheduled, VideoSession.ends_at <= now]
    raise InvalidInput("status_invalid", field="status")


def list_sessions(
    *,
    db: Session,
    actor: User | None,
    q: str = "",
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
    clock: Clock = utcnow,
) -> SessionPage:
    """Every teacher's sessions, by title or teacher (name, email) and status, latest first."""
    require_admin(actor)
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    now = clock()
    where = _status_where(status, now) if status else []
    text = " ".join((q or "").split()).lower()[:120]
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            func.lower(VideoSession.title).like(pattern, escape="\\")
            | func.lower(User.full_name).like(pattern, escape="\\")
            | User.email.like(pattern, escape="\\")  # type: ignore[attr-defined]
        )
    joined = (
        select(func.count())
        .select_from(VideoSession)
        .join(User, User.id == VideoSession.teacher_id)
    )
    total = db.exec(joined.where(*where)).one()
    rows = db.exec(
        select(VideoSession, User.full_name, User.email)
        .join(User, User.id == VideoSession.teacher_id)
        .where(*where)
        .order_by(VideoSession.starts_at.desc(), VideoSession.id.desc())  # type: ignore[union-attr]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [
        SessionLine(
            id=s.id,  # type: ignore[arg-type]
            title=s.title,
            teacher_id=s.teacher_id,
            teacher_name=name,
            teacher_email=email,
            starts_at=s.starts_at,
            status=sessions.effective_status(s, now).value,
            is_paid=s.is_paid,
            price_cents=s.price_cents,
            enrolled_count=s.enrolled_count,
            capacity=s.capacity,
        )
        for s, name, email in rows
    ]
    return SessionPage(items, int(total), page, page_size)


def cancel_session(
    *, db: Session, actor: User | None, video_session_id: int, reason: str, clock: Clock = utcnow
) -> sessions.Cancellation:
    """Cancel any teacher's session as an admin: the students are refunded and told, as when
    its teacher cancels; the audit names the admin."""
    admin = require_admin(actor)
    return sessions.cancel_session(
        db=db, actor=admin, video_session_id=video_session_id, reason=reason, clock=clock
    )
