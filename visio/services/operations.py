"""What an operator watches, read from the database: the business figures of /metrics and how
far behind the background work is.

Read at scrape time, in one short read-only transaction: every worker of the cluster writes to
the same database, so these are exact for the whole cluster whichever worker answers. Each
aggregate is narrowed by an index (see the models), so a scrape stays cheap as tables grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import Enrollment, Notice, PayoutRequest, Purchase, VideoSession
from visio.models.money import PayoutStatus, PurchaseStatus
from visio.models.notices import NoticeStatus
from visio.models.sessions import StoredStatus


@dataclass(frozen=True)
class Figures:
    """The cluster's figures at one instant (counts are all-time unless said otherwise)."""

    enrollments: dict[str, int]  # seats by status: active, unenrolled, cancelled
    paid_enrollments: int  # purchases ever made (each a paid seat)
    paid_cents: int
    refunds: int  # purchases refunded (by unenrolling, a cancel, a missed minimum)
    refunded_cents: int
    payouts: dict[str, int]  # teachers' withdrawal requests by status: requested, paid, refused
    payout_cents: dict[str, int]
    oldest_payout_request_seconds: float  # how long the oldest undecided request has waited
    outbox_pending: int  # notices waiting to be mailed (due now or retried later)
    outbox_due: int  # of which due now
    outbox_oldest_due_seconds: float  # how long the oldest due notice has waited (0: none)
    # How late each periodic job is: the oldest piece of work that is due and not done yet.
    lag_seconds: dict[str, float] = field(default_factory=dict)


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def figures(*, db: Session, clock: Clock = utcnow) -> Figures:
    """Read every figure (read-only; the caller's transaction is rolled back by closing)."""
    now = clock()
    by_status = db.exec(
        select(Enrollment.status, func.count()).group_by(Enrollment.status)  # type: ignore[arg-type]
    ).all()
    enrollments = {status: 0 for status in ("active", "unenrolled", "cancelled")}
    enrollments.update({status: int(count) for status, count in by_status})
    purchases = {
        status: (int(count), int(cents or 0))
        for status, count, cents in db.exec(
            select(Purchase.status, func.count(), func.sum(Purchase.amount_cents)).group_by(  # type: ignore[arg-type]
                Purchase.status
            )
        ).all()
    }
    refunded = purchases.get(PurchaseStatus.REFUNDED, (0, 0))
    payouts = {str(status): (0, 0) for status in PayoutStatus}
    payouts.update(
        {
            status: (int(count), int(cents or 0))
            for status, count, cents in db.exec(
                select(
                    PayoutRequest.status, func.count(), func.sum(PayoutRequest.amount_cents)
                ).group_by(PayoutRequest.status)  # type: ignore[arg-type]
            ).all()
        }
    )
    oldest_payout = db.exec(
        select(func.min(PayoutRequest.created_at)).where(
            PayoutRequest.status == PayoutStatus.REQUESTED
        )
    ).one()

    pending = Notice.status == NoticeStatus.PENDING
    outbox_pending = db.exec(select(func.count()).where(pending)).one()
    due_count, oldest_due = db.exec(
        select(func.count(), func.min(Notice.next_attempt_at)).where(
            pending,
            Notice.next_attempt_at <= now,  # type: ignore[operator]
        )
    ).one()

    # Escrow is due once a session is over and past the end first announced (see enrollments).
    release_at = func.coalesce(VideoSession.planned_ends_at, VideoSession.ends_at)
    due_at = case((VideoSession.ends_at > release_at, VideoSession.ends_at), else_=release_at)
    oldest_release = db.exec(
        select(func.min(due_at)).where(
            VideoSession.status == StoredStatus.SCHEDULED,
            VideoSession.ends_at <= now,  # type: ignore[operator]
            release_at <= now,
            VideoSession.escrow_released_at.is_(None),  # type: ignore[union-attr]
        )
    ).one()
    oldest_decision = db.exec(
        select(func.min(VideoSession.decide_at)).where(
            VideoSession.decided_at.is_(None),  # type: ignore[union-attr]
            VideoSession.decide_at <= now,  # type: ignore[operator]
            VideoSession.status == StoredStatus.SCHEDULED,
            VideoSession.min_participants.is_not(None),  # type: ignore[union-attr]
        )
    ).one()
    return Figures(
        enrollments=enrollments,
        paid_enrollments=sum(count for count, _ in purchases.values()),
        paid_cents=sum(cents for _, cents in purchases.values()),
        refunds=refunded[0],
        refunded_cents=refunded[1],
        payouts={status: count for status, (count, _) in payouts.items()},
        payout_cents={status: cents for status, (_, cents) in payouts.items()},
        oldest_payout_request_seconds=_age(now, oldest_payout),
        outbox_pending=int(outbox_pending),
        outbox_due=int(due_count),
        outbox_oldest_due_seconds=_age(now, oldest_due),
        lag_seconds={
            "notices": _age(now, oldest_due),
            "escrow_release": _age(now, oldest_release),
            "minimum_decisions": _age(now, oldest_decision),
        },
    )
