"""The waiting list of a full session: students join it for free, and the first in line is given
a seat in the same transaction that frees one (an unenroll, a capacity raised).

The line is the `waiting` rows of a session, in `joined_at` then `id` order. A row whose student
has since taken a seat directly (enrolled after joining: a seat a promotion had to leave free) has
served its purpose and is left out (`_live`).
The list is open while the session is published and before its enrollment deadline: no joins and
no promotions after it. A cancelled session closes it, and its students are told.

Locks follow the platform's order (see locking): the session row, then wallets in id order, the
escrow last. A promotion into a paid seat therefore needs its candidates' wallets locked before
the transaction touches the escrow: `lock_wallets` does that for a caller that is about to refund
(unenroll); `promote` locks them itself when the caller has locked none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Role,
    StoredStatus,
    User,
    VideoSession,
    WaitlistEntry,
    WaitlistStatus,
    Wallet,
)
from visio.services import audit, enrollments, outbox, wallets
from visio.services.email_verification import require_verified
from visio.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InsufficientFunds,
    NotAuthenticated,
    NotFound,
)
from visio.services.student_notices import _data

# Wallets locked beyond the free seats, for candidates whose balance drops before the lock.
MARGIN = 2
# The most candidates one change looks at (an unlimited capacity promotes at most these).
MAX_CANDIDATES = 100
MAX_PAGE_SIZE = 100


def is_open(session: VideoSession, now: datetime) -> bool:
    """The list takes students (and promotes them): published, not cancelled, before the
    enrollment deadline."""
    return session.status == StoredStatus.SCHEDULED and now < enrollments.enrollment_deadline(
        session
    )


def _live() -> list[Any]:
    """The `waiting` rows still in line: their student did not take a seat after joining."""
    seated_since = exists().where(
        Enrollment.session_id == WaitlistEntry.session_id,
        Enrollment.student_id == WaitlistEntry.student_id,
        Enrollment.enrolled_at >= WaitlistEntry.joined_at,
    )
    return [WaitlistEntry.status == WaitlistStatus.WAITING, ~seated_since]


def _line(session_id: int, *columns: Any) -> Any:
    """The session's line, in order (with `columns` beside each row)."""
    return (
        select(WaitlistEntry, *columns)
        .where(WaitlistEntry.session_id == session_id, *_live())
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)  # type: ignore[arg-type]
    )


def waiting_count(db: Session, session_id: int) -> int:
    """How many students wait in a session's line."""
    return int(
        db.exec(
            select(func.count())
            .select_from(WaitlistEntry)
            .where(WaitlistEntry.session_id == session_id, *_live())
        ).one()
    )


def waiting_in_line(now: Any) -> ColumnElement[int]:
    """How many students wait in the open line of the session row at hand (0 once it is
    closed): a column for a statement over a teacher's sessions (the statistics), which finds
    each line by its session id (ix_waitlist_line) in the same pass over the sessions."""
    deadline = func.coalesce(VideoSession.enrollment_deadline, VideoSession.starts_at)
    line = (
        select(func.count())
        .select_from(WaitlistEntry)
        .where(WaitlistEntry.session_id == VideoSession.id, *_live())
        .scalar_subquery()
    )
    is_open = and_(VideoSession.status == StoredStatus.SCHEDULED, deadline > now)
    return case((is_open, line), else_=0)


def _entry(db: Session, session_id: int, student_id: int) -> WaitlistEntry | None:
    return db.exec(
        select(WaitlistEntry).where(
            WaitlistEntry.session_id == session_id, WaitlistEntry.student_id == student_id
        )
    ).first()


def _is_live(db: Session, entry: WaitlistEntry | None) -> bool:
    if entry is None or entry.status != WaitlistStatus.WAITING:
        return False
    return (
        db.exec(select(WaitlistEntry.id).where(WaitlistEntry.id == entry.id, *_live())).first()
        is not None
    )


def _position(db: Session, entry: WaitlistEntry) -> int:
    ahead = db.exec(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(
            WaitlistEntry.session_id == entry.session_id,
            *_live(),
            (WaitlistEntry.joined_at < entry.joined_at)
            | and_(WaitlistEntry.joined_at == entry.joined_at, WaitlistEntry.id < entry.id),  # type: ignore[operator]
        )
    ).one()
    return int(ahead) + 1


# --- a student's use cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A student's standing in a session's line: `waiting` (with a position), `closed` (the list
    closed while they waited), or `none`."""

    state: str
    position: int | None = None
    waiting: int = 0
    short: bool = False  # a promotion skipped them for want of money: top up to keep the place
    can_join: bool = False  # not in line, and the session is full with its list open


def join(*, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow) -> Place:
    """Take a place at the end of a full session's line (nothing is charged)."""
    if actor is None:
        raise NotAuthenticated()
    try:
        session = enrollments._lock_session(db, video_session_id)
        now = clock()
        if actor.role != Role.STUDENT:
            raise Forbidden("wrong_role", role=Role.STUDENT)
        if session.status == StoredStatus.DRAFT:
            raise Conflict("not_open")
        if not is_open(session, now):
            raise Conflict("waitlist_closed")
        enrolled = db.exec(
            select(Enrollment.id).where(
                Enrollment.session_id == session.id,
                Enrollment.student_id == actor.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
        ).first()
        if enrolled is not None:
            raise Conflict("already_enrolled")
        entry = _entry(db, session.id, actor.id)  # type: ignore[arg-type]
        if _is_live(db, entry):
            raise Conflict("already_waiting")
        if session.capacity is None or session.enrolled_count < session.capacity:
            raise Conflict("seats_available")
        if session.is_paid:  # a paid seat will need it: say so now, not at the promotion
            require_verified(actor)
        if entry is not None:  # back after leaving: a new row, at the end of the line
            db.delete(entry)
            db.flush()
        entry = WaitlistEntry(session_id=session.id, student_id=actor.id, joined_at=now)
        db.add(entry)
        db.flush()
        audit.record(
            db,
            actor_id=actor.id,
            action="waitlist.joined",
            target_type="session",
            target_id=session.id,
            at=now,
        )
        place = Place("waiting", _position(db, entry), waiting_count(db, session.id))  # type: ignore[arg-type]
        db.commit()
        return place
    except Exception:
        db.rollback()
        raise


def leave(*, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow) -> None:
    """Give one's place in the line up."""
    if actor is None:
        raise NotAuthenticated()
    try:
        session = enrollments._lock_session(db, video_session_id)
        now = clock()
        if actor.role != Role.STUDENT:
            raise Forbidden("wrong_role", role=Role.STUDENT)
        entry = _entry(db, session.id, actor.id)  # type: ignore[arg-type]
        if entry is None or not _is_live(db, entry):
            raise Conflict("not_waiting")
        entry.status, entry.ended_at = WaitlistStatus.LEFT, now
        db.add(entry)
        audit.record(
            db,
            actor_id=actor.id,
            action="waitlist.left",
            target_type="session",
            target_id=session.id,
            at=now,
        )
        db.commit()
    except Exception:
        db.rollback()
        raise


def place_of(
    *, db: Session, actor: User | None, video_session_id: int, clock: Clock = utcnow
) -> Place:
    """Where the actor stands in a session's line."""
    if actor is None:
        raise NotAuthenticated()
    session = db.get(VideoSession, video_session_id)
    if session is None or session.status == StoredStatus.DRAFT:
        raise NotFound("session_not_found")
    entry = _entry(db, session.id, actor.id)  # type: ignore[arg-type]
    count = waiting_count(db, session.id)  # type: ignore[arg-type]
    now = clock()
    if entry is None or not _is_live(db, entry):
        if entry is not None and entry.status == WaitlistStatus.CLOSED:
            return Place("closed", waiting=count)
        return Place("none", waiting=count, can_join=_may_join(db, session, actor, now))
    if not is_open(session, now):
        return Place("closed", waiting=count)
    return Place("waiting", _position(db, entry), count, entry.short_notified_at is not None)


def _may_join(db: Session, session: VideoSession, actor: User, now: datetime) -> bool:
    """`join` would take this student (short of the checks it repeats under the lock)."""
    if actor.role != Role.STUDENT or not is_open(session, now):
        return False
    if session.capacity is None or session.enrolled_count < session.capacity:
        return False
    enrolled = db.exec(
        select(Enrollment.id).where(
            Enrollment.session_id == session.id,
            Enrollment.student_id == actor.id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    ).first()
    return enrolled is None


# --- the teacher's view ------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """One student in line, as the session's owner sees them."""

    position: int
    student_id: int
    student_name: str
    joined_at: datetime
    short: bool


@dataclass(frozen=True)
class WaitingPage:
    items: list[Waiting]
    total: int
    page: int
    page_size: int
    open: bool


def waiting_list(
    *,
    db: Session,
    actor: User | None,
    video_session_id: int,
    page: int = 1,
    page_size: int = 20,
    clock: Clock = utcnow,
) -> WaitingPage:
    """One page of a session's line, in order, for its owner."""
    if actor is None:
        raise NotAuthenticated()
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    if session.teacher_id != actor.id:
        raise Forbidden("not_owner")
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    rows = db.exec(
        _line(session.id, User.full_name)  # type: ignore[arg-type]
        .join(User, User.id == WaitlistEntry.student_id)  # type: ignore[arg-type]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    first = (page - 1) * page_size + 1
    items = [
        Waiting(first + i, e.student_id, name, e.joined_at, e.short_notified_at is not None)
        for i, (e, name) in enumerate(rows)
    ]
    total = waiting_count(db, session.id)  # type: ignore[arg-type]
    return WaitingPage(items, total, page, page_size, is_open(session, clock()))


# --- promotions, inside the transaction that frees seats ----------------------------------------


def _free_seats(session: VideoSession) -> int:
    if session.capacity is None:
        return MAX_CANDIDATES
    return max(0, session.capacity - session.enrolled_count)


def _candidates(db: Session, session: VideoSession, seats: int, now: datetime) -> list[int]:
    """The students a promotion into `seats` free seats may reach, in line order: for a paid
    seat, up to `seats + MARGIN` who seem able to pay (read without a lock) and those before
    them, who will be skipped."""
    if seats <= 0 or not is_open(session, now):
        return []
    rows = db.exec(
        _line(session.id, Wallet.balance_cents)  # type: ignore[arg-type]
        .join(Wallet, Wallet.user_id == WaitlistEntry.student_id)  # type: ignore[arg-type]
        .limit(MAX_CANDIDATES)
    ).all()
    if not session.is_paid:
        return [entry.student_id for entry, _ in rows[:seats]]
    picked, able = [], 0
    for entry, balance in rows:
        picked.append(entry.student_id)
        able += balance >= session.price_cents
        if able >= seats + MARGIN:
            break
    return picked


def lock_wallets(
    db: Session, *, session: VideoSession, at: datetime, freeing: int, also: list[int]
) -> dict[int, Wallet]:
    """Lock, in one go and id order, the wallets of `also` and of the students a promotion into
    `freeing` more free seats may charge, by user id: for a caller that must lock its own wallet
    before the escrow (an unenroll's refund). Pass the result to `promote`."""
    seats = _free_seats(session) + freeing if session.is_paid else 0
    return wallets.lock_wallets_of(db, [*also, *_candidates(db, session, seats, at)])


def promote(
    db: Session,
    *,
    session: VideoSession,
    at: datetime,
    locked: dict[int, Wallet] | None = None,
) -> list[int]:
    """Give the free seats of a (locked) session to the first in line, in order; never commits.

    A paid seat is charged like any enrollment; a student who cannot pay is skipped, keeps their
    place and is told once to top up; the next one is tried. `locked`: the candidates' wallets,
    if the caller locked them (it must, once its transaction has touched the escrow); else they
    are locked here. A candidate whose wallet is not locked is left for a later change rather
    than locked out of order. Returns the promoted students' ids.
    """
    seats = _free_seats(session)
    wanted = _candidates(db, session, seats, at)
    if not wanted:
        return []
    if session.is_paid and locked is None:
        locked = wallets.lock_wallets_of(db, wanted)
    entries = {
        e.student_id: e
        for e in db.exec(
            select(WaitlistEntry).where(
                WaitlistEntry.session_id == session.id,
                WaitlistEntry.student_id.in_(wanted),  # type: ignore[attr-defined]
            )
        ).all()
    }
    students = {
        u.id: u
        for u in db.exec(select(User).where(User.id.in_(wanted))).all()  # type: ignore[union-attr]
    }
    promoted: list[int] = []
    for student_id in wanted:
        if session.capacity is not None and session.enrolled_count >= session.capacity:
            break
        entry, student = entries[student_id], students[student_id]
        wallet = (locked or {}).get(student_id) if session.is_paid else None
        if session.is_paid and wallet is None:
            break
        enrollment = db.exec(
            select(Enrollment).where(
                Enrollment.session_id == session.id, Enrollment.student_id == student_id
            )
        ).first()
        if enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE:
            continue  # cannot happen with the rows read under the session's lock; never twice
        try:
            result = enrollments.take_seat(
                db,
                session=session,
                student=student,
                enrollment=enrollment,
                at=at,
                wallet=wallet,
                confirmation="waitlist_promoted",  # the promotion is the seat's confirmation
            )
        except InsufficientFunds as short:
            if entry.short_notified_at is None:
                entry.short_notified_at = at
                db.add(entry)
                _notify(
                    db,
                    "waitlist_short",
                    student,
                    session,
                    at,
                    missing_cents=short.params.get("missing_cents", 0),
                )
            continue
        except DomainError:  # a paid seat for an unproven address: skipped, like a short one
            continue
        entry.status, entry.ended_at = WaitlistStatus.PROMOTED, at
        db.add(entry)
        audit.record(
            db,
            actor_id=None,
            action="waitlist.promoted",
            target_type="session",
            target_id=session.id,
            at=at,
            student_id=student_id,
            paid_cents=result.purchase.amount_cents if result.purchase else 0,
        )
        promoted.append(student_id)
    return promoted


def close(db: Session, *, session: VideoSession, at: datetime) -> int:
    """Empty a cancelled session's line and tell each student (never commits); returns how
    many were waiting."""
    waiting = db.exec(_line(session.id)).all()  # type: ignore[arg-type]
    if not waiting:
        return 0
    students = {
        u.id: u
        for u in db.exec(
            select(User).where(User.id.in_([e.student_id for e in waiting]))  # type: ignore[union-attr]
        ).all()
    }
    for entry in waiting:
        entry.status, entry.ended_at = WaitlistStatus.CLOSED, at
        db.add(entry)
        _notify(
            db,
            "waitlist_closed",
            students[entry.student_id],
            session,
            at,
            dedupe_key=f"waitlist_closed:{session.id}:{entry.student_id}",
            reason=session.cancel_reason or "",
        )
    return len(waiting)


def _notify(
    db: Session,
    kind: str,
    student: User,
    session: VideoSession,
    at: datetime,
    *,
    dedupe_key: str | None = None,
    **extra: Any,
) -> None:
    """A notice in the student notices' shape: the session's page, never its link."""
    outbox.enqueue(
        db,
        kind=kind,
        user=student,
        data=_data(session, student, **extra),
        at=at,
        dedupe_key=dedupe_key,
    )
