"""The minimum's decision under real concurrency, on SQLite (a file) and PostgreSQL: racing a
last-minute enrollment, and several workers deciding at once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, select

from tests.factories import make_funded_student, make_session, make_teacher
from tests.integration.test_enroll_races import as_user, race, refund_entries, setting_up
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Notice,
    Purchase,
    PurchaseStatus,
    StoredStatus,
    VideoSession,
)
from visio.services import enrollments, minimums, wallets

PRICE = 1_000
CREDIT = 3_000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_engine(request):
    """An engine on a migrated database of each kind, shared by the racing threads."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


def minimum_session(db, clock, teacher, minimum):
    return make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=PRICE,
        min_participants=minimum,
    )


def decider(clock):
    def act(db: Session) -> int:
        return minimums.decide_due(db, clock=clock)

    return act


def test_a_last_minute_enrollment_racing_the_decision_ends_consistent(race_engine, clock):
    rounds = 4
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        # The minimum is 2 and one student holds a seat: the late one decides the outcome.
        setups = []
        for _ in range(rounds):
            session = minimum_session(db, clock, teacher, minimum=2)
            early = make_funded_student(db, clock=clock, amount_cents=CREDIT)
            enrollments.enroll(db=db, actor=early, video_session_id=session.id, clock=clock)
            late = make_funded_student(db, clock=clock, amount_cents=CREDIT)
            setups.append((session, early, late))
    clock.advance(days=1)  # the decision time; enrollment is still open (until the start)

    seen = Counter()
    for session, early, late in setups:
        outcomes = race(
            race_engine,
            [
                decider(clock),
                as_user(late.id, enrollments.enroll, video_session_id=session.id, clock=clock),
            ],
        )
        (decided_kind, decided), (enroll_kind, _) = outcomes
        assert decided_kind == "ok" and enroll_kind in ("ok", "invalid_status"), outcomes
        with Session(race_engine) as db:
            stored = db.get(VideoSession, session.id)
            assert stored.decided_at is not None
            late_active = db.exec(
                select(Enrollment).where(
                    Enrollment.session_id == session.id,
                    Enrollment.student_id == late.id,
                    Enrollment.status == EnrollmentStatus.ACTIVE,
                )
            ).first()
            held = db.exec(
                select(Purchase).where(
                    Purchase.session_id == session.id, Purchase.status == PurchaseStatus.HELD
                )
            ).all()
            if stored.status == StoredStatus.CANCELLED:
                seen["cancelled"] += 1
                # Whoever got in before the decision was refunded; nobody holds a seat.
                assert late_active is None and held == [] and stored.enrolled_count == 0
                for student in (early, late):
                    assert wallets.balance_of(db, student.id) == CREDIT
                refunds = refund_entries(db, session.id)
                assert refunds == Counter(
                    {early.id: 1, **({late.id: 1} if enroll_kind == "ok" else {})}
                )
            else:
                seen["kept"] += 1
                assert stored.status == StoredStatus.SCHEDULED and enroll_kind == "ok"
                assert late_active is not None and stored.enrolled_count == 2
                assert sorted(p.student_id for p in held) == sorted([early.id, late.id])
                assert wallets.balance_of(db, late.id) == CREDIT - PRICE
            assert_ledger_invariants(db)
            assert_seat_invariants(db)
    assert sum(seen.values()) == rounds


def test_several_workers_deciding_at_once_cancel_once_and_refund_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = minimum_session(db, clock, teacher, minimum=5)
        students = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(3)]
        for student in students:
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(days=1, minutes=1)

    outcomes = race(race_engine, [decider(clock) for _ in range(4)])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    with Session(race_engine) as db:
        # A worker refused the lock for too long leaves it to the next pass: run it.
        late = minimums.decide_due(db, clock=clock)
        assert sum(value for _, value in outcomes) + late == 1, outcomes
        stored = db.get(VideoSession, session.id)
        assert stored.status == StoredStatus.CANCELLED
        assert refund_entries(db, session.id) == Counter({s.id: 1 for s in students})
        for student in students:
            assert wallets.balance_of(db, student.id) == CREDIT
        assert wallets.escrow_wallet(db).balance_cents == 0
        kinds = Counter(
            db.exec(
                select(Notice.kind).where(
                    Notice.kind.in_(["session_cancelled", "minimum_cancelled"])  # type: ignore[attr-defined]
                )
            ).all()
        )
        assert kinds == {"session_cancelled": 3, "minimum_cancelled": 1}
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_several_workers_keeping_a_session_confirm_it_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = minimum_session(db, clock, teacher, minimum=2)
        students = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(2)]
        for student in students:
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(days=1, minutes=1)

    outcomes = race(race_engine, [decider(clock) for _ in range(4)])

    with Session(race_engine) as db:
        late = minimums.decide_due(db, clock=clock)
        assert sum(value for _, value in outcomes) + late == 1, outcomes
        assert db.get(VideoSession, session.id).status == StoredStatus.SCHEDULED
        confirmed = db.exec(select(Notice.user_id).where(Notice.kind == "session_confirmed"))
        assert sorted(confirmed.all()) == sorted(s.id for s in students)
        assert_ledger_invariants(db)


def test_the_warning_written_by_racing_workers_is_written_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        minimum_session(db, clock, teacher, minimum=3)
    clock.advance(hours=1)  # 23 h before the decision

    def warner(db: Session) -> int:
        return minimums.warn_due(db, clock=clock)

    outcomes = race(race_engine, [warner for _ in range(4)])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert sum(value for _, value in outcomes) == 1
    with Session(race_engine) as db:
        warned = db.exec(select(Notice.user_id).where(Notice.kind == "minimum_warning")).all()
        assert warned == [teacher.id]
