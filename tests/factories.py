"""Test data made through the real services, with random unique values."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

import visio.models  # noqa: F401  (registers every table in the metadata)
from visio.clock import Clock
from visio.models import AuditEvent, Role, User, VideoSession
from visio.services import accounts, sessions, wallets
from visio.services.sessions import SessionInput

STRONG_PASSWORD = "Violet-Harbour-Lantern-42"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.org"


def make_user(
    db: Session,
    *,
    role: str,
    clock: Clock,
    email: str | None = None,
    full_name: str | None = None,
    password: str = STRONG_PASSWORD,
    verified: bool = True,
) -> User:
    """A registered account (with its wallet), through `accounts.register` (no client address:
    test set-up is not throttled); its address proven unless `verified=False`, so that no
    verification mail waits in the outbox."""
    user = accounts.register(
        db=db,
        full_name=full_name or f"{role.title()} {uuid.uuid4().hex[:6]}",
        email=email or unique_email(role),
        password=password,
        role=role,
        address=None,
        verified=verified,
        clock=clock,
    ).user
    assert user is not None, "the email already had an account"
    return user


def make_teacher(db: Session, *, clock: Clock, **kwargs: Any) -> User:
    return make_user(db, role=Role.TEACHER, clock=clock, **kwargs)


def make_student(db: Session, *, clock: Clock, **kwargs: Any) -> User:
    return make_user(db, role=Role.STUDENT, clock=clock, **kwargs)


def make_admin(db: Session, *, clock: Clock, email: str | None = None) -> User:
    """An admin account, made the operator's way (`admins.create_admin`)."""
    from visio.services import admins

    return admins.create_admin(
        db=db,
        email=email or unique_email("admin"),
        full_name=f"Admin {uuid.uuid4().hex[:6]}",
        password=STRONG_PASSWORD,
        clock=clock,
    )


def session_input(clock: Clock, **overrides: Any) -> SessionInput:
    """A valid free Jitsi session two days after the clock's now; override any field."""
    values: dict[str, Any] = {
        "title": f"Algebra revision {uuid.uuid4().hex[:6]}",
        "starts_at": clock() + timedelta(days=2),
        "duration_minutes": 60,
        "timezone": "Europe/Paris",
        "description": "Quadratic equations, worked examples.",
    }
    values.update(overrides)
    return SessionInput(**values)


def make_session(
    db: Session, *, teacher: User, clock: Clock, publish: bool = False, **overrides: Any
) -> VideoSession:
    """A draft session of `teacher` (published when asked), through the services."""
    created = sessions.create_session(
        db=db, actor=teacher, data=session_input(clock, **overrides), clock=clock
    )
    if publish:
        return sessions.publish_session(
            db=db, actor=teacher, video_session_id=created.id, clock=clock
        )
    return created


def top_up(db: Session, *, user: User, amount_cents: int, clock: Clock) -> wallets.TopUp:
    """Credit `user`'s wallet through the demo payment provider."""
    return wallets.top_up(
        db=db, actor=user, amount_cents=amount_cents, clock=clock, provider_name="demo"
    )


def table_counts(db: Session) -> dict[str, int]:
    """How many rows every table holds: equal before and after a refused action."""
    db.rollback()  # read what is committed, not what a refused call may have left pending
    return {
        table.name: db.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def audit_actions(db: Session, **where: Any) -> list[str]:
    """The audit trail's actions, oldest first, optionally filtered by column values."""
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(db.exec(query).all())


def fresh(db: Session, model: type[SQLModel], row_id: int) -> dict[str, Any] | None:
    """A row's committed column values, read anew from the database (None when it is gone)."""
    db.rollback()
    db.expire_all()
    row = db.get(model, row_id)
    return None if row is None else row.model_dump()


# --- enrollment and money helpers -----------------------------------------------------------


def make_funded_student(db: Session, *, clock: Clock, amount_cents: int, **kwargs: Any) -> User:
    """A student whose wallet was topped up with `amount_cents` (through the demo provider)."""
    student = make_student(db, clock=clock, **kwargs)
    top_up(db, user=student, amount_cents=amount_cents, clock=clock)
    return student


def balances(db: Session, *users: User) -> dict[str, int]:
    """Committed balances of the given users' wallets, and of escrow, keyed by email/"escrow"."""
    db.rollback()
    db.expire_all()
    found = {u.email: wallets.balance_of(db, u.id) for u in users}  # type: ignore[arg-type]
    found["escrow"] = wallets.escrow_wallet(db).balance_cents
    return found
