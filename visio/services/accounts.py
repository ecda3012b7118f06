"""Accounts: register, log in, log out, resolve a login token, preferences."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import available_timezones

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import AuthSession, LoginFailure, Role, User, Wallet
from visio.services import audit, passwords, wallets
from visio.services.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    Throttled,
)
from visio.settings import settings

LOCALES = ("fr", "en")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


@dataclass(frozen=True)
class Login:
    """What a successful login hands back: the raw token (shown once) and the user."""

    token: str
    user: User


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(
    *,
    db: Session,
    full_name: str,
    email: str,
    password: str,
    role: str,
    locale: str | None = None,
    clock: Clock = utcnow,
) -> User:
    """Create a teacher or student account and its wallet."""
    name = " ".join((full_name or "").split())
    address = normalize_email(email)
    if len(name) < 2:
        raise InvalidInput("full_name_too_short", field="full_name", min=2)
    if len(name) > 120:
        raise InvalidInput("full_name_too_long", field="full_name", max=120)
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidInput("email_invalid", field="email")
    if role not in (Role.TEACHER, Role.STUDENT):
        raise InvalidInput("role_invalid", field="role")
    problem = passwords.weakness(password or "", email=address, full_name=name)
    if problem:
        raise InvalidInput(problem, field="password", min=passwords.MIN_LENGTH)
    if db.exec(select(User.id).where(User.email == address)).first() is not None:
        raise Conflict("email_taken", field="email")

    now = clock()
    user = User(
        email=address,
        full_name=name,
        password_hash=passwords.hash_password(password),
        role=role,
        locale=locale if locale in LOCALES else None,
        created_at=now,
    )
    db.add(user)
    try:
        db.flush()
        wallets.open_wallet(db, user_id=user.id, at=now)
        audit.record(
            db,
            actor_id=user.id,
            action="user.registered",
            target_type="user",
            target_id=user.id,
            at=now,
            role=role,
        )
        db.commit()
    except IntegrityError:  # the same email registered at the same moment
        db.rollback()
        raise Conflict("email_taken", field="email") from None
    return user


def login(*, db: Session, email: str, password: str, clock: Clock = utcnow) -> Login:
    """Check the credentials and open a login session; failures for an email are throttled."""
    address = normalize_email(email)
    now = clock()
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    failures = db.exec(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email == address, LoginFailure.failed_at >= window_start)
    ).one()
    if failures >= settings.login_max_failures:
        raise Throttled(minutes=settings.login_window_minutes)

    user = db.exec(select(User).where(User.email == address)).first() if address else None
    # Verify against a dummy hash for an unknown email so that both cases cost the same.
    ok = passwords.verify_password(
        password or "", user.password_hash if user else passwords.dummy_hash()
    )
    if not (ok and user):
        db.add(LoginFailure(email=address[:254], failed_at=now))
        db.commit()
        raise InvalidCredentials()

    token = secrets.token_urlsafe(32)
    db.add(
        AuthSession(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(hours=settings.token_ttl_hours),
        )
    )
    db.exec(delete(LoginFailure).where(LoginFailure.email == address))
    audit.record(
        db, actor_id=user.id, action="user.logged_in", target_type="user", target_id=user.id, at=now
    )
    db.commit()
    return Login(token=token, user=user)


def user_for_token(*, db: Session, token: str | None, clock: Clock = utcnow) -> User | None:
    """The user a login token belongs to, or None if it is unknown, revoked or expired."""
    if not token:
        return None
    return db.exec(select(User).join(AuthSession).where(*_live_token(token, clock))).first()


def login_for_token(*, db: Session, token: str | None, clock: Clock = utcnow) -> AuthSession | None:
    """The live login (neither revoked nor expired) that a token opens, or None."""
    if not token:
        return None
    return db.exec(select(AuthSession).where(*_live_token(token, clock))).first()


def user_and_balance(
    *, db: Session, token: str | None, clock: Clock = utcnow
) -> tuple[User, int] | None:
    """`user_for_token` and the user's wallet balance, in one query: what every page shows."""
    if not token:
        return None
    found = db.exec(
        select(User, Wallet.balance_cents)
        .join(AuthSession)
        .join(Wallet, Wallet.user_id == User.id)
        .where(*_live_token(token, clock))
    ).first()
    return None if found is None else (found[0], int(found[1]))


def _live_token(token: str, clock: Clock) -> tuple[ColumnElement[bool], ...]:
    """The login session of a token, if neither revoked nor expired."""
    return (
        AuthSession.token_hash == _token_hash(token),
        AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
        AuthSession.expires_at > clock(),
    )


def authenticate(*, db: Session, token: str | None, clock: Clock = utcnow) -> User:
    """Like `user_for_token`, but a missing user is an error."""
    user = user_for_token(db=db, token=token, clock=clock)
    if user is None:
        raise NotAuthenticated()
    return user


def logout(*, db: Session, token: str | None, clock: Clock = utcnow) -> None:
    """Revoke a login token; unknown or already revoked tokens are ignored."""
    if not token:
        return
    session = db.exec(
        select(AuthSession).where(
            AuthSession.token_hash == _token_hash(token),
            AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if session is None:
        return
    now = clock()
    session.revoked_at = now
    audit.record(
        db,
        actor_id=session.user_id,
        action="user.logged_out",
        target_type="user",
        target_id=session.user_id,
        at=now,
    )
    db.commit()


def update_preferences(
    *,
    db: Session,
    actor: User,
    locale: str | None = None,
    timezone: str | None = None,
    clock: Clock = utcnow,
) -> User:
    """Remember the account's language and time zone (None leaves a value as it is)."""
    user = db.get(User, actor.id)
    if user is None:
        raise NotAuthenticated()
    if locale is not None and locale not in LOCALES:
        raise InvalidInput("locale_invalid", field="locale")
    if timezone is not None and timezone not in available_timezones():
        raise InvalidInput("timezone_invalid", field="timezone")
    changed = {}
    if locale is not None and locale != user.locale:
        user.locale = changed["locale"] = locale
    if timezone is not None and timezone != user.timezone:
        user.timezone = changed["timezone"] = timezone
    if changed:
        audit.record(
            db,
            actor_id=user.id,
            action="user.preferences_changed",
            target_type="user",
            target_id=user.id,
            at=clock(),
            **changed,
        )
        db.commit()
    return user


def require_role(actor: User | None, role: str) -> User:
    """The actor, if logged in with the given role."""
    if actor is None:
        raise NotAuthenticated()
    if actor.role != role:
        raise Forbidden("wrong_role", role=role)
    return actor
