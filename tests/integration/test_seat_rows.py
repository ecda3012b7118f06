"""A paid seat's rows on both databases: the seat count, the audit event, the notice, the
purchase and both ledger entries are all written. On PostgreSQL the debit inserts the seat in
its statement, and all the others go in one more (writable CTEs: the escrow's credit and its
ledger entries read the purchase's id from its insert); on SQLite the session's lock reads the
student's earlier enrollment with it: fewer round trips per seat, the same rows."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from tests.factories import make_funded_student, make_session, make_teacher
from tests.invariants import assert_ledger_invariants
from tests.statements import recorded
from visio.models import (
    AuditEvent,
    LedgerEntry,
    Notice,
    Purchase,
    VideoSession,
    Wallet,
    WalletKind,
)
from visio.services import enrollments

PRICE = 1200


def _claim(db: Session, clock) -> list[str]:  # type: ignore[no-untyped-def]
    """A paid seat claimed, its rows checked: the statements it ran."""
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE
    )
    student = make_funded_student(db, clock=clock, amount_cents=5000)
    session_id = session.id  # read before listening: an expired object's reload is not the claim's
    with recorded(db) as sent:
        result = enrollments.enroll(db=db, actor=student, video_session_id=session_id, clock=clock)
    assert result.purchase is not None and result.wallet_balance_cents == 5000 - PRICE
    db.rollback()
    assert db.get(VideoSession, session_id, populate_existing=True).enrolled_count == 1  # type: ignore[union-attr]
    [audited] = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "session.enrolled", AuditEvent.actor_id == student.id
        )
    ).all()
    assert audited.created_at == clock() and audited.data == {"paid_cents": PRICE}
    [notice] = db.exec(select(Notice).where(Notice.user_id == student.id)).all()
    assert notice.kind == "enrollment_confirmed" and notice.data["paid_cents"] == PRICE
    # Written through the columns' own types on either path: aware UTC times, JSON intact.
    assert notice.created_at == notice.next_attempt_at == clock()
    assert notice.data["seat"]["taken"] == 1
    assert notice.data["seat"]["student"] == student.full_name
    [purchase] = db.exec(select(Purchase).where(Purchase.student_id == student.id)).all()
    assert purchase.id == result.purchase.id and purchase.amount_cents == PRICE
    entries = db.exec(
        select(LedgerEntry.amount_cents, LedgerEntry.kind, Wallet.user_id)
        .join(Wallet, Wallet.id == LedgerEntry.wallet_id)
        .where(LedgerEntry.purchase_id == purchase.id)
        .order_by(LedgerEntry.id)
    ).all()
    assert [tuple(e) for e in entries] == [
        (-PRICE, "purchase", student.id),
        (PRICE, "escrow_in", None),
    ]
    return [statement.sql for statement in sent]


def _writing(statements: list[str], *fragments: str) -> list[str]:
    return [s for s in statements if any(f in s for f in fragments)]


def test_a_paid_seat_writes_its_count_audit_notice_and_purchase_on_sqlite(db, clock) -> None:
    statements = _claim(db, clock)

    assert len(_writing(statements, "INSERT INTO purchases")) == 1
    assert len(_writing(statements, "INSERT INTO audit_events")) == 1
    assert len(_writing(statements, "INSERT INTO notices")) == 1
    [lock] = _writing(statements, "FROM video_sessions")
    assert "LEFT OUTER JOIN enrollments" in lock  # the earlier enrollment, read with the lock
    assert _writing(statements, "FROM enrollments") == []


@pytest.mark.postgres
def test_a_paid_seat_writes_them_in_one_statement_on_postgresql(pg_db, clock) -> None:
    statements = _claim(pg_db, clock)

    fragments = (
        "UPDATE video_sessions SET enrolled_count",
        "INSERT INTO audit_events",
        "INSERT INTO notices",
        "INSERT INTO purchases",
        "UPDATE wallets SET balance_cents=(wallets.balance_cents +",  # the escrow's credit
        "INSERT INTO ledger_entries",
    )
    [together] = _writing(statements, *fragments)
    assert all(fragment in together for fragment in fragments)
    [debit] = _writing(statements, "INSERT INTO enrollments")
    assert "UPDATE wallets SET balance_cents=(wallets.balance_cents -" in debit
    assert len(_writing(statements, "UPDATE wallets")) == 2  # the debit and the escrow's credit


@pytest.mark.postgres
def test_without_an_escrow_row_the_seat_still_credits_one_it_makes_on_postgresql(
    pg_db, clock
) -> None:
    """A database made without the migrations' escrow row: the statement credits nothing and
    writes no entry, then the escrow is made and credited through the ORM, both entries with it."""
    pg_db.exec(delete(Wallet).where(Wallet.kind == WalletKind.ESCROW))  # type: ignore[call-overload]
    pg_db.commit()

    _claim(pg_db, clock)

    escrow = pg_db.exec(select(Wallet).where(Wallet.kind == WalletKind.ESCROW)).one()
    assert escrow.balance_cents == PRICE
    assert_ledger_invariants(pg_db)
