"""The rows of one seat claim, written with SQLAlchemy Core statements built once.

Every paid seat on the platform writes these (see `enrollments.take_seat`): the ORM's unit of
work (objects built, flushed, their keys fetched back) cost more than the database itself, so
they go straight to the transaction's connection. The statements are those the ORM would issue;
the money rules stay where they were: the debit never takes a wallet below zero, and the ledger
entry and the cached balance move in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, literal, select, update

from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Purchase,
    PurchaseStatus,
    VideoSession,
    Wallet,
    WalletKind,
)
from visio.services import locking
from visio.services.errors import InsufficientFunds, NotAuthenticated

_wallets = Wallet.__table__  # type: ignore[attr-defined]
_enrollments = Enrollment.__table__  # type: ignore[attr-defined]
_sessions = VideoSession.__table__  # type: ignore[attr-defined]
_purchases = Purchase.__table__  # type: ignore[attr-defined]

_DEBIT = (
    update(_wallets)
    .where(
        _wallets.c.user_id == bindparam("owner"),
        _wallets.c.kind == literal(WalletKind.USER.value),
        _wallets.c.balance_cents >= bindparam("price"),
    )
    .values(balance_cents=_wallets.c.balance_cents - bindparam("price"), updated_at=bindparam("at"))
    .returning(_wallets.c.id, _wallets.c.balance_cents)
)
_BALANCE = select(_wallets.c.balance_cents).where(_wallets.c.user_id == bindparam("owner"))
_INSERT_ENROLLMENT = insert(_enrollments)
_REACTIVATE = (
    update(_enrollments)
    .where(_enrollments.c.id == bindparam("enrollment_id"))
    .values(status=EnrollmentStatus.ACTIVE.value, enrolled_at=bindparam("at"), ended_at=None)
)
_COUNT_SEAT = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("session_id"))
    .values(enrolled_count=_sessions.c.enrolled_count + 1)
)
_INSERT_PURCHASE = insert(_purchases)


def debit(
    connection: Connection, user_id: int, wallet: Wallet | None, price: int, at: datetime
) -> tuple[int, int]:
    """Take `price` from the student's wallet (locking its row); (wallet id, new balance).

    One conditional UPDATE: it locks the row and checks the funds in the same statement (on
    PostgreSQL, a waiting UPDATE checks them again on the row as its holder committed it).
    `wallet`: the row, if the caller locked it already. Nothing is written on a refusal.
    """
    with locking.busy_on_timeout():
        found = connection.execute(_DEBIT, {"owner": user_id, "price": price, "at": at}).first()
    if found is not None:
        return found[0], found[1]
    balance = (
        wallet.balance_cents
        if wallet is not None
        else connection.execute(_BALANCE, {"owner": user_id}).scalar_one_or_none()
    )
    if balance is None:
        raise NotAuthenticated()  # every account has a wallet from registration on
    raise InsufficientFunds(balance_cents=balance, missing_cents=price - balance)


def balance(connection: Connection, user_id: int) -> int:
    """The student's balance, for the answer to a free seat."""
    found = connection.execute(_BALANCE, {"owner": user_id}).scalar_one_or_none()
    if found is None:
        raise NotAuthenticated()  # every account has a wallet from registration on
    return found


def insert_enrollment(
    connection: Connection, session_id: int, student_id: int, teacher_id: int, at: datetime
) -> int:
    """A new active seat (with its session's teacher, for the statistics); its id."""
    params = {
        "session_id": session_id,
        "student_id": student_id,
        "teacher_id": teacher_id,
        "status": EnrollmentStatus.ACTIVE.value,
        "enrolled_at": at,
    }
    return connection.execute(_INSERT_ENROLLMENT, params).inserted_primary_key[0]  # type: ignore[index]


def reactivate(connection: Connection, enrollment_id: int, at: datetime) -> None:
    """The pair's earlier (ended) row, active again from `at`."""
    connection.execute(_REACTIVATE, {"enrollment_id": enrollment_id, "at": at})


def count_seat(connection: Connection, session_id: int) -> None:
    """One more seat taken on the (locked) session row."""
    connection.execute(_COUNT_SEAT, {"session_id": session_id})


def insert_purchase(
    connection: Connection, session: VideoSession, student_id: int, enrollment_id: int, at: datetime
) -> Purchase:
    """The seat's purchase, held in escrow; returned as a (detached) object for the answer."""
    values = {
        "student_id": student_id,
        "session_id": session.id,
        "teacher_id": session.teacher_id,
        "enrollment_id": enrollment_id,
        "amount_cents": session.price_cents,
        "currency": session.currency,
        "status": PurchaseStatus.HELD.value,
        "created_at": at,
    }
    purchase_id = connection.execute(_INSERT_PURCHASE, values).inserted_primary_key[0]  # type: ignore[index]
    return Purchase.model_construct(id=purchase_id, settled_at=None, idempotency_key=None, **values)
