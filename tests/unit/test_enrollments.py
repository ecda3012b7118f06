"""Enrollment: seat and money claimed together, refusals that change nothing, unenroll, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.factories import (
    audit_actions,
    balances,
    fresh,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    table_counts,
    top_up,
)
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import (
    AuditEvent,
    Enrollment,
    EnrollmentStatus,
    EntryKind,
    LedgerEntry,
    Purchase,
    PurchaseStatus,
    VideoSession,
)
from visio.services import attendance, enrollments, sessions, wallets
from visio.services.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    NotAuthenticated,
    NotFound,
)

PRICE = 1_500


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


@pytest.fixture
def student(db, clock):
    return make_funded_student(db, clock=clock, amount_cents=5_000)


@pytest.fixture
def paid(db, clock, teacher):
    return make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE
    )


def enroll(db, clock, actor, session_id):
    return enrollments.enroll(db=db, actor=actor, video_session_id=session_id, clock=clock)


def unenroll(db, clock, actor, session_id):
    return enrollments.unenroll(db=db, actor=actor, video_session_id=session_id, clock=clock)


def cancel(db, clock, actor, session_id):
    return sessions.cancel_session(
        db=db, actor=actor, video_session_id=session_id, reason="Teacher is ill", clock=clock
    )


def entries(db, **where):
    query = select(LedgerEntry).order_by(LedgerEntry.id)
    for column, value in where.items():
        query = query.where(getattr(LedgerEntry, column) == value)
    return db.exec(query).all()


def assert_refused(db, call, error, code, *users):
    """Run a call that must be refused, and prove it changed no row and no balance."""
    counts, money = table_counts(db), balances(db, *users)
    with pytest.raises(error) as refused:
        call()
    assert type(refused.value) is error
    assert refused.value.code == code
    assert table_counts(db) == counts
    assert balances(db, *users) == money
    assert_ledger_invariants(db)
    return refused.value


# --- enroll ---------------------------------------------------------------------------------


def test_enroll_in_a_free_session_claims_a_seat_and_moves_no_money(db, clock, teacher, student):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=5)
    money = balances(db, student, teacher)
    ledger_rows = len(entries(db))

    result = enroll(db, clock, student, session.id)

    assert result.purchase is None
    assert result.wallet_balance_cents == 5_000
    stored = fresh(db, Enrollment, result.enrollment.id)
    assert (stored["session_id"], stored["student_id"]) == (session.id, student.id)
    assert (stored["status"], stored["enrolled_at"], stored["ended_at"]) == (
        EnrollmentStatus.ACTIVE,
        clock(),
        None,
    )
    assert fresh(db, VideoSession, session.id)["enrolled_count"] == 1
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.enrolled")).one()
    assert (event.actor_id, event.target_type, event.target_id) == (
        student.id,
        "session",
        session.id,
    )
    assert event.data == {"paid_cents": 0}
    assert balances(db, student, teacher) == money
    assert len(entries(db)) == ledger_rows
    assert db.exec(select(Purchase)).all() == []
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_enroll_in_a_paid_session_debits_the_wallet_into_escrow(db, clock, teacher, student, paid):
    result = enroll(db, clock, student, paid.id)

    assert result.wallet_balance_cents == 5_000 - PRICE
    purchase = fresh(db, Purchase, result.purchase.id)
    assert purchase["status"] == PurchaseStatus.HELD
    assert (purchase["student_id"], purchase["session_id"], purchase["enrollment_id"]) == (
        student.id,
        paid.id,
        result.enrollment.id,
    )
    assert (purchase["amount_cents"], purchase["currency"], purchase["settled_at"]) == (
        PRICE,
        "EUR",
        None,
    )
    mine, escrow = wallets.wallet_of(db, student.id), wallets.escrow_wallet(db)
    moved = entries(db, purchase_id=purchase["id"])
    assert [(e.wallet_id, e.amount_cents, e.kind, e.session_id) for e in moved] == [
        (mine.id, -PRICE, EntryKind.PURCHASE, paid.id),
        (escrow.id, PRICE, EntryKind.ESCROW_IN, paid.id),
    ]
    assert balances(db, student, teacher) == {
        student.email: 5_000 - PRICE,
        teacher.email: 0,  # the teacher is paid only when the session has finished
        "escrow": PRICE,
    }
    assert wallets.ledger_sum(db, mine.id) == wallets.balance_of(db, student.id) == 5_000 - PRICE
    assert wallets.ledger_sum(db, escrow.id) == wallets.escrow_wallet(db).balance_cents == PRICE
    assert fresh(db, VideoSession, paid.id)["enrolled_count"] == 1
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.enrolled")).one()
    assert event.data == {"paid_cents": PRICE}
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_enroll_with_exactly_the_price_in_the_wallet_empties_it(db, clock, teacher):
    student = make_funded_student(db, clock=clock, amount_cents=PRICE)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE
    )

    assert enroll(db, clock, student, session.id).wallet_balance_cents == 0
    assert_ledger_invariants(db)


def test_enroll_when_full_is_refused(db, clock, teacher, student):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE, capacity=1
    )
    first = make_funded_student(db, clock=clock, amount_cents=PRICE)
    enroll(db, clock, first, session.id)

    assert_refused(
        db, lambda: enroll(db, clock, student, session.id), Conflict, "session_full", student
    )
    assert fresh(db, VideoSession, session.id)["enrolled_count"] == 1
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_enroll_after_the_deadline_is_refused(db, clock, teacher, student):
    start = clock() + timedelta(days=2)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=PRICE,
        starts_at=start,
        enrollment_deadline=start - timedelta(days=1),
    )
    clock.advance(days=1)  # exactly at the deadline: closed

    assert_refused(
        db, lambda: enroll(db, clock, student, session.id), Conflict, "deadline_passed", student
    )
    assert_ledger_invariants(db)


def test_enroll_one_second_before_the_deadline_is_accepted(db, clock, teacher, student):
    start = clock() + timedelta(days=2)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=start,
        enrollment_deadline=start - timedelta(days=1),
    )
    clock.advance(days=1, seconds=-1)

    assert enroll(db, clock, student, session.id).enrollment.status == EnrollmentStatus.ACTIVE


@pytest.mark.parametrize("after_start", [timedelta(0), timedelta(minutes=30), timedelta(days=1)])
def test_enroll_once_the_session_has_started_is_refused(
    db, clock, teacher, student, paid, after_start
):
    # No deadline: enrolling closes at the start (ongoing, then finished, sessions are closed).
    clock.at = paid.starts_at + after_start

    assert_refused(
        db, lambda: enroll(db, clock, student, paid.id), Conflict, "deadline_passed", student
    )


def test_enroll_in_a_draft_is_refused(db, clock, teacher, student):
    draft = make_session(db, teacher=teacher, clock=clock, is_paid=True, price_cents=PRICE)

    assert_refused(db, lambda: enroll(db, clock, student, draft.id), Conflict, "not_open", student)


def test_enroll_in_a_cancelled_session_is_refused(db, clock, teacher, student, paid):
    cancel(db, clock, teacher, paid.id)

    error = assert_refused(
        db, lambda: enroll(db, clock, student, paid.id), Conflict, "invalid_status", student
    )
    assert error.params == {"status": "cancelled"}


def test_enroll_twice_is_refused_and_charges_once(db, clock, teacher, student, paid):
    enroll(db, clock, student, paid.id)

    assert_refused(
        db, lambda: enroll(db, clock, student, paid.id), Conflict, "already_enrolled", student
    )
    assert wallets.balance_of(db, student.id) == 5_000 - PRICE
    assert len(db.exec(select(Purchase)).all()) == 1
    assert fresh(db, VideoSession, paid.id)["enrolled_count"] == 1
    assert_ledger_invariants(db)


def test_enroll_twice_in_a_full_session_says_already_enrolled(db, clock, teacher, student):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=1)
    enroll(db, clock, student, session.id)

    assert_refused(
        db, lambda: enroll(db, clock, student, session.id), Conflict, "already_enrolled", student
    )


@pytest.mark.parametrize(("credit", "missing"), [(0, PRICE), (1_000, PRICE - 1_000)])
def test_enroll_without_enough_money_is_refused_and_writes_nothing(
    db, clock, teacher, paid, credit, missing
):
    poor = make_student(db, clock=clock)
    if credit:
        top_up(db, user=poor, amount_cents=credit, clock=clock)

    error = assert_refused(
        db, lambda: enroll(db, clock, poor, paid.id), InsufficientFunds, "insufficient_funds", poor
    )
    assert error.params == {"balance_cents": credit, "missing_cents": missing}
    assert fresh(db, VideoSession, paid.id)["enrolled_count"] == 0
    assert db.exec(select(Enrollment)).all() == []
    assert_ledger_invariants(db)


def test_a_teacher_cannot_enroll_in_their_own_session(db, clock, teacher, paid):
    assert_refused(
        db, lambda: enroll(db, clock, teacher, paid.id), Forbidden, "own_session", teacher
    )


def test_a_teacher_cannot_enroll_in_another_teachers_session(db, clock, paid):
    other = make_teacher(db, clock=clock)

    error = assert_refused(
        db, lambda: enroll(db, clock, other, paid.id), Forbidden, "wrong_role", other
    )
    assert error.params == {"role": "student"}


def test_enroll_in_an_unknown_session_is_refused(db, clock, student):
    assert_refused(
        db,
        lambda: enroll(db, clock, student, 999_999),
        NotFound,
        "session_not_found",
        student,
    )


def test_enroll_without_a_user_is_refused(db, clock, paid):
    with pytest.raises(NotAuthenticated):
        enroll(db, clock, None, paid.id)


# --- unenroll -------------------------------------------------------------------------------


def test_unenroll_before_the_deadline_refunds_in_full_and_frees_the_seat(db, clock, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE, capacity=1
    )
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    waiting = make_funded_student(db, clock=clock, amount_cents=5_000)
    enrolled = enroll(db, clock, student, session.id)
    clock.advance(hours=1)

    result = unenroll(db, clock, student, session.id)

    assert (result.refunded_cents, result.wallet_balance_cents) == (PRICE, 5_000)
    stored = fresh(db, Enrollment, enrolled.enrollment.id)
    assert (stored["status"], stored["ended_at"]) == (EnrollmentStatus.UNENROLLED, clock())
    purchase = fresh(db, Purchase, enrolled.purchase.id)
    assert (purchase["status"], purchase["settled_at"]) == (PurchaseStatus.REFUNDED, clock())
    mine, escrow = wallets.wallet_of(db, student.id), wallets.escrow_wallet(db)
    assert [
        (e.wallet_id, e.amount_cents, e.kind) for e in entries(db, purchase_id=purchase["id"])
    ] == [
        (mine.id, -PRICE, EntryKind.PURCHASE),
        (escrow.id, PRICE, EntryKind.ESCROW_IN),
        (escrow.id, -PRICE, EntryKind.ESCROW_REFUND),
        (mine.id, PRICE, EntryKind.REFUND),
    ]
    assert balances(db, student, teacher) == {student.email: 5_000, teacher.email: 0, "escrow": 0}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.unenrolled")).one()
    assert (event.actor_id, event.target_id, event.data) == (
        student.id,
        session.id,
        {"refunded_cents": PRICE},
    )
    assert fresh(db, VideoSession, session.id)["enrolled_count"] == 0
    # The seat is free again: the next student gets it.
    assert enroll(db, clock, waiting, session.id).enrollment.status == EnrollmentStatus.ACTIVE
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_unenroll_from_a_free_session_moves_no_money(db, clock, teacher, student):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enroll(db, clock, student, session.id)

    result = unenroll(db, clock, student, session.id)

    assert (result.refunded_cents, result.wallet_balance_cents) == (0, 5_000)
    assert fresh(db, VideoSession, session.id)["enrolled_count"] == 0
    assert [e.kind for e in entries(db)] == [EntryKind.TOPUP]
    assert_ledger_invariants(db)


def test_unenroll_after_the_deadline_is_refused(db, clock, teacher, student):
    start = clock() + timedelta(days=2)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=PRICE,
        starts_at=start,
        enrollment_deadline=start - timedelta(hours=6),
    )
    enroll(db, clock, student, session.id)
    clock.at = start - timedelta(hours=6)

    assert_refused(
        db, lambda: unenroll(db, clock, student, session.id), Conflict, "deadline_passed", student
    )
    assert fresh(db, VideoSession, session.id)["enrolled_count"] == 1
    assert_ledger_invariants(db)


def test_unenroll_when_not_enrolled_is_refused(db, clock, teacher, student, paid):
    assert_refused(
        db, lambda: unenroll(db, clock, student, paid.id), Conflict, "not_enrolled", student
    )
    enroll(db, clock, student, paid.id)
    unenroll(db, clock, student, paid.id)
    # A second unenroll (a double click) refunds nothing more.
    assert_refused(
        db, lambda: unenroll(db, clock, student, paid.id), Conflict, "not_enrolled", student
    )
    assert wallets.balance_of(db, student.id) == 5_000
    assert_ledger_invariants(db)


def test_reenroll_after_unenroll_works_and_charges_again(db, clock, teacher, student, paid):
    first = enroll(db, clock, student, paid.id)
    unenroll(db, clock, student, paid.id)
    clock.advance(minutes=5)

    again = enroll(db, clock, student, paid.id)

    assert again.enrollment.id == first.enrollment.id  # one row per (session, student)
    assert again.wallet_balance_cents == 5_000 - PRICE
    stored = fresh(db, Enrollment, again.enrollment.id)
    assert (stored["status"], stored["enrolled_at"], stored["ended_at"]) == (
        EnrollmentStatus.ACTIVE,
        clock(),
        None,
    )
    statuses = [p.status for p in db.exec(select(Purchase).order_by(Purchase.id)).all()]
    assert statuses == [PurchaseStatus.REFUNDED, PurchaseStatus.HELD]
    assert balances(db, student) == {student.email: 5_000 - PRICE, "escrow": PRICE}
    assert fresh(db, VideoSession, paid.id)["enrolled_count"] == 1
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


# --- cancel with enrollments ----------------------------------------------------------------


def test_cancel_refunds_every_held_purchase_once_and_ends_every_seat(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=10)
    free_riders = [make_student(db, clock=clock) for _ in range(2)]
    for rider in free_riders:
        enroll(db, clock, rider, session.id)
    # The teacher put a price on it before anyone paid (an edit allowed then): the two already
    # enrolled keep their free seats, the next ones pay.
    db.execute(
        update(VideoSession)
        .where(VideoSession.id == session.id)
        .values(is_paid=True, price_cents=PRICE)
    )
    db.commit()
    payers = [make_funded_student(db, clock=clock, amount_cents=4_000) for _ in range(3)]
    for payer in payers:
        enroll(db, clock, payer, session.id)
    quitter = payers.pop()  # left before the cancel: refunded then, never again
    unenroll(db, clock, quitter, session.id)
    clock.advance(hours=1)
    assert balances(db, *payers)["escrow"] == 2 * PRICE

    result = cancel(db, clock, teacher, session.id)

    assert (result.refunded_count, result.refunded_cents) == (2, 2 * PRICE)
    everyone = [*free_riders, *payers, quitter]
    assert balances(db, *everyone, teacher) == {
        **{u.email: 0 for u in free_riders},
        **{u.email: 4_000 for u in (*payers, quitter)},
        teacher.email: 0,
        "escrow": 0,
    }
    statuses = {
        e.student_id: (e.status, e.ended_at)
        for e in db.exec(select(Enrollment).where(Enrollment.session_id == session.id)).all()
    }
    for user in (*free_riders, *payers):
        assert statuses[user.id] == (EnrollmentStatus.CANCELLED, clock())
    assert statuses[quitter.id][0] == EnrollmentStatus.UNENROLLED
    purchases = db.exec(select(Purchase)).all()
    assert {p.status for p in purchases} == {PurchaseStatus.REFUNDED}
    for purchase in purchases:
        assert [e.kind for e in entries(db, purchase_id=purchase.id)].count(EntryKind.REFUND) == 1
    assert audit_actions(db).count("purchase.refunded") == 2
    assert_ledger_invariants(db)
    assert_seat_invariants(db)

    again = assert_refused(
        db,
        lambda: cancel(db, clock, teacher, session.id),
        Conflict,
        "invalid_status",
        *everyone,
        teacher,
    )
    assert again.params == {"status": "cancelled"}
    assert audit_actions(db).count("purchase.refunded") == 2
    assert_ledger_invariants(db)


def test_unenroll_after_joining_is_refused_and_refunds_nothing(db, clock, teacher, student):
    # The teacher left enrollment open until the start, so it is still open when "Rejoindre" is.
    start = clock() + timedelta(days=2)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=PRICE,
        starts_at=start,
    )
    enroll(db, clock, student, session.id)
    clock.at = start - timedelta(minutes=5)
    attendance.join(db=db, actor=student, video_session_id=session.id, clock=clock)

    assert_refused(
        db, lambda: unenroll(db, clock, student, session.id), Conflict, "already_joined", student
    )
    assert fresh(db, VideoSession, session.id)["enrolled_count"] == 1
    assert_ledger_invariants(db)


def test_objects_the_transaction_loaded_follow_the_seat_claims_own_statements(
    db, clock, teacher, student, paid
):
    """take_seat writes with Core statements: a wallet or session the caller loaded must see
    them, or a later ORM write in the same transaction would put back an older balance."""
    session = enrollments._lock_session(db, paid.id)
    mine = wallets.lock_wallet_of(db, student.id)
    escrow = wallets.lock_escrow(db)
    escrow_before, mine_before = escrow.balance_cents, mine.balance_cents

    enrollments.take_seat(db, session=session, student=student, enrollment=None, at=clock())

    assert session.enrolled_count == 1
    assert mine.balance_cents == mine_before - PRICE
    assert escrow.balance_cents == escrow_before + PRICE
    # An ORM write after the claim keeps the claim's money: the books still balance.
    purchase = db.exec(select(Purchase).where(Purchase.session_id == paid.id)).one()
    wallets.refund_purchase(db, purchase, escrow=escrow, student_wallet=mine, at=clock())
    db.commit()
    assert balances(db, student) == {student.email: mine_before, "escrow": escrow_before}
    assert_ledger_invariants(db)
