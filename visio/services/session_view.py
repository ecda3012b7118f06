"""A session as a visitor sees it on /sessions/[id], and the one action that applies to them.

Never carries the platform link: that is handed out by `attendance.join` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, bindparam, func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Material,
    MaterialKind,
    Purchase,
    PurchaseStatus,
    Role,
    StoredStatus,
    User,
    VideoSession,
    Wallet,
)
from visio.services.attendance import join_opens_at
from visio.services.catalog import split_tags, tag_names
from visio.services.enrollments import enrollment_deadline, moved_since, unenroll_closes_at
from visio.services.errors import NotAuthenticated, NotFound
from visio.services.sessions import effective_status, planned_schedule


class Action(StrEnum):
    ENROLL = "enroll"
    PAY = "pay"  # pay and enroll
    UNENROLL = "unenroll"
    JOIN = "join"
    WAIT = "wait"  # enrolled; the join window opens later
    MANAGE = "manage"  # the owner: go to the teacher's page
    NONE = "none"


@dataclass(frozen=True)
class MaterialLine:
    id: int
    kind: str
    title: str
    url: str | None  # a link's address, for those who may open the materials only


@dataclass(frozen=True)
class PublicView:
    session: VideoSession
    teacher_name: str
    tags: list[str]
    status: EffectiveStatus
    seats_left: int | None
    deadline: datetime
    join_opens_at: datetime
    enrollment_status: str | None
    action: Action
    reason: str  # why no action applies (an error code), or ""
    balance_cents: int
    refunded_cents: int
    materials: list[MaterialLine]
    can_download: bool
    # The start or duration changed since the viewer enrolled: when it was first planned, and
    # until when they may unenroll refunded (None: not moved for them).
    planned_starts_at: datetime | None = None
    refund_until: datetime | None = None

    @property
    def balance_after_cents(self) -> int:
        return self.balance_cents - (self.session.price_cents if self.session.is_paid else 0)


def _action(
    session: VideoSession,
    status: EffectiveStatus,
    actor: User,
    enrollment: Enrollment | None,
    now: datetime,
) -> tuple[Action, str]:
    opens, deadline = join_opens_at(session), enrollment_deadline(session)
    active = enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE
    if status == EffectiveStatus.CANCELLED:
        return Action.NONE, "session_cancelled"
    if status == EffectiveStatus.FINISHED:
        return Action.NONE, "session_finished"
    participant = active or session.teacher_id == actor.id
    if participant and status != EffectiveStatus.DRAFT and opens <= now < session.ends_at:
        return Action.JOIN, ""
    if session.teacher_id == actor.id:
        return Action.MANAGE, ""
    if actor.role != Role.STUDENT:
        return Action.NONE, "wrong_role"
    if enrollment is not None and active:
        closes = unenroll_closes_at(session, enrollment)
        return (Action.UNENROLL, "") if now < closes else (Action.WAIT, "")
    if now >= deadline:
        return Action.NONE, "deadline_passed"
    if session.capacity is not None and session.enrolled_count >= session.capacity:
        return Action.NONE, "session_full"
    return (Action.PAY if session.is_paid else Action.ENROLL), ""


# What the page needs, read in two statements built once: the session with its teacher, the
# viewer's enrollment, refunds, balance and the tags; then the materials. (Six queries before:
# the page is filled again after each action, and building them cost more than running them.)
_VIEWER = bindparam("viewer_id")
_SESSION = bindparam("view_session_id")
_VIEW = (
    select(
        VideoSession,
        User.full_name,
        Enrollment,
        select(func.coalesce(func.sum(Purchase.amount_cents), 0))
        .where(
            Purchase.session_id == VideoSession.id,
            Purchase.student_id == _VIEWER,
            Purchase.status == PurchaseStatus.REFUNDED,
        )
        .scalar_subquery()
        .label("refunded"),
        select(Wallet.balance_cents)
        .where(Wallet.user_id == _VIEWER)
        .limit(1)
        .scalar_subquery()
        .label("balance"),
        tag_names().label("tag_names"),
    )
    .join(User, User.id == VideoSession.teacher_id)  # type: ignore[arg-type]
    .outerjoin(
        Enrollment,
        and_(Enrollment.session_id == VideoSession.id, Enrollment.student_id == _VIEWER),  # type: ignore[arg-type]
    )
    .where(VideoSession.id == _SESSION)
)
_MATERIALS = (
    select(Material.id, Material.kind, Material.title, Material.url)
    .where(Material.session_id == _SESSION)
    .order_by(Material.created_at, Material.id)  # type: ignore[arg-type]
)


def public_view(
    *, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow
) -> PublicView:
    """What /sessions/[id] shows to `actor`; drafts exist only for their teacher."""
    if actor is None:
        raise NotAuthenticated()
    params = {"viewer_id": actor.id, "view_session_id": video_session_id}
    row = db.execute(_VIEW, params).first()
    if row is None:
        raise NotFound("session_not_found")
    session, teacher_name, enrollment, refunded, balance, tags = row
    if session.status == StoredStatus.DRAFT and session.teacher_id != actor.id:
        raise NotFound("session_not_found")
    if balance is None:
        raise NotAuthenticated()  # every account has a wallet from registration on
    now = clock()
    status = effective_status(session, now)
    active = enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE
    action, reason = _action(session, status, actor, enrollment, now)
    moved = active and enrollment is not None and moved_since(session, enrollment.enrolled_at)
    can_open = active or session.teacher_id == actor.id
    materials = db.execute(_MATERIALS, params).all()
    return PublicView(
        session=session,
        teacher_name=teacher_name,
        tags=split_tags(tags),
        status=status,
        seats_left=None
        if session.capacity is None
        else max(0, session.capacity - session.enrolled_count),
        deadline=enrollment_deadline(session),
        join_opens_at=join_opens_at(session),
        enrollment_status=enrollment.status if enrollment else None,
        action=action,
        reason=reason,
        balance_cents=int(balance),
        refunded_cents=int(refunded),
        materials=[
            MaterialLine(int(i), k, t, u if can_open and k == MaterialKind.LINK else None)
            for i, k, t, u in materials
        ],
        can_download=can_open,
        planned_starts_at=planned_schedule(session)[0] if moved else None,
        refund_until=session.starts_at if moved else None,
    )
