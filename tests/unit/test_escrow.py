"""Escrow release: a finished session's held money goes to its teacher, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.factories import (
    balances,
    fresh,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from tests.invariants import assert_ledger_invariants
from visio.models import AuditEvent, EntryKind, LedgerEntry, Purchase, PurchaseStatus, VideoSession
from visio.services import enrollments, sessions, wallets
from visio.services.errors import Conflict

PRICE = 2_000


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def paid_session_with(db, clock, teacher, payers: int, price: int = PRICE):
    """A published paid session and the students who paid for it."""
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=price
    )
    students = [make_funded_student(db, clock=clock, amount_cents=10_000) for _ in range(payers)]
    for student in students:
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    return session, students


def release(db, clock):
    return enrollments.release_escrow(db=db, clock=clock)


def test_release_pays_a_finished_sessions_held_money_to_the_teacher(db, clock, teacher):
    session, students = paid_session_with(db, clock, teacher, payers=3)
    quitter = make_funded_student(db, clock=clock, amount_cents=10_000)
    enrollments.enroll(db=db, actor=quitter, video_session_id=session.id, clock=clock)
    enrollments.unenroll(db=db, actor=quitter, video_session_id=session.id, clock=clock)
    clock.at = session.ends_at

    assert release(db, clock) == 1

    assert balances(db, teacher, quitter, *students) == {
        teacher.email: 3 * PRICE,
        quitter.email: 10_000,
        **{s.email: 10_000 - PRICE for s in students},
        "escrow": 0,
    }
    teacher_wallet, escrow = wallets.wallet_of(db, teacher.id), wallets.escrow_wallet(db)
    moved = db.exec(
        select(LedgerEntry)
        .where(LedgerEntry.kind.in_([EntryKind.EARNING, EntryKind.ESCROW_RELEASE]))  # type: ignore[attr-defined]
        .order_by(LedgerEntry.id)
    ).all()
    assert [(e.wallet_id, e.amount_cents, e.kind, e.session_id, e.created_at) for e in moved] == [
        (escrow.id, -3 * PRICE, EntryKind.ESCROW_RELEASE, session.id, clock()),
        (teacher_wallet.id, 3 * PRICE, EntryKind.EARNING, session.id, clock()),
    ]
    by_student = {p.student_id: p for p in db.exec(select(Purchase)).all()}
    for student in students:
        assert (by_student[student.id].status, by_student[student.id].settled_at) == (
            PurchaseStatus.RELEASED,
            clock(),
        )
    assert by_student[quitter.id].status == PurchaseStatus.REFUNDED
    assert fresh(db, VideoSession, session.id)["escrow_released_at"] == clock()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.escrow_released")).one()
    assert (event.actor_id, event.target_id) == (None, session.id)
    assert event.data == {"amount_cents": 3 * PRICE, "purchases": 3}
    assert_ledger_invariants(db)


@pytest.mark.parametrize(
    "when", [timedelta(minutes=-90), timedelta(0), timedelta(minutes=59, seconds=59)]
)
def test_release_before_the_end_does_nothing(db, clock, teacher, when):
    session, students = paid_session_with(db, clock, teacher, payers=2)
    clock.at = session.starts_at + when  # before the start, at it, and one second before the end
    counts, money = table_counts(db), balances(db, teacher, *students)

    assert release(db, clock) == 0

    assert table_counts(db) == counts
    assert balances(db, teacher, *students) == money
    assert fresh(db, VideoSession, session.id)["escrow_released_at"] is None
    assert {p.status for p in db.exec(select(Purchase)).all()} == {PurchaseStatus.HELD}


def test_release_run_twice_pays_once(db, clock, teacher):
    session, _ = paid_session_with(db, clock, teacher, payers=2)
    clock.at = session.ends_at + timedelta(hours=1)
    assert release(db, clock) == 1
    counts, money = table_counts(db), balances(db, teacher)
    clock.advance(days=1)

    assert release(db, clock) == 0

    assert table_counts(db) == counts
    assert balances(db, teacher) == money == {teacher.email: 2 * PRICE, "escrow": 0}
    assert_ledger_invariants(db)


def test_release_skips_cancelled_sessions(db, clock, teacher):
    session, students = paid_session_with(db, clock, teacher, payers=2)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Snow day", clock=clock
    )
    clock.at = session.ends_at + timedelta(days=1)
    counts = table_counts(db)

    assert release(db, clock) == 0

    assert table_counts(db) == counts
    assert balances(db, teacher, *students) == {
        teacher.email: 0,
        **{s.email: 10_000 for s in students},
        "escrow": 0,
    }
    assert fresh(db, VideoSession, session.id)["escrow_released_at"] is None
    assert_ledger_invariants(db)


def test_release_of_a_session_without_paid_seats_only_marks_it_released(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    empty_paid = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE
    )
    ledger_rows = len(db.exec(select(LedgerEntry)).all())
    clock.at = max(session.ends_at, empty_paid.ends_at)

    assert release(db, clock) == 2

    assert len(db.exec(select(LedgerEntry)).all()) == ledger_rows
    assert balances(db, teacher, student) == {teacher.email: 0, student.email: 0, "escrow": 0}
    for released in (session, empty_paid):
        assert fresh(db, VideoSession, released.id)["escrow_released_at"] == clock()
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "session.escrow_released")).all()
    assert events == []  # nothing was paid out: nothing to show in the sessions' histories
    assert release(db, clock) == 0
    assert_ledger_invariants(db)


def test_release_pays_each_teacher_their_own_sessions_as_each_one_finishes(db, clock, teacher):
    other = make_teacher(db, clock=clock)
    early, _ = paid_session_with(db, clock, teacher, payers=2)
    late = make_session(
        db,
        teacher=other,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=700,
        starts_at=early.starts_at + timedelta(days=1),
    )
    payer = make_funded_student(db, clock=clock, amount_cents=700)
    enrollments.enroll(db=db, actor=payer, video_session_id=late.id, clock=clock)
    clock.at = early.ends_at

    assert release(db, clock) == 1
    assert balances(db, teacher, other) == {teacher.email: 2 * PRICE, other.email: 0, "escrow": 700}

    clock.at = late.ends_at
    assert release(db, clock) == 1
    assert balances(db, teacher, other) == {teacher.email: 2 * PRICE, other.email: 700, "escrow": 0}
    assert_ledger_invariants(db)


def test_a_finished_session_can_no_longer_be_cancelled_so_paid_out_money_stays(db, clock, teacher):
    session, students = paid_session_with(db, clock, teacher, payers=1)
    clock.at = session.ends_at
    release(db, clock)

    with pytest.raises(Conflict) as refused:
        sessions.cancel_session(
            db=db, actor=teacher, video_session_id=session.id, reason="Too late", clock=clock
        )

    assert (refused.value.code, refused.value.params) == ("invalid_status", {"status": "finished"})
    assert balances(db, teacher, *students) == {
        teacher.email: PRICE,
        students[0].email: 10_000 - PRICE,
        "escrow": 0,
    }
    assert_ledger_invariants(db)
