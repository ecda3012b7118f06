"""Admins' manual credits and debits racing enrollments and each other on one wallet, on SQLite
(a file) and PostgreSQL: each applied exactly once, the wallet never below zero, the ledger
invariants kept."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from tests.factories import make_admin, make_funded_student, make_teacher
from tests.integration.test_enroll_races import as_user, paid_session, race, setting_up
from tests.invariants import assert_adjustment_invariants, assert_ledger_invariants
from visio.models import Enrollment, EnrollmentStatus, EntryKind, LedgerEntry, User
from visio.services import admin_money, enrollments, wallets


def adjusting(admin_id: int, **kwargs):
    """An act: an admin's manual adjustment, in the thread's own unit of work."""

    def act(db):
        return admin_money.adjust_wallet(db=db, actor=db.get(User, admin_id), **kwargs)

    return act


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_engine(request):
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


def test_manual_debits_credits_and_enrollments_on_one_wallet(race_engine, clock):
    with setting_up(race_engine) as db:
        admin, other_admin = make_admin(db, clock=clock), make_admin(db, clock=clock)
        teacher = make_teacher(db, clock=clock)
        student = make_funded_student(db, clock=clock, amount_cents=3_000)
        seats = [paid_session(db, clock, teacher) for _ in range(3)]  # 1,000 each
        wallet_id = wallets.wallet_of(db, student.id).id

    def adjust(by, direction, cents):
        return adjusting(
            by.id,
            user_id=student.id,
            direction=direction,
            amount_cents=cents,
            reason=f"Race {direction} {cents}",
            clock=clock,
        )

    acts = [
        *[adjust(admin, "debit", 700) for _ in range(4)],
        *[adjust(other_admin, "credit", 300) for _ in range(3)],
        *[
            as_user(student.id, enrollments.enroll, video_session_id=s.id, clock=clock)
            for s in seats
        ],
    ]
    outcomes = race(race_engine, acts)

    kinds = Counter(code for code, _ in outcomes)
    assert not kinds["crash"] and not kinds["busy"], outcomes
    assert set(kinds) <= {"ok", "insufficient_funds"}, outcomes
    debits = sum(1 for code, _ in outcomes[:4] if code == "ok")
    credits = sum(1 for code, _ in outcomes[4:7] if code == "ok")
    seats_taken = sum(1 for code, _ in outcomes[7:] if code == "ok")
    assert credits == 3  # a credit is never refused
    with setting_up(race_engine) as db:
        balance = wallets.balance_of(db, student.id)
        assert balance == 3_000 - 700 * debits + 300 * credits - 1_000 * seats_taken >= 0
        entries = db.exec(select(LedgerEntry).where(LedgerEntry.wallet_id == wallet_id)).all()
        adjustments = Counter(e.amount_cents for e in entries if e.kind == EntryKind.ADJUSTMENT)
        assert adjustments == Counter({-700: debits, 300: credits}) - Counter()
        active = db.exec(
            select(Enrollment).where(
                Enrollment.student_id == student.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all()
        assert len(active) == seats_taken
        assert admin_money.platform_wallet(db).balance_cents == 700 * debits - 300 * credits
        assert_ledger_invariants(db)
        assert_adjustment_invariants(db)


def test_two_debits_of_the_whole_balance_at_once_apply_once(race_engine, clock):
    with setting_up(race_engine) as db:
        admin = make_admin(db, clock=clock)
        student = make_funded_student(db, clock=clock, amount_cents=1_000)

    act = adjusting(
        admin.id,
        user_id=student.id,
        direction="debit",
        amount_cents=1_000,
        reason="Chargeback",
        clock=clock,
    )
    outcomes = race(race_engine, [act] * 4)

    assert sorted(code for code, _ in outcomes) == ["insufficient_funds"] * 3 + ["ok"]
    with setting_up(race_engine) as db:
        assert wallets.balance_of(db, student.id) == 0
        assert_ledger_invariants(db)
        assert_adjustment_invariants(db)
