"""Payouts under real concurrency, on SQLite (a file) and PostgreSQL: requests draining one
wallet, a payment and a refusal (or two payments) of one request, requests racing the teacher's
earnings and a refund of their own request. The ledger's invariants hold after each."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, select

from tests.factories import audit_actions, balances, make_admin, make_teacher
from tests.integration.test_enroll_races import (
    PRICE,
    as_user,
    funded_students,
    paid_session,
    race,
    race_engine,  # noqa: F401  (the fixture, on each database)
    setting_up,
)
from tests.invariants import assert_ledger_invariants
from tests.payouts_support import IBAN, make_funded_teacher
from visio.models import PayoutRequest, PayoutStatus
from visio.services import enrollments, payouts

AMOUNT = 2_500


def ask(user_id: int, amount: int = AMOUNT, clock=None):  # type: ignore[no-untyped-def]
    extra = {"clock": clock} if clock else {}
    return as_user(user_id, payouts.request_payout, amount_cents=amount, destination=IBAN, **extra)


def test_requests_racing_on_one_wallet_never_take_it_below_zero(race_engine, clock):  # noqa: F811
    with setting_up(race_engine) as db:
        teacher = make_funded_teacher(db, clock=clock, amount_cents=10_000)

    outcomes = race(race_engine, [ask(teacher.id, clock=clock) for _ in range(8)])

    assert Counter(kind for kind, _ in outcomes) == {"ok": 4, "insufficient_funds": 4}, outcomes
    with Session(race_engine) as db:
        assert balances(db, teacher)[teacher.email] == 0
        assert len(db.exec(select(PayoutRequest)).all()) == 4
        assert audit_actions(db).count("payout.requested") == 4
        assert_ledger_invariants(db)


def test_a_payment_and_a_refusal_racing_decide_the_request_once(race_engine, clock):  # noqa: F811
    with setting_up(race_engine) as db:
        teacher = make_funded_teacher(db, clock=clock, amount_cents=5_000)
        admins = [make_admin(db, clock=clock) for _ in range(2)]
        payout = payouts.request_payout(
            db=db, actor=teacher, amount_cents=AMOUNT, destination=IBAN, clock=clock
        )
    acts = [
        as_user(admins[0].id, payouts.mark_paid, payout_id=payout.id, reference="VIR-1"),
        as_user(admins[1].id, payouts.refuse, payout_id=payout.id, reason="Unknown account"),
        as_user(admins[1].id, payouts.mark_paid, payout_id=payout.id, reference="VIR-2"),
    ]

    outcomes = race(race_engine, acts)

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "payout_already_decided": 2}, outcomes
    (winner,) = [value for kind, value in outcomes if kind == "ok"]
    with Session(race_engine) as db:
        row = db.get(PayoutRequest, payout.id)
        assert row.status == winner.status
        refunded = AMOUNT if row.status == PayoutStatus.REFUSED else 0
        assert balances(db, teacher)[teacher.email] == 5_000 - AMOUNT + refunded
        decided = [a for a in audit_actions(db) if a in ("payout.paid", "payout.refused")]
        assert len(decided) == 1
        assert_ledger_invariants(db)


def test_requests_racing_the_teachers_earnings_and_a_refusal(race_engine, clock):  # noqa: F811
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        admin = make_admin(db, clock=clock)
        session = paid_session(db, clock, teacher)
        for student in funded_students(db, clock, 3):
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
        clock.at = session.ends_at
        enrollments.release_escrow(db=db, clock=clock)  # 3 * PRICE earned
        first = payouts.request_payout(
            db=db, actor=teacher, amount_cents=AMOUNT, destination=IBAN, clock=clock
        )
        later = paid_session(db, clock, teacher)
        for student in funded_students(db, clock, 2):
            enrollments.enroll(db=db, actor=student, video_session_id=later.id, clock=clock)
    clock.at = later.ends_at
    earned = 3 * PRICE + 2 * PRICE

    outcomes = race(
        race_engine,
        [
            lambda db: enrollments.release_escrow(db=db, clock=clock),
            as_user(admin.id, payouts.refuse, payout_id=first.id, reason="Check the name"),
            ask(teacher.id, clock=clock),
            ask(teacher.id, clock=clock),
            ask(teacher.id, clock=clock),
        ],
    )

    kinds = [kind for kind, _ in outcomes]
    assert kinds[:2] == ["ok", "ok"], outcomes
    assert set(kinds[2:]) <= {"ok", "insufficient_funds"}, outcomes
    granted = kinds[2:].count("ok")
    with Session(race_engine) as db:
        assert balances(db, teacher)[teacher.email] == earned - AMOUNT * granted >= 0
        assert db.get(PayoutRequest, first.id).status == PayoutStatus.REFUSED
        assert_ledger_invariants(db)
