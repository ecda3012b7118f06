"""Recurring series: occurrences are ordinary sessions linked by `series_id`.

Each occurrence keeps the first one's local wall-clock time in the session's zone: a weekly
18:00 Europe/Paris class stays at 18:00 across daylight-saving changes (its UTC instant moves).
Edits and cancellations of "all future ones" go through the one-session rules (session_edit,
sessions.cancel_session); enrolling in all remaining occurrences is one transaction: every seat
or none, one purchase per occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Purchase,
    PurchaseStatus,
    Role,
    Series,
    StoredStatus,
    User,
    VideoSession,
)
from visio.services import audit, locking, sessions, student_notices, wallets
from visio.services.accounts import require_role
from visio.services.enrollments import (
    EnrollResult,
    check_can_enroll,
    enrollment_deadline,
    take_seat,
)
from visio.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from visio.services.session_edit import update_session
from visio.services.sessions import Cancellation, SessionInput, effective_status

MAX_OCCURRENCES = 52
MIN_OCCURRENCES = 2
MAX_EVERY_DAYS = 365
WEEKLY = 7


@dataclass(frozen=True)
class Repeat:
    """How a series repeats: every `every_days` days, `count` times or until a local date."""

    every_days: int = WEEKLY
    count: int | None = None
    until: date | None = None  # the last day an occurrence may fall on, in the session's zone


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def occurrence_starts(first: datetime, tz: str, repeat: Repeat) -> list[datetime]:
    """The UTC starts of a series: the same local time in `tz` every `every_days` days.

    Raises `series_too_long` beyond MAX_OCCURRENCES; the arithmetic is done on the local wall
    clock, then each local time is placed in its own offset (a time that does not exist in a
    spring-forward gap comes out an hour later, as clocks show it).
    """
    if not _is_int(repeat.every_days) or not 1 <= repeat.every_days <= MAX_EVERY_DAYS:
        raise InvalidInput("repeat_every_invalid", field="repeat", min=1, max=MAX_EVERY_DAYS)
    if (repeat.count is None) == (repeat.until is None):
        raise InvalidInput("repeat_end_required", field="repeat")
    zone = ZoneInfo(tz)
    local = first.astimezone(zone).replace(tzinfo=None)
    if repeat.count is not None:
        if not _is_int(repeat.count):
            raise InvalidInput("number_invalid", field="repeat")
        if repeat.count > MAX_OCCURRENCES:
            raise InvalidInput("series_too_long", field="repeat", max=MAX_OCCURRENCES)
        if repeat.count < MIN_OCCURRENCES:
            raise InvalidInput("series_too_short", field="repeat", min=MIN_OCCURRENCES)
        count = repeat.count
    else:
        assert repeat.until is not None
        if repeat.until < local.date():
            raise InvalidInput("repeat_until_before_start", field="repeat")
        count = (repeat.until - local.date()).days // repeat.every_days + 1
        if count > MAX_OCCURRENCES:
            raise InvalidInput("series_too_long", field="repeat", max=MAX_OCCURRENCES)
        if count < MIN_OCCURRENCES:
            raise InvalidInput("series_too_short", field="repeat", min=MIN_OCCURRENCES)
    step = timedelta(days=repeat.every_days)
    return [_local_to_utc(local + k * step, zone) for k in range(count)]


def _local_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall-clock time in `zone` as aware UTC (fold 0: the first of a repeated
    hour; a time in a gap is read with the offset before the change)."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _shift_local(when: datetime, tz: str, delta: timedelta) -> datetime:
    """`when` moved by `delta` on the local wall clock of `tz` (not in absolute time)."""
    zone = ZoneInfo(tz)
    return _local_to_utc(when.astimezone(zone).replace(tzinfo=None) + delta, zone)


@dataclass(frozen=True)
class SeriesCreated:
    series: Series
    occurrences: list[VideoSession]


def moved_to(data: SessionInput, start: datetime) -> SessionInput:
    """An occurrence's fields: `data` at another start, its enrollment deadline and its
    minimum's decision time keeping their distance from the start."""

    def kept(instant: datetime | None) -> datetime | None:
        if not isinstance(instant, datetime) or instant.tzinfo is None:
            return instant  # nothing to keep: the session's validation refuses what is bad
        return start - (data.starts_at - instant)

    return replace(
        data,
        starts_at=start,
        enrollment_deadline=kept(data.enrollment_deadline),
        decide_at=kept(data.decide_at),
    )


def create_series(
    *,
    db: Session,
    actor: User,
    data: SessionInput,
    repeat: Repeat,
    publish: bool = False,
    clock: Clock = utcnow,
) -> SeriesCreated:
    """Create a series and all its occurrences (drafts, or published when asked), together."""
    require_role(actor, Role.TEACHER)
    now = clock()
    first = sessions.validate(data, now=now)  # the first occurrence's errors, as a session's
    starts = occurrence_starts(first.starts_at, first.timezone, repeat)
    try:
        series = Series(teacher_id=actor.id, every_days=repeat.every_days, created_at=now)
        db.add(series)
        db.flush()
        occurrences = [
            sessions.create_session(
                db=db,
                actor=actor,
                data=moved_to(data, start),
                clock=clock,
                series_id=series.id,
                commit=False,
            )
            for start in starts
        ]
        audit.record(
            db,
            actor_id=actor.id,
            action="series.created",
            target_type="series",
            target_id=series.id,
            at=now,
            every_days=repeat.every_days,
            occurrences=len(occurrences),
        )
        db.commit()
    except Exception:
        db.rollback()
        raise
    if publish:
        occurrences = [
            sessions.publish_session(db=db, actor=actor, video_session_id=o.id, clock=clock)  # type: ignore[arg-type]
            for o in occurrences
        ]
    return SeriesCreated(series, occurrences)


def _series(db: Session, series_id: int) -> Series:
    series = db.get(Series, series_id)
    if series is None:
        raise NotFound("series_not_found")
    return series


def _owned_series(db: Session, actor: User, series_id: int) -> Series:
    require_role(actor, Role.TEACHER)
    series = _series(db, series_id)
    if series.teacher_id != actor.id:
        raise Forbidden("not_owner")
    return series


def _occurrence_ids(db: Session, series_id: int, *where) -> list[int]:  # type: ignore[no-untyped-def]
    return list(
        db.exec(
            select(VideoSession.id)
            .where(VideoSession.series_id == series_id, *where)
            .order_by(VideoSession.starts_at, VideoSession.id)
        ).all()
    )


def _future_ids(db: Session, series: Series, from_session_id: int, now: datetime) -> list[int]:
    """The occurrence `from_session_id` and the later ones still to come (not cancelled)."""
    chosen = db.get(VideoSession, from_session_id)
    if chosen is None or chosen.series_id != series.id:
        raise NotFound("session_not_found")
    later = _occurrence_ids(
        db,
        series.id,  # type: ignore[arg-type]
        VideoSession.starts_at > chosen.starts_at,
        VideoSession.starts_at > now,
        VideoSession.status != StoredStatus.CANCELLED,
    )
    return [from_session_id, *later]


def publish_series(
    *, db: Session, actor: User, series_id: int, clock: Clock = utcnow
) -> list[VideoSession]:
    """Publish every draft occurrence still ahead (each through the one-session rule)."""
    series = _owned_series(db, actor, series_id)
    drafts = _drafts_ahead(db, series.id, clock())  # type: ignore[arg-type]
    published = [
        sessions.publish_session(db=db, actor=actor, video_session_id=i, clock=clock)
        for i in drafts
    ]
    if published:
        audit.record(
            db,
            actor_id=actor.id,
            action="series.published",
            target_type="series",
            target_id=series.id,
            at=clock(),
            sessions=[s.id for s in published],
        )
        db.commit()
    return published


def _drafts_ahead(db: Session, series_id: int, now: datetime) -> list[int]:
    return _occurrence_ids(
        db, series_id, VideoSession.status == StoredStatus.DRAFT, VideoSession.starts_at > now
    )


def drafts_ahead(*, db: Session, actor: User, series_id: int, clock: Clock = utcnow) -> int:
    """How many occurrences `publish_series` would publish now (the owner's "Publish all")."""
    _owned_series(db, actor, series_id)
    return len(_drafts_ahead(db, series_id, clock()))


def update_future(
    *,
    db: Session,
    actor: User,
    video_session_id: int,
    data: SessionInput,
    clock: Clock = utcnow,
) -> list[VideoSession]:
    """Apply an edit of one occurrence to it and every later one, all or none.

    A move of the chosen occurrence (its local date and time) moves each later one by as much on
    the local wall clock; every occurrence goes through the one-session edit rules, fair moves
    included for those with students. The first refusal rolls every occurrence back.
    """
    require_role(actor, Role.TEACHER)
    chosen = db.get(VideoSession, video_session_id)
    if chosen is None:
        raise NotFound("session_not_found")
    if data.timezone not in available_timezones():
        raise InvalidInput("timezone_invalid", field="timezone")
    if chosen.series_id is None:
        return [
            update_session(
                db=db, actor=actor, video_session_id=video_session_id, data=data, clock=clock
            )
        ]
    series = _owned_series(db, actor, chosen.series_id)
    ids = _future_ids(db, series, video_session_id, clock())
    db.rollback()
    try:
        locked = {s.id: s for s in locking.lock(db, VideoSession, ids)}
        now = clock()
        chosen = locked.get(video_session_id)
        if chosen is None:  # deleted meanwhile
            raise NotFound("session_not_found")
        if chosen.teacher_id != actor.id:
            raise Forbidden("not_owner")
        # The move, on the local wall clock of the new zone (same as the old, mostly).
        old_wall = chosen.starts_at.astimezone(ZoneInfo(chosen.timezone)).replace(tzinfo=None)
        new_wall = data.starts_at.astimezone(ZoneInfo(data.timezone)).replace(tzinfo=None)
        delta = new_wall - old_wall
        edited = []
        for session_id in ids:
            session = locked.get(session_id)
            if session is None or session.teacher_id != actor.id:
                continue  # deleted meanwhile
            if session_id == video_session_id:
                own = data
            else:
                if session.status == StoredStatus.CANCELLED or session.starts_at <= now:
                    continue
                wall = session.starts_at.astimezone(ZoneInfo(session.timezone))
                start = _local_to_utc(wall.replace(tzinfo=None) + delta, ZoneInfo(data.timezone))
                own = moved_to(data, start)
            edited.append(
                update_session(
                    db=db,
                    actor=actor,
                    video_session_id=session_id,
                    data=own,
                    clock=clock,
                    locked=session,
                )
            )
        audit.record(
            db,
            actor_id=actor.id,
            action="series.edited",
            target_type="series",
            target_id=series.id,
            at=now,
            sessions=[s.id for s in edited],
        )
        db.commit()
        return edited
    except Exception:
        db.rollback()
        raise


@dataclass(frozen=True)
class SeriesCancellation:
    cancelled: list[Cancellation]

    @property
    def refunded_count(self) -> int:
        return sum(c.refunded_count for c in self.cancelled)

    @property
    def refunded_cents(self) -> int:
        return sum(c.refunded_cents for c in self.cancelled)


def future_refund_preview(
    *, db: Session, actor: User, video_session_id: int, clock: Clock = utcnow
) -> tuple[int, int]:
    """What cancelling this occurrence and every later one would refund: the paid seats still
    held and their total (for the confirm dialog; the same occurrences as `cancel_rest`)."""
    require_role(actor, Role.TEACHER)
    chosen = db.get(VideoSession, video_session_id)
    if chosen is None:
        raise NotFound("session_not_found")
    if chosen.teacher_id != actor.id:
        raise Forbidden("not_owner")
    if chosen.series_id is None:
        return sessions.refund_preview(db=db, actor=actor, video_session_id=video_session_id)
    count, total = db.exec(
        select(func.count(), func.coalesce(func.sum(Purchase.amount_cents), 0))
        .join(VideoSession, VideoSession.id == Purchase.session_id)  # type: ignore[arg-type]
        .where(
            VideoSession.series_id == chosen.series_id,
            Purchase.status == PurchaseStatus.HELD,
            or_(
                VideoSession.id == chosen.id,
                and_(
                    VideoSession.starts_at > chosen.starts_at,
                    VideoSession.starts_at > clock(),
                    VideoSession.status != StoredStatus.CANCELLED,
                ),
            ),
        )
    ).one()
    return int(count), int(total)


def cancel_rest(
    *,
    db: Session,
    actor: User,
    series_id: int,
    reason: str,
    from_session_id: int | None = None,
    clock: Clock = utcnow,
) -> SeriesCancellation:
    """Cancel the occurrences still to come (from `from_session_id` on, if given), each through
    the one-session cancel: each refunded once. A retry cancels (and refunds) only what is left;
    each occurrence is its own transaction, so one interrupted halfway is finished by a retry.
    """
    sessions.check_cancel_reason(reason)
    series = _owned_series(db, actor, series_id)
    now = clock()
    if from_session_id is not None:
        ids = _future_ids(db, series, from_session_id, now)
    else:
        ids = _occurrence_ids(
            db,
            series.id,  # type: ignore[arg-type]
            VideoSession.starts_at > now,
            VideoSession.status != StoredStatus.CANCELLED,
        )
    done = []
    for session_id in ids:
        session = db.get(VideoSession, session_id)
        if session is None or session.status == StoredStatus.CANCELLED:
            continue
        try:
            done.append(
                sessions.cancel_session(
                    db=db, actor=actor, video_session_id=session_id, reason=reason, clock=clock
                )
            )
        except Conflict as error:
            # Cancelled or finished meanwhile (a racing cancel, the clock): nothing left to do.
            if error.code != "invalid_status":
                raise
    if done:
        audit.record(
            db,
            actor_id=actor.id,
            action="series.cancelled",
            target_type="series",
            target_id=series.id,
            at=now,
            sessions=[c.session.id for c in done],
        )
        db.commit()
    return SeriesCancellation(done)


@dataclass(frozen=True)
class SeriesEnrollment:
    results: list[EnrollResult]
    paid_cents: int
    wallet_balance_cents: int


def _open_for(session: VideoSession, now: datetime) -> bool:
    return session.status == StoredStatus.SCHEDULED and now < enrollment_deadline(session)


def enroll_series(
    *, db: Session, actor: User | None, series_id: int, clock: Clock = utcnow
) -> SeriesEnrollment:
    """A seat in every remaining occurrence the student does not hold yet: all or none.

    The occurrences are locked in id order (then the wallet, the escrow last, as everywhere),
    each is checked like a single enrollment, then every seat is taken and paid, one purchase per
    occurrence, in one transaction: one occurrence full, and nothing is charged or taken.
    """
    if actor is None:
        raise NotAuthenticated()
    _series(db, series_id)
    candidates = _occurrence_ids(
        db,
        series_id,
        VideoSession.status == StoredStatus.SCHEDULED,
        VideoSession.starts_at > clock(),
    )
    try:
        db.rollback()
        locked = locking.lock(db, VideoSession, candidates) if candidates else []
        now = clock()
        open_now = [s for s in locked if _open_for(s, now)]  # type: ignore[arg-type]
        held = set(
            db.exec(
                select(Enrollment.session_id).where(
                    Enrollment.student_id == actor.id,
                    Enrollment.session_id.in_([s.id for s in open_now]),  # type: ignore[union-attr]
                    Enrollment.status == EnrollmentStatus.ACTIVE,
                )
            ).all()
        )
        todo = sorted(
            (s for s in open_now if s.id not in held),
            key=lambda s: s.starts_at,  # type: ignore[attr-defined]
        )
        if not todo:
            raise Conflict("already_enrolled" if held else "not_open")
        for session in todo:
            check_can_enroll(session, actor, now)  # type: ignore[arg-type]
        total = sum(s.price_cents for s in todo if s.is_paid)  # type: ignore[attr-defined]
        wallet = None
        if total:
            wallet = wallets.lock_wallet_of(db, actor.id)  # type: ignore[arg-type]
            wallets.check_funds(wallet, total)
        earlier = {
            e.session_id: e
            for e in db.exec(
                select(Enrollment).where(
                    Enrollment.student_id == actor.id,
                    Enrollment.session_id.in_([s.id for s in todo]),  # type: ignore[union-attr]
                )
            ).all()
        }
        results = [
            take_seat(
                db,
                session=session,  # type: ignore[arg-type]
                student=actor,
                enrollment=earlier.get(session.id),  # type: ignore[arg-type]
                at=now,
                wallet=wallet,
                confirmation=None,  # one summary below, not one mail per occurrence
            )
            for session in todo
        ]
        audit.record(
            db,
            actor_id=actor.id,
            action="series.enrolled",
            target_type="series",
            target_id=series_id,
            at=now,
            sessions=[s.id for s in todo],  # type: ignore[attr-defined]
            paid_cents=total,
        )
        balance = results[-1].wallet_balance_cents
        student_notices.series_enrolled(
            db,
            student=actor,
            series_id=series_id,
            sessions=todo,  # type: ignore[arg-type]
            paid_cents=total,
            balance_cents=balance,
            at=now,
        )
        db.commit()
        return SeriesEnrollment(results, total, balance)
    except Exception:
        db.rollback()
        raise


@dataclass(frozen=True)
class Occurrence:
    session: VideoSession
    status: EffectiveStatus
    holds_seat: bool
    open: bool  # enrollment open now
    full: bool


@dataclass(frozen=True)
class SeriesView:
    series: Series
    teacher_id: int
    occurrences: list[Occurrence]

    @property
    def remaining(self) -> list[Occurrence]:
        """What "enroll in all remaining" would give the viewer: open ones they do not hold."""
        return [o for o in self.occurrences if o.open and not o.holds_seat]

    @property
    def remaining_cents(self) -> int:
        return sum(o.session.price_cents for o in self.remaining if o.session.is_paid)

    @property
    def any_full(self) -> bool:
        return any(o.full for o in self.remaining)

    @property
    def seats_held(self) -> int:
        return sum(1 for o in self.occurrences if o.holds_seat)


def series_view(
    *, db: Session, actor: User | None, series_id: int, clock: Clock = utcnow
) -> SeriesView:
    """The schedule of a series and which seats the viewer holds (drafts: the teacher only)."""
    if actor is None:
        raise NotAuthenticated()
    series = _series(db, series_id)
    now = clock()
    query = select(VideoSession).where(VideoSession.series_id == series.id)
    if series.teacher_id != actor.id:
        query = query.where(VideoSession.status != StoredStatus.DRAFT)
    rows = list(db.exec(query.order_by(VideoSession.starts_at, VideoSession.id)).all())
    if not rows:  # a series of drafts does not exist for anyone but its teacher
        raise NotFound("series_not_found")
    held = set(
        db.exec(
            select(Enrollment.session_id).where(
                Enrollment.student_id == actor.id,
                Enrollment.session_id.in_([s.id for s in rows]),  # type: ignore[union-attr]
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
        ).all()
    )
    occurrences = [
        Occurrence(
            session=s,
            status=effective_status(s, now),
            holds_seat=s.id in held,
            open=_open_for(s, now),
            full=s.capacity is not None and s.enrolled_count >= s.capacity,
        )
        for s in rows
    ]
    return SeriesView(series, series.teacher_id, occurrences)


REPEAT_MODES = ("none", "weekly", "days")


def parse_repeat(*, mode: str, every_days: str, end: str, count: str, until: str) -> Repeat | None:
    """The create dialog's "Repeat" choice as typed (None: a one-off session)."""
    if mode not in REPEAT_MODES or mode == "none":
        return None
    every = WEEKLY
    if mode == "days":
        text = (every_days or "").strip()
        if not text.isdigit() or len(text) > 3:
            raise InvalidInput("repeat_every_invalid", field="repeat", min=1, max=MAX_EVERY_DAYS)
        every = int(text)
    if end == "until":
        try:
            return Repeat(every_days=every, until=date.fromisoformat((until or "").strip()))
        except ValueError:
            raise InvalidInput("datetime_invalid", field="repeat") from None
    text = (count or "").strip()
    if not text.isdigit() or len(text) > 4:
        raise InvalidInput("number_invalid", field="repeat")
    return Repeat(every_days=every, count=int(text))
