"""Enrollment: claim a seat (and pay for it) in one transaction; unenroll with a full refund.

Locks are always taken in the same order as cancellation: the session row, then the student's
wallet, the escrow last (see locking). That order, and checking only after locking, is what makes
seats and money safe when many students click at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    Attendance,
    Enrollment,
    EnrollmentStatus,
    EntryKind,
    Purchase,
    PurchaseStatus,
    Role,
    StoredStatus,
    User,
    VideoSession,
    Wallet,
)
from visio.services import (
    audit,
    locking,
    seat_notices,
    seat_rows,
    student_notices,
    teacher_notices,
    waitlist,
    wallets,
)
from visio.services.email_verification import require_verified
from visio.services.errors import Conflict, Forbidden, NotAuthenticated, NotFound


@dataclass(frozen=True)
class EnrollResult:
    enrollment: Enrollment
    purchase: Purchase | None
    wallet_balance_cents: int


def enrollment_deadline(session: VideoSession) -> datetime:
    """When enrolling (and unenrolling with a refund) closes: the deadline, else the start."""
    return session.enrollment_deadline or session.starts_at


def moved_since(session: VideoSession, enrolled_at: datetime) -> bool:
    """The session's start or duration changed after a student enrolled at `enrolled_at`."""
    return session.rescheduled_at is not None and enrolled_at <= session.rescheduled_at


def unenroll_closes_at(session: VideoSession, enrollment: Enrollment) -> datetime:
    """Until when the student may give their seat back refunded.

    The enrollment deadline; or the (new) start for a student the session was moved on.
    """
    moved = moved_since(session, enrollment.enrolled_at)
    return session.starts_at if moved else enrollment_deadline(session)


_PAIR = select(Enrollment.id, Enrollment.status).where(  # type: ignore[call-overload]
    Enrollment.session_id == bindparam("session_id"),
    Enrollment.student_id == bindparam("student_id"),
)
# SQLite: the session row with the student's earlier enrollment in it, if any (see
# `_lock_session_for`), built once.
_SESSION_WITH_PAIR = (
    select(VideoSession, Enrollment.id, Enrollment.status)  # type: ignore[call-overload]
    .outerjoin(
        Enrollment,
        and_(
            Enrollment.session_id == VideoSession.id,
            Enrollment.student_id == bindparam("student_id"),
        ),
    )
    .where(VideoSession.id == bindparam("session_id"))
    .execution_options(populate_existing=True)
)


def _lock_session(db: Session, session_id: int) -> VideoSession:
    """Lock the session row: the first lock of a write transaction (see locking).

    What the caller read before (its login) stays in the transaction: on SQLite reads take no
    write lock, so the lock is still the transaction's first (BEGIN IMMEDIATE); on PostgreSQL a
    row lock reads the row as last committed whatever came before. A rollback here would cost
    a round trip, a fresh connection with its ping, and the reload of every loaded object.
    """
    rows = locking.lock(db, VideoSession, [session_id])
    if not rows:
        raise NotFound("session_not_found")
    return rows[0]  # type: ignore[return-value]


def _lock_session_for(
    db: Session, session_id: int, student_id: int
) -> tuple[VideoSession, int | None, str | None]:
    """`_lock_session`, then the student's earlier enrollment in it (its id and status, or None).

    SQLite: one statement, once the write lock is taken. PostgreSQL: a second statement after
    the lock, since a statement that waited for a row lock sees the other tables as they were
    when it started (READ COMMITTED re-reads the locked row only): a claim by the same student
    committed meanwhile would go unseen.
    """
    params = {"session_id": session_id, "student_id": student_id}
    if db.get_bind().dialect.name == "postgresql":
        session = _lock_session(db, session_id)
        earlier = db.execute(_PAIR, params).first()  # mostly none: no object to build
        return session, *((None, None) if earlier is None else (earlier[0], earlier[1]))
    with locking.busy_on_timeout():
        locking.begin_immediate(db)
        found = db.execute(_SESSION_WITH_PAIR, params).first()
    if found is None:
        raise NotFound("session_not_found")
    return found[0], found[1], found[2]


def check_can_enroll(session: VideoSession, actor: User, now: datetime) -> None:
    """Every rule a seat claim must pass, on an already locked session row."""
    if actor.role != Role.STUDENT:
        if session.teacher_id == actor.id:
            raise Forbidden("own_session")
        raise Forbidden("wrong_role", role=Role.STUDENT)
    if session.status == StoredStatus.DRAFT:
        raise Conflict("not_open")
    if session.status == StoredStatus.CANCELLED:
        raise Conflict("invalid_status", status="cancelled")
    if now >= enrollment_deadline(session):
        raise Conflict("deadline_passed")
    if session.capacity is not None and session.enrolled_count >= session.capacity:
        raise Conflict("session_full")


def enroll(
    *, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow
) -> EnrollResult:
    """Claim a seat; for a paid session debit the wallet into escrow, all or nothing."""
    if actor is None:
        raise NotAuthenticated()
    try:
        session, earlier_id, earlier_status = _lock_session_for(
            db,
            video_session_id,
            actor.id,  # type: ignore[arg-type]
        )
        now = clock()
        if earlier_status == EnrollmentStatus.ACTIVE:
            raise Conflict("already_enrolled")
        enrollment = (  # mostly none: no object to build
            None if earlier_id is None else db.get(Enrollment, earlier_id, populate_existing=True)
        )
        check_can_enroll(session, actor, now)

        result = take_seat(db, session=session, student=actor, enrollment=enrollment, at=now)
        db.commit()
        return result
    except Exception:
        db.rollback()
        raise


def take_seat(
    db: Session,
    *,
    session: VideoSession,
    student: User,
    enrollment: Enrollment | None,
    at: datetime,
    wallet: Wallet | None = None,
    confirmation: str | None = "enrollment_confirmed",
) -> EnrollResult:
    """Give `student` a seat in `session` and, for a paid one, move the price from their wallet
    into escrow; with its audit event and notices. Never commits.

    The caller holds the session's lock and has checked the rules (`check_can_enroll`, not
    already enrolled): enroll, a promotion from the waiting list, a series' seats. `enrollment`
    is the pair's earlier row, if any (reactivated). `wallet`: the student's, if the caller
    locked it already (several wallets are locked together, in id order, before the escrow).
    `confirmation`: the kind of the student's notice (None: the caller writes its own).
    Raises InsufficientFunds with nothing written.

    Every paid seat on the platform runs this, so it writes with statements built once (see
    `seat_rows`), in the lock order of the ORM paths: the student's wallet, then the seat (a new
    one in the debit's statement on PostgreSQL), its audit event, notice and purchase, and the
    escrow last, with its ledger entry and the debit's (on PostgreSQL, these last six in one
    statement).
    The caller's loaded objects (session, enrollment, wallet) follow what was written.
    """
    db.flush()  # the caller's pending changes first: the statements below bypass the ORM
    connection = db.connection()
    price = session.price_cents if session.is_paid else 0
    seat_id: int | None = None
    if price:  # a free seat moves no money: it locks no wallet
        require_verified(student)
        if wallet is not None:
            wallets.check_funds(wallet, price)
        if enrollment is None:  # a new seat: written by the debit's statement
            wallet_id, balance, seat_id = seat_rows.debit_into_seat(
                connection,
                student_id=student.id,  # type: ignore[arg-type]
                wallet=wallet,
                price=price,
                session_id=session.id,  # type: ignore[arg-type]
                teacher_id=session.teacher_id,
                at=at,
            )
        else:
            wallet_id, balance = seat_rows.debit(connection, student.id, wallet, price, at)  # type: ignore[arg-type]
        wallets.written(db, wallet_id, balance, at)
    else:
        wallet_id, balance = None, None

    if enrollment is None:
        if seat_id is None:
            seat_id = seat_rows.insert_enrollment(
                connection,
                session.id,  # type: ignore[arg-type]
                student.id,  # type: ignore[arg-type]
                session.teacher_id,
                at,
            )
        enrollment = Enrollment.model_construct(  # the answer's copy: built, not validated
            id=seat_id,
            session_id=session.id,
            student_id=student.id,
            teacher_id=session.teacher_id,
            status=EnrollmentStatus.ACTIVE,
            enrolled_at=at,
        )
    else:
        seat_rows.reactivate(connection, enrollment.id, at)  # type: ignore[arg-type]
        for name, value in (
            ("status", EnrollmentStatus.ACTIVE),
            ("enrolled_at", at),
            ("ended_at", None),
        ):
            set_committed_value(enrollment, name, value)
    set_committed_value(session, "enrolled_count", session.enrolled_count + 1)  # written below

    if wallet_id is None:
        balance = seat_rows.balance(connection, student.id)  # type: ignore[arg-type]
    rows = [
        seat_rows.seat_counted(session.id),  # type: ignore[arg-type]
        audit.row(
            actor_id=student.id,
            action="session.enrolled",
            target_type="session",
            target_id=session.id,
            at=at,
            paid_cents=price,
        ),
        *seat_notices.seat_taken(
            db,
            session=session,
            student=student,
            paid_cents=price,
            balance_cents=balance,  # type: ignore[arg-type]
            at=at,
            student_kind=confirmation,
        ),
    ]
    purchase = None
    if wallet_id is not None:  # the purchase last (its id read back), then the escrow's credit
        values = seat_rows.purchase_values(session, student.id, enrollment.id, at)  # type: ignore[arg-type]
        purchase_id = seat_rows.insert_rows_paying_escrow(
            db,
            [*rows, (seat_rows.PURCHASES, values)],
            wallets.EscrowCredit(price, at, session.id, payer_wallet_id=wallet_id),  # type: ignore[arg-type]
        )
        purchase = Purchase.model_construct(
            id=purchase_id, settled_at=None, idempotency_key=None, **values
        )
    else:
        seat_rows.insert_rows(connection, rows)
    return EnrollResult(enrollment, purchase, balance)  # type: ignore[arg-type]


@dataclass(frozen=True)
class UnenrollResult:
    enrollment: Enrollment
    refunded_cents: int
    wallet_balance_cents: int


def unenroll(
    *, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow
) -> UnenrollResult:
    """Give the seat back before the deadline; a paid seat is refunded in full."""
    if actor is None:
        raise NotAuthenticated()
    try:
        session = _lock_session(db, video_session_id)
        now = clock()
        enrollment = db.exec(
            select(Enrollment).where(
                Enrollment.session_id == session.id,
                Enrollment.student_id == actor.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
        ).first()
        if enrollment is None:
            raise Conflict("not_enrolled")
        if session.status != StoredStatus.SCHEDULED or now >= unenroll_closes_at(
            session, enrollment
        ):
            raise Conflict("deadline_passed")
        joined = select(Attendance.id).where(
            Attendance.session_id == session.id, Attendance.user_id == actor.id
        )
        if moved_since(session, enrollment.enrolled_at):  # a join before it is no used seat
            joined = joined.where(Attendance.last_seen_at >= session.rescheduled_at)
        if db.exec(joined).first() is not None:  # a seat that was used is not refunded
            raise Conflict("already_joined")
        # The freed seat's candidates' wallets too, before the refund locks the escrow.
        locked = waitlist.lock_wallets(db, session=session, at=now, freeing=1, also=[actor.id])  # type: ignore[list-item]
        wallet = locked[actor.id]  # type: ignore[index]
        refunded = 0
        purchase = db.exec(
            select(Purchase).where(
                Purchase.enrollment_id == enrollment.id, Purchase.status == PurchaseStatus.HELD
            )
        ).first()
        if purchase is not None:
            escrow = wallets.lock_escrow(db)
            wallets.refund_purchase(db, purchase, escrow=escrow, student_wallet=wallet, at=now)
            refunded = purchase.amount_cents
        enrollment.status, enrollment.ended_at = EnrollmentStatus.UNENROLLED, now
        session.enrolled_count -= 1
        db.add(enrollment)
        db.add(session)
        audit.record(
            db,
            actor_id=actor.id,
            action="session.unenrolled",
            target_type="session",
            target_id=session.id,
            at=now,
            refunded_cents=refunded,
        )
        student_notices.unenrolled(
            db,
            student=actor,
            session=session,
            refunded_cents=refunded,
            balance_cents=wallet.balance_cents,
            at=now,
        )
        waitlist.promote(db, session=session, at=now, locked=locked)
        db.commit()
        return UnenrollResult(enrollment, refunded, wallet.balance_cents)
    except Exception:
        db.rollback()
        raise


def release_due(session: VideoSession, now: datetime) -> bool:
    """A session's held money may go to its teacher: over, as planned first too, not yet paid."""
    planned_end = session.planned_ends_at or session.ends_at
    return (
        session.status == StoredStatus.SCHEDULED
        and session.escrow_released_at is None
        and now >= max(session.ends_at, planned_end)
    )


def release_escrow(*, db: Session, clock: Clock = utcnow, limit: int = 100) -> int:
    """Pay the held money of finished sessions to their teachers, once; returns sessions done.

    Never before the end first planned: a session moved earlier (or shortened) keeps its students'
    money until then. Idempotent: a session is marked released in the same transaction as its
    payouts, and is re-checked after its row is locked, so overlapping runs never pay twice.
    """
    now = clock()
    due = db.exec(
        select(VideoSession.id)
        .where(
            VideoSession.status == StoredStatus.SCHEDULED,
            VideoSession.ends_at <= now,
            func.coalesce(VideoSession.planned_ends_at, VideoSession.ends_at) <= now,
            VideoSession.escrow_released_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(VideoSession.ends_at)
        .limit(limit)
    ).all()
    done = 0
    for session_id in due:
        try:
            session = _lock_session(db, session_id)
            if not release_due(session, now):
                db.rollback()
                continue
            held = db.exec(
                select(Purchase)
                .where(Purchase.session_id == session.id, Purchase.status == PurchaseStatus.HELD)
                .order_by(Purchase.id)
            ).all()
            total = sum(p.amount_cents for p in held)
            if total:
                teacher_wallet = wallets.lock_wallet_of(db, session.teacher_id)
                wallets.transfer(
                    db,
                    wallets.lock_escrow(db),
                    teacher_wallet,
                    total,
                    debit_kind=EntryKind.ESCROW_RELEASE,
                    credit_kind=EntryKind.EARNING,
                    at=now,
                    session_id=session.id,
                )
            for purchase in held:
                purchase.status, purchase.settled_at = PurchaseStatus.RELEASED, now
                db.add(purchase)
            session.escrow_released_at = now
            db.add(session)
            if held:  # a free session has nothing to pay out: no line in its history
                audit.record(
                    db,
                    actor_id=None,
                    action="session.escrow_released",
                    target_type="session",
                    target_id=session.id,
                    at=now,
                    amount_cents=total,
                    purchases=len(held),
                )
            if total:
                teacher_notices.payout_released(
                    db, session=session, amount_cents=total, purchases=len(held), at=now
                )
            db.commit()
            done += 1
        except Exception:
            db.rollback()
            raise
    return done
