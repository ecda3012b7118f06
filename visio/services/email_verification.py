"""Proving an address: the link mailed at registration, a new one on request, and the change of
address, which applies only once the new address is proven.

A link carries a random token; only its SHA-256 is stored (`EmailToken`), with the address it
proves, valid VALID_FOR and spent by its first use. The raw token travels in the mail alone (the
outbox wipes it from the notice once sent). Links are throttled per account: at most
LINKS_PER_HOUR made in any hour, whatever asked for them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import EmailToken, Notice, User
from visio.services import accounts, audit, outbox, passwords, rate_limits
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, Throttled
from visio.services.rate_limits import Limit
from visio.settings import settings

VALID_FOR = timedelta(hours=48)
LINKS_PER_HOUR = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require_verified(user: User) -> None:
    """With VISIO_REQUIRE_VERIFIED_EMAIL on, refuse an account whose address is not proven."""
    if settings.require_verified_email and user.email_verified_at is None:
        raise Forbidden("email_unverified", email=user.email)


def send_link(db: Session, *, user: User, email: str, clock: Clock = utcnow) -> None:
    """Store a new single-use token for `email` and mail its link there (never commits)."""
    now = clock()
    token = secrets.token_urlsafe(32)
    db.add(
        EmailToken(
            user_id=user.id,  # type: ignore[arg-type]
            email=email,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + VALID_FOR,
        )
    )
    change = email != user.email
    data = {"token": token, "email": email, "change": change}
    outbox.enqueue(db, kind="verify_email", user=user, data=data, at=now, email=email)


def _check_throttle(db: Session, user: User, *, clock: Clock) -> None:
    since = clock() - timedelta(hours=1)
    made = db.exec(
        select(func.count())
        .select_from(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.created_at > since)
    ).one()
    if made >= LINKS_PER_HOUR:
        raise Throttled("email_link_throttled", minutes=60)


def _fresh(db: Session, actor: User | None) -> User:
    if actor is None:
        raise NotAuthenticated()
    user = db.get(User, actor.id, populate_existing=True)
    if user is None:
        raise NotAuthenticated()
    return user


def resend(*, db: Session, actor: User | None, clock: Clock = utcnow) -> str:
    """Mail a new verification link to the account's address: the address. Throttled."""
    user = _fresh(db, actor)
    if user.email_verified_at is not None:
        raise Conflict("email_already_verified")
    _check_throttle(db, user, clock=clock)
    send_link(db, user=user, email=user.email, clock=clock)
    db.commit()
    return user.email


def request_change(
    *, db: Session, actor: User | None, email: str, password: str, clock: Clock = utcnow
) -> str:
    """Ask to move the account to a new address: a link goes there; the account keeps its
    address until the link is opened. Returns the new address, normalized.

    An address that already has an account gets the same answer and no mail (the answer never
    tells who has an account); the attempt is audited.
    """
    user = _fresh(db, actor)
    new = accounts.checked_email(email)
    if new == user.email:
        raise InvalidInput("email_unchanged", field="email")
    _check_throttle(db, user, clock=clock)
    # Counted before the hash, with the password change's guesses: a stolen login cannot
    # guess the password through either form.
    password = password or ""
    if len(password) > passwords.MAX_LENGTH:  # refused before argon2 takes it all
        raise Forbidden("current_password_wrong", field="password")
    limit = Limit("change_password", settings.login_max_failures, settings.rate_window_minutes)
    [hit] = rate_limits.take_all(db, taken=[(limit, (str(user.id),))], clock=clock)
    if not passwords.verify_password(password, user.password_hash):
        raise Forbidden("current_password_wrong", field="password")
    rate_limits.reset(db, hit)
    now = clock()
    taken = db.exec(select(User.id).where(User.email == new)).first() is not None
    if not taken:
        send_link(db, user=user, email=new, clock=clock)
    audit.record(
        db,
        actor_id=user.id,
        action="user.email_change_requested",
        target_type="user",
        target_id=user.id,
        at=now,
        taken=taken,
    )
    db.commit()
    return new


def confirm(*, db: Session, token: str, clock: Clock = utcnow) -> User:
    """Spend a link: the account's address is proven, or (a change) the account moves to it.

    A change is refused if another account took the address meanwhile; it marks the address
    proven, forgets an earlier refusal, spends the account's other links, and tells the old
    address.
    """
    now = clock()
    row = (
        db.exec(select(EmailToken).where(EmailToken.token_hash == _hash(token))).first()
        if token and len(token) <= 200
        else None
    )
    if row is None or row.used_at is not None:
        raise InvalidInput("email_token_invalid", field="token")
    if row.expires_at <= now:
        raise InvalidInput("email_token_expired", field="token")
    user = db.get(User, row.user_id)
    if user is None:
        raise InvalidInput("email_token_invalid", field="token")
    try:
        # Spent in one conditional step: of two confirms racing with one link, one wins.
        spent = db.execute(
            update(EmailToken)
            .where(
                EmailToken.id == row.id,  # type: ignore[arg-type]
                EmailToken.used_at.is_(None),  # type: ignore[union-attr]
            )
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise InvalidInput("email_token_invalid", field="token")
        db.refresh(user)
        old = user.email
        if row.email != old:
            _move(db, user, new=row.email, now=now)
        elif user.email_verified_at is None:
            user.email_verified_at = now
        audit.record(
            db,
            actor_id=user.id,
            action="user.email_changed" if row.email != old else "user.email_verified",
            target_type="user",
            target_id=user.id,
            at=now,
        )
        db.commit()
    except IntegrityError:  # another account took the address at the same moment
        db.rollback()
        raise Conflict("email_taken", field="email") from None
    except BaseException:
        db.rollback()
        raise
    return user


def _move(db: Session, user: User, *, new: str, now: datetime) -> None:
    """Switch the account to its proven new address, inside the caller's transaction."""
    if db.exec(select(User.id).where(User.email == new, User.id != user.id)).first():
        raise Conflict("email_taken", field="email")
    old = user.email
    user.email = new
    user.email_verified_at = now
    user.email_refused_at = None
    db.flush()  # the unique address: a concurrent taker makes this fail, not a later step
    db.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,  # type: ignore[arg-type]
            EmailToken.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=now)
    )
    outbox.enqueue(db, kind="email_changed", user=user, data={"new_email": new}, at=now, email=old)


def note_registration_attempt(db: Session, *, user: User, clock: Clock = utcnow) -> None:
    """Tell an account's owner that someone tried to register their address, at most once a
    day (never commits)."""
    now = clock()
    key = f"registration_attempted:{user.id}:{now.date().isoformat()}"
    if db.exec(select(Notice.id).where(Notice.dedupe_key == key)).first() is None:
        outbox.enqueue(
            db, kind="registration_attempted", user=user, data={}, at=now, dedupe_key=key
        )
