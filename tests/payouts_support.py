"""Test helpers for payouts: an admin account, a funded teacher, a valid IBAN."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from tests.factories import make_teacher, make_user, top_up
from visio.clock import Clock
from visio.models import Role, User

IBAN = "FR7630006000011234567890189"  # a valid French IBAN (checksum 76)
IBAN_SPACED = "fr76 3000 6000 0112 3456 7890 189"
IBAN_DE = "DE89370400440532013000"


def make_admin(db: Session, *, clock: Clock, **kwargs: Any) -> User:
    """An admin: registration never makes one, so a registered account is promoted in place
    (as `python -m visio.admin create` does for the first one)."""
    user = make_user(db, role=Role.TEACHER, clock=clock, **kwargs)
    user.role = Role.ADMIN
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


def make_funded_teacher(db: Session, *, clock: Clock, amount_cents: int, **kwargs: Any) -> User:
    """A teacher whose wallet holds `amount_cents` (a top-up through the demo provider)."""
    teacher = make_teacher(db, clock=clock, **kwargs)
    top_up(db, user=teacher, amount_cents=amount_cents, clock=clock)
    return teacher
