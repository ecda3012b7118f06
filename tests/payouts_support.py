"""Test helpers for payouts: a funded teacher, valid IBANs."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from tests.factories import make_teacher, top_up
from visio.clock import Clock
from visio.models import User

IBAN = "FR7630006000011234567890189"  # a valid French IBAN (checksum 76)
IBAN_SPACED = "fr76 3000 6000 0112 3456 7890 189"
IBAN_DE = "DE89370400440532013000"


def make_funded_teacher(db: Session, *, clock: Clock, amount_cents: int, **kwargs: Any) -> User:
    """A teacher whose wallet holds `amount_cents` (a top-up through the demo provider)."""
    teacher = make_teacher(db, clock=clock, **kwargs)
    top_up(db, user=teacher, amount_cents=amount_cents, clock=clock)
    return teacher
