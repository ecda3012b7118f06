"""Video sessions: create, publish, cancel (with refunds), delete; the effective status."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import (
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Material,
    Platform,
    Purchase,
    PurchaseStatus,
    Role,
    SessionTag,
    StoredStatus,
    Tag,
    User,
    VideoSession,
)
from visio.services import audit, locking, student_notices, waitlist, wallets
from visio.services.accounts import require_role
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from visio.services.links import check_platform_link
from visio.services.materials import delete_stored_files
from visio.services.text import check_visible
from visio.settings import settings

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MAX = 5000
DURATION_MIN, DURATION_MAX = 5, 480
CAPACITY_MIN, CAPACITY_MAX = 1, 10_000
PRICE_MIN_CENTS, PRICE_MAX_CENTS = 50, 1_000_000
TAGS_MAX, TAG_MAX_LENGTH = 10, 30
CANCEL_REASON_MAX = 500
MAX_DAYS_AHEAD = 730  # sessions are planned at most two years ahead
DECIDE_BEFORE_START = timedelta(hours=24)  # the default "decide by" of a minimum


@dataclass
class SessionInput:
    """What a teacher types to create or edit a session; `starts_at` is aware."""

    title: str
    starts_at: datetime
    duration_minutes: int
    timezone: str
    description: str = ""
    platform: str = Platform.JITSI
    link: str = ""
    is_paid: bool = False
    price_cents: int = 0
    capacity: int | None = None
    enrollment_deadline: datetime | None = None
    tags: list[str] = field(default_factory=list)
    min_participants: int | None = None  # None: the session runs whoever enrolls
    decide_at: datetime | None = None  # None with a minimum: DECIDE_BEFORE_START before the start


def effective_status(session: VideoSession, now: datetime) -> EffectiveStatus:
    """The status users see: a scheduled session is ongoing, then finished, by the clock."""
    if session.status == StoredStatus.SCHEDULED:
        if now >= session.ends_at:
            return EffectiveStatus.FINISHED
        if now >= session.starts_at:
            return EffectiveStatus.ONGOING
    return EffectiveStatus(session.status)


def planned_schedule(session: VideoSession) -> tuple[datetime, datetime]:
    """The start and end the session's students were promised (its current ones before that)."""
    return (
        session.planned_starts_at or session.starts_at,
        session.planned_ends_at or session.ends_at,
    )


def parse_local_datetime(value: str, tz: str, *, field: str) -> datetime:
    """An ISO local date-time typed in zone `tz`, as aware UTC."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput("timezone_invalid", field="timezone") from None
    try:
        local = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("datetime_invalid", field=field) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def normalize_tags(tags: list[str]) -> list[str]:
    """Tags lower-cased, trimmed and de-duplicated, in the order given; bounds checked."""
    seen: list[str] = []
    for raw in tags:
        tag = " ".join((raw or "").split()).lower().lstrip("#")
        if not tag:
            continue
        check_visible(tag, field="tags")
        if len(tag) > TAG_MAX_LENGTH:
            raise InvalidInput("tag_too_long", field="tags", max=TAG_MAX_LENGTH, tag=tag[:40])
        if tag not in seen:
            seen.append(tag)
    if len(seen) > TAGS_MAX:
        raise InvalidInput("too_many_tags", field="tags", max=TAGS_MAX)
    return seen


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(
    data: SessionInput,
    *,
    now: datetime,
    start_changed: bool = True,
    deadline_changed: bool = True,
    decide_changed: bool = True,
) -> SessionInput:
    """Check every bound of a session's fields; returns the cleaned values.

    On an edit, a start, deadline or decision time left as it was is not required to still be
    in the future.
    """
    title = check_visible(" ".join((data.title or "").split()), field="title")
    if len(title) < TITLE_MIN:
        raise InvalidInput("title_too_short", field="title", min=TITLE_MIN)
    if len(title) > TITLE_MAX:
        raise InvalidInput("title_too_long", field="title", max=TITLE_MAX)
    description = (data.description or "").strip()
    for name, text in (("title", title), ("description", description)):
        if "\x00" in text:  # PostgreSQL refuses NUL in text: say so instead of failing later
            raise InvalidInput("text_invalid", field=name)
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput("description_too_long", field="description", max=DESCRIPTION_MAX)
    if data.timezone not in available_timezones():
        raise InvalidInput("timezone_invalid", field="timezone")
    if not isinstance(data.starts_at, datetime) or data.starts_at.tzinfo is None:
        raise InvalidInput("datetime_invalid", field="starts_at")
    if start_changed and data.starts_at <= now:
        raise InvalidInput("start_in_past", field="starts_at")
    if start_changed and data.starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput("start_too_far", field="starts_at", days=MAX_DAYS_AHEAD)
    if not _is_int(data.duration_minutes):
        raise InvalidInput("number_invalid", field="duration_minutes")
    if not DURATION_MIN <= data.duration_minutes <= DURATION_MAX:
        raise InvalidInput(
            "duration_out_of_range", field="duration_minutes", min=DURATION_MIN, max=DURATION_MAX
        )
    if data.platform not in tuple(Platform):
        raise InvalidInput("platform_invalid", field="platform")
    link = "" if data.platform == Platform.JITSI else check_platform_link(data.platform, data.link)
    if data.capacity is not None and not _is_int(data.capacity):
        raise InvalidInput("number_invalid", field="capacity")
    if data.capacity is not None and not CAPACITY_MIN <= data.capacity <= CAPACITY_MAX:
        raise InvalidInput(
            "capacity_out_of_range", field="capacity", min=CAPACITY_MIN, max=CAPACITY_MAX
        )
    deadline = data.enrollment_deadline
    if deadline is not None and (not isinstance(deadline, datetime) or deadline.tzinfo is None):
        raise InvalidInput("datetime_invalid", field="enrollment_deadline")
    if deadline is not None and deadline > data.starts_at:
        raise InvalidInput("deadline_after_start", field="enrollment_deadline")
    if deadline is not None and deadline_changed and deadline <= now:
        raise InvalidInput("deadline_in_past", field="enrollment_deadline")
    if not data.is_paid and data.price_cents not in (0, None):
        # A price on a free session is a mistake somewhere: say so rather than drop it.
        raise InvalidInput("price_without_paid", field="price")
    price = data.price_cents if data.is_paid else 0
    if data.is_paid and not _is_int(price):
        raise InvalidInput("number_invalid", field="price")
    if data.is_paid and not PRICE_MIN_CENTS <= price <= PRICE_MAX_CENTS:
        raise InvalidInput(
            "price_out_of_range",
            field="price",
            min_cents=PRICE_MIN_CENTS,
            max_cents=PRICE_MAX_CENTS,
        )
    minimum, decide_at = check_minimum(data, now=now, decide_changed=decide_changed)
    return SessionInput(
        title=title,
        description=description,
        starts_at=data.starts_at,
        duration_minutes=data.duration_minutes,
        timezone=data.timezone,
        platform=data.platform,
        link=link,
        is_paid=data.is_paid,
        price_cents=price,
        capacity=data.capacity,
        enrollment_deadline=deadline,
        tags=normalize_tags(list(data.tags or [])),
        min_participants=minimum,
        decide_at=decide_at,
    )


def check_minimum(
    data: SessionInput, *, now: datetime, decide_changed: bool = True
) -> tuple[int | None, datetime | None]:
    """The minimum of participants and when it is decided (default: a day before the start).

    Without a minimum there is nothing to decide: the decision time goes with it.
    """
    minimum = data.min_participants
    if minimum is None:
        return None, None
    if not _is_int(minimum):
        raise InvalidInput("number_invalid", field="min_participants")
    if not CAPACITY_MIN <= minimum <= CAPACITY_MAX:
        raise InvalidInput(
            "min_participants_out_of_range",
            field="min_participants",
            min=CAPACITY_MIN,
            max=CAPACITY_MAX,
        )
    if data.capacity is not None and _is_int(data.capacity) and minimum > data.capacity:
        raise InvalidInput("min_above_capacity", field="min_participants", capacity=data.capacity)
    decide_at = data.decide_at or data.starts_at - DECIDE_BEFORE_START
    if not isinstance(decide_at, datetime) or decide_at.tzinfo is None:
        raise InvalidInput("datetime_invalid", field="decide_at")
    if decide_at >= data.starts_at:
        raise InvalidInput("decide_at_after_start", field="decide_at")
    if decide_changed and decide_at <= now:
        raise InvalidInput("decide_at_in_past", field="decide_at")
    return minimum, decide_at


def jitsi_link() -> str:
    return f"https://{settings.jitsi_domain}/visio-{secrets.token_urlsafe(18)}"


def set_tags(db: Session, session_id: int, names: list[str]) -> None:
    for old in db.exec(select(SessionTag).where(SessionTag.session_id == session_id)).all():
        db.delete(old)
    for name in names:
        tag = db.exec(select(Tag).where(Tag.name == name)).first()
        if tag is None:
            tag = Tag(name=name)
            db.add(tag)
            db.flush()
        db.add(SessionTag(session_id=session_id, tag_id=tag.id))


def create_session(
    *,
    db: Session,
    actor: User,
    data: SessionInput,
    clock: Clock = utcnow,
    series_id: int | None = None,
    commit: bool = True,
) -> VideoSession:
    """Create a draft session; a Jitsi session gets its unguessable room at once.

    A series' occurrences pass their `series_id` and `commit=False`: they are created together,
    in the series' one transaction (see series.create_series).
    """
    require_role(actor, Role.TEACHER)
    now = clock()
    clean = validate(data, now=now)
    session = VideoSession(
        teacher_id=actor.id,
        series_id=series_id,
        title=clean.title,
        description=clean.description,
        starts_at=clean.starts_at,
        ends_at=clean.starts_at + timedelta(minutes=clean.duration_minutes),
        duration_minutes=clean.duration_minutes,
        timezone=clean.timezone,
        platform=clean.platform,
        link=clean.link or jitsi_link(),
        status=StoredStatus.DRAFT,
        is_paid=clean.is_paid,
        price_cents=clean.price_cents,
        currency=settings.currency,
        capacity=clean.capacity,
        enrollment_deadline=clean.enrollment_deadline,
        min_participants=clean.min_participants,
        decide_at=clean.decide_at,
        created_at=now,
        updated_at=now,
    )
    db.add(session)
    db.flush()
    set_tags(db, session.id, clean.tags)
    audit.record(
        db,
        actor_id=actor.id,
        action="session.created",
        target_type="session",
        target_id=session.id,
        at=now,
        title=clean.title,
    )
    if commit:
        db.commit()
    return session


def lock_owned(db: Session, actor: User, session_id: int) -> VideoSession:
    """Lock the session row, then check the actor owns it (lock first, then check)."""
    require_role(actor, Role.TEACHER)
    db.rollback()
    rows = locking.lock(db, VideoSession, [session_id])
    if not rows:
        raise NotFound("session_not_found")
    session = rows[0]
    if session.teacher_id != actor.id:
        db.rollback()
        raise Forbidden("not_owner")
    return session


def _lock_cancellable(db: Session, actor: User, session_id: int) -> VideoSession:
    """The owner's session, or any session for an admin (admins cancel, nothing else), locked."""
    if actor is None or actor.role != Role.ADMIN:
        return lock_owned(db, actor, session_id)
    db.rollback()
    rows = locking.lock(db, VideoSession, [session_id])
    if not rows:
        raise NotFound("session_not_found")
    return rows[0]  # type: ignore[return-value]


def publish_session(
    *, db: Session, actor: User, video_session_id: int, clock: Clock = utcnow
) -> VideoSession:
    """Draft -> scheduled, while the start is still ahead."""
    try:
        session = lock_owned(db, actor, video_session_id)
        now = clock()
        if session.status != StoredStatus.DRAFT:
            raise Conflict("invalid_status", status=effective_status(session, now).value)
        if session.starts_at <= now:
            raise Conflict("start_in_past")
        if session.is_paid and session.price_cents < PRICE_MIN_CENTS:
            raise Conflict("price_required")
        if session.decide_at is not None and session.decide_at <= now:  # decided at once, empty
            raise Conflict("decide_at_in_past", field="decide_at")
        session.status = StoredStatus.SCHEDULED
        session.published_at = session.updated_at = now
        session.planned_starts_at, session.planned_ends_at = session.starts_at, session.ends_at
        audit.record(
            db,
            actor_id=actor.id,
            action="session.published",
            target_type="session",
            target_id=session.id,
            at=now,
        )
        db.commit()
        return session
    except Exception:
        db.rollback()
        raise


@dataclass(frozen=True)
class Cancellation:
    session: VideoSession
    refunded_count: int
    refunded_cents: int


def refund_preview(*, db: Session, actor: User, video_session_id: int) -> tuple[int, int]:
    """How many students a cancel would refund, and how much in all (for the confirm dialog)."""
    require_role(actor, Role.TEACHER)
    session = db.get(VideoSession, video_session_id)
    if session is None:
        raise NotFound("session_not_found")
    if session.teacher_id != actor.id:
        raise Forbidden("not_owner")
    count, total = db.exec(
        select(func.count(), func.coalesce(func.sum(Purchase.amount_cents), 0)).where(
            Purchase.session_id == video_session_id, Purchase.status == PurchaseStatus.HELD
        )
    ).one()
    return int(count), int(total)


def check_cancel_reason(reason: str) -> str:
    """The cleaned cancellation reason (required, at most CANCEL_REASON_MAX characters)."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput("cancel_reason_required", field="reason")
    if len(text) > CANCEL_REASON_MAX:
        raise InvalidInput("cancel_reason_too_long", field="reason", max=CANCEL_REASON_MAX)
    return text


def cancel_session(
    *,
    db: Session,
    actor: User,
    video_session_id: int,
    reason: str,
    clock: Clock = utcnow,
    locked: VideoSession | None = None,
    automatic: bool = False,
) -> Cancellation:
    """Cancel a draft or upcoming session and refund every held payment exactly once.

    `locked`: the session's row, already locked (and checked) by the caller in this
    transaction, which this call then commits: the automatic cancel of a minimum not reached.
    `automatic`: the app cancels, not the teacher (too few participants): the students are
    told so, rather than given the teacher's reason.
    """
    text = check_cancel_reason(reason)
    try:
        session = locked if locked is not None else _lock_cancellable(db, actor, video_session_id)
        now = clock()
        status = effective_status(session, now)
        if status not in (
            EffectiveStatus.DRAFT,
            EffectiveStatus.SCHEDULED,
            EffectiveStatus.ONGOING,
        ):
            raise Conflict("invalid_status", status=status.value)
        held = db.exec(
            select(Purchase).where(
                Purchase.session_id == session.id, Purchase.status == PurchaseStatus.HELD
            )
        ).all()
        refunded_cents = _refund(db, session, held, now)
        students = student_notices.active_students(db, session.id)  # type: ignore[arg-type]
        for enrollment in db.exec(
            select(Enrollment).where(
                Enrollment.session_id == session.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all():
            enrollment.status = EnrollmentStatus.CANCELLED
            enrollment.ended_at = now
            db.add(enrollment)
        session.enrolled_count = 0  # it counts active enrollments; theirs just ended
        session.status = StoredStatus.CANCELLED
        session.cancel_reason = text
        session.cancelled_at = session.updated_at = now
        audit.record(
            db,
            actor_id=actor.id,
            action="session.cancelled",
            target_type="session",
            target_id=session.id,
            at=now,
            reason=text,
            refunded_count=len(held),
            refunded_cents=refunded_cents,
            **({"automatic": True} if automatic else {}),
        )
        refunds: dict[int, int] = {}
        for purchase in held:
            refunds[purchase.student_id] = refunds.get(purchase.student_id, 0) + (
                purchase.amount_cents
            )
        student_notices.session_cancelled(
            db, students=students, session=session, refunds=refunds, at=now, automatic=automatic
        )
        waitlist.close(db, session=session, at=now)
        db.commit()
        return Cancellation(
            session=session, refunded_count=len(held), refunded_cents=refunded_cents
        )
    except Exception:
        db.rollback()
        raise


def _refund(db: Session, session: VideoSession, held: list[Purchase], now: datetime) -> int:
    """Give held payments back from escrow (students' wallets, then escrow); returns the total."""
    if not held:
        return 0
    student_wallets = wallets.lock_wallets_of(db, [p.student_id for p in held])
    escrow = wallets.lock_escrow(db)
    total = 0
    for purchase in held:
        wallet = student_wallets[purchase.student_id]
        wallets.refund_purchase(db, purchase, escrow=escrow, student_wallet=wallet, at=now)
        audit.record(
            db,
            actor_id=None,
            action="purchase.refunded",
            target_type="purchase",
            target_id=purchase.id,
            at=now,
            session_id=session.id,
            student_id=purchase.student_id,
            amount_cents=purchase.amount_cents,
        )
        total += purchase.amount_cents
    return total


def delete_session(
    *, db: Session, actor: User, video_session_id: int, clock: Clock = utcnow
) -> None:
    """Delete a draft, or a session nobody ever enrolled in; otherwise cancel it instead."""
    try:
        session = lock_owned(db, actor, video_session_id)
        ever_enrolled = db.exec(
            select(func.count()).select_from(Enrollment).where(Enrollment.session_id == session.id)
        ).one()
        if session.status != StoredStatus.DRAFT and ever_enrolled:
            raise Conflict("delete_has_enrollments")
        now = clock()
        for link in db.exec(select(SessionTag).where(SessionTag.session_id == session.id)).all():
            db.delete(link)
        stored = [
            name
            for name in db.exec(
                select(Material.storage_name).where(Material.session_id == session.id)
            ).all()
            if name
        ]
        audit.record(
            db,
            actor_id=actor.id,
            action="session.deleted",
            target_type="session",
            target_id=session.id,
            at=now,
            title=session.title,
        )
        db.delete(session)
        db.commit()
    except Exception:
        db.rollback()
        raise
    delete_stored_files(stored)
