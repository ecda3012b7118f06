"""Admins: the guard every admin use case starts with, and the operator's way to make one."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import Role, User
from visio.services import accounts, audit, passwords, wallets
from visio.services.errors import Conflict, InvalidInput
from visio.services.text import check_visible


def require_admin(actor: User | None) -> User:
    """The actor, if logged in as an admin: wrong_role (403) for anyone else."""
    return accounts.require_role(actor, Role.ADMIN)


def create_admin(
    *, db: Session, email: str, full_name: str, password: str, clock: Clock = utcnow
) -> User:
    """Make an admin account (verified: an operator vouches for it) and its wallet.

    Registration never makes admins; only an operator's command does. An email that already has
    an account is `email_taken` and nothing changes.
    """
    name = check_visible(" ".join((full_name or "").split()), field="full_name")
    if not 2 <= len(name) <= 120:
        raise InvalidInput("full_name_too_short", field="full_name", min=2)
    normalized = accounts.checked_email(email)
    problem = passwords.weakness(password or "", email=normalized, full_name=name)
    if problem:
        raise InvalidInput(
            problem, field="password", min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH
        )
    if db.exec(select(User.id).where(User.email == normalized)).first() is not None:
        raise Conflict("email_taken", field="email")
    now = clock()
    user = User(
        email=normalized,
        full_name=name,
        password_hash=passwords.hash_password(password),
        role=Role.ADMIN,
        created_at=now,
        email_verified_at=now,
    )
    try:
        db.add(user)
        db.flush()
        wallets.open_wallet(db, user_id=user.id, at=now)
        audit.record(
            db,
            actor_id=None,
            action="admin.created",
            target_type="user",
            target_id=user.id,
            at=now,
        )
        db.commit()
    except IntegrityError:  # made at the same moment by another command
        db.rollback()
        raise Conflict("email_taken", field="email") from None
    return user
