"""Seats and money under real concurrency, on SQLite (a file) and PostgreSQL.

Each racing thread has its own unit of work on one shared engine and starts at a barrier. A
`Busy` answer is retried the way a user would click again; every other outcome is final.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.factories import (
    audit_actions,
    balances,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
)
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio import db as visio_db
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    EntryKind,
    LedgerEntry,
    Purchase,
    PurchaseStatus,
    StoredStatus,
    User,
    VideoSession,
    Wallet,
)
from visio.services import enrollments, locking, payments, sessions, wallets
from visio.services.errors import Busy, DomainError
from visio.settings import settings

PRICE = 1_000
CREDIT = 3_000
BUSY_RETRIES = 20


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_engine(request):
    """An engine on a migrated database of each kind, shared by the racing threads."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


def race(engine, acts: list[Callable[[Session], Any]]) -> list[tuple[str, Any]]:
    """Run each act in its own thread and unit of work, all released together.

    Returns one (outcome, value) per act: ("ok", result), or (error code, error) for a refusal,
    or ("crash", exception) for anything that is not a domain error (a test failure).
    """
    barrier = threading.Barrier(len(acts))
    outcomes: list[tuple[str, Any]] = [("missing", None)] * len(acts)

    def work(index: int) -> None:
        with Session(engine, expire_on_commit=False) as db:
            try:
                barrier.wait(timeout=30)
                for attempt in range(BUSY_RETRIES):
                    try:
                        outcomes[index] = ("ok", acts[index](db))
                        return
                    except Busy:  # what a user sees as "busy, try again": they try again
                        time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                outcomes[index] = ("busy", None)
            except DomainError as exc:
                outcomes[index] = (exc.code, exc)
            except Exception as exc:
                outcomes[index] = ("crash", exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(acts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


@contextmanager
def setting_up(engine) -> Iterator[Session]:
    """A unit of work for a test's data, whose rows stay readable after it closes."""
    with Session(engine, expire_on_commit=False) as db:
        yield db
        db.rollback()  # the services' own rollbacks expired them: load them once more
        for row in list(db.identity_map.values()):
            db.refresh(row)


def as_user(user_id: int, use_case: Callable[..., Any], **kwargs: Any) -> Callable[[Session], Any]:
    """An act: load the user in the thread's own unit of work, then run the use case."""

    def act(db: Session) -> Any:
        return use_case(db=db, actor=db.get(User, user_id), **kwargs)

    return act


def paid_session(db, clock, teacher, **overrides):
    return make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE, **overrides
    )


def funded_students(db, clock, n: int) -> list[User]:
    return [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(n)]


def refund_entries(db, session_id: int) -> Counter:
    """How many refund entries each student wallet got for a session."""
    return Counter(
        db.exec(
            select(Wallet.user_id)
            .join(LedgerEntry, LedgerEntry.wallet_id == Wallet.id)
            .where(LedgerEntry.session_id == session_id, LedgerEntry.kind == EntryKind.REFUND)
        ).all()
    )


def test_fifty_students_racing_for_ten_paid_seats_get_exactly_ten(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = paid_session(db, clock, teacher, capacity=10)
        students = funded_students(db, clock, 50)

    outcomes = race(
        race_engine,
        [
            as_user(s.id, enrollments.enroll, video_session_id=session.id, clock=clock)
            for s in students
        ],
    )

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 10, "session_full": 40}, outcomes
    winners = {s.id for s, (kind, _) in zip(students, outcomes, strict=True) if kind == "ok"}
    with Session(race_engine) as db:
        stored = db.get(VideoSession, session.id)
        assert stored.enrolled_count == 10
        active = db.exec(
            select(Enrollment.student_id).where(
                Enrollment.session_id == session.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all()
        assert set(active) == winners and len(active) == 10
        held = db.exec(select(Purchase.student_id).where(Purchase.status == PurchaseStatus.HELD))
        assert sorted(held.all()) == sorted(winners)
        money = balances(db, *students)
        assert money == {
            **{s.email: CREDIT - PRICE if s.id in winners else CREDIT for s in students},
            "escrow": 10 * PRICE,
        }
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_one_student_enrolling_from_five_threads_is_charged_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = paid_session(db, clock, teacher, capacity=3)
        (student,) = funded_students(db, clock, 1)

    outcomes = race(
        race_engine,
        [as_user(student.id, enrollments.enroll, video_session_id=session.id, clock=clock)] * 5,
    )

    assert Counter(kind for kind, _ in outcomes) == {"ok": 1, "already_enrolled": 4}, outcomes
    with Session(race_engine) as db:
        assert balances(db, student) == {student.email: CREDIT - PRICE, "escrow": PRICE}
        assert len(db.exec(select(Purchase)).all()) == 1
        assert db.get(VideoSession, session.id).enrolled_count == 1
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_one_wallet_racing_into_sessions_it_can_pay_only_one_of_never_goes_negative(
    race_engine, clock
):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        targets = [paid_session(db, clock, teacher).id for _ in range(4)]
        student = make_funded_student(db, clock=clock, amount_cents=PRICE + PRICE // 2)

    outcomes = race(
        race_engine,
        [
            as_user(student.id, enrollments.enroll, video_session_id=target, clock=clock)
            for target in targets
        ],
    )

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "insufficient_funds": 3}, outcomes
    with Session(race_engine) as db:
        assert balances(db, student) == {student.email: PRICE // 2, "escrow": PRICE}
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_unenroll_racing_a_cancel_refunds_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = paid_session(db, clock, teacher)
        students = funded_students(db, clock, 3)
        for student in students:
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    leaving = students[0]

    outcomes = race(
        race_engine,
        [
            as_user(leaving.id, enrollments.unenroll, video_session_id=session.id, clock=clock),
            as_user(leaving.id, enrollments.unenroll, video_session_id=session.id, clock=clock),
            as_user(
                teacher.id,
                sessions.cancel_session,
                video_session_id=session.id,
                reason="Closed",
                clock=clock,
            ),
        ],
    )

    left, again, (cancelled, cancellation) = outcomes
    assert cancelled == "ok", outcomes
    # At most one unenroll wins, and only if it came before the cancel.
    assert sorted([left[0], again[0]]) in (["not_enrolled", "ok"], ["not_enrolled"] * 2), outcomes
    unenrolled = "ok" in (left[0], again[0])
    assert cancellation.refunded_count == (2 if unenrolled else 3)
    with Session(race_engine) as db:
        assert refund_entries(db, session.id) == {s.id: 1 for s in students}
        assert balances(db, *students) == {
            **{s.email: CREDIT for s in students},
            "escrow": 0,
        }
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_two_cancels_racing_refund_each_student_exactly_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = paid_session(db, clock, teacher)
        students = funded_students(db, clock, 10)
        for student in students:
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    cancel = as_user(
        teacher.id,
        sessions.cancel_session,
        video_session_id=session.id,
        reason="Double click",
        clock=clock,
    )

    outcomes = race(race_engine, [cancel, cancel])

    assert sorted(kind for kind, _ in outcomes) == ["invalid_status", "ok"], outcomes
    (done,) = [value for kind, value in outcomes if kind == "ok"]
    assert (done.refunded_count, done.refunded_cents) == (10, 10 * PRICE)
    with Session(race_engine) as db:
        assert refund_entries(db, session.id) == {s.id: 1 for s in students}
        assert balances(db, *students, teacher) == {
            **{s.email: CREDIT for s in students},
            teacher.email: 0,
            "escrow": 0,
        }
        assert db.get(VideoSession, session.id).status == StoredStatus.CANCELLED
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_enroll_racing_a_cancel_ends_refunded_or_refused(race_engine, clock):
    rounds = 4
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        targets = []
        for _ in range(rounds):
            session = paid_session(db, clock, teacher)
            (early,) = funded_students(db, clock, 1)
            enrollments.enroll(db=db, actor=early, video_session_id=session.id, clock=clock)
            (late,) = funded_students(db, clock, 1)
            targets.append((session, early, late))

    for session, early, late in targets:
        outcomes = race(
            race_engine,
            [
                as_user(late.id, enrollments.enroll, video_session_id=session.id, clock=clock),
                as_user(
                    teacher.id,
                    sessions.cancel_session,
                    video_session_id=session.id,
                    reason="Closed",
                    clock=clock,
                ),
            ],
        )

        (enrolled, _), (cancelled, cancellation) = outcomes
        assert cancelled == "ok", outcomes
        assert enrolled in ("ok", "invalid_status"), outcomes
        # Enrolled first: refunded with the others. Refused: never charged.
        refunded = 2 if enrolled == "ok" else 1
        assert (cancellation.refunded_count, cancellation.refunded_cents) == (
            refunded,
            refunded * PRICE,
        )
        with Session(race_engine) as db:
            money = balances(db, early, late)
            assert (money[early.email], money[late.email]) == (CREDIT, CREDIT)
            expected = {early.id: 1, late.id: 1} if enrolled == "ok" else {early.id: 1}
            assert refund_entries(db, session.id) == expected
            statuses = db.exec(
                select(Enrollment.status).where(Enrollment.session_id == session.id)
            ).all()
            assert set(statuses) == {EnrollmentStatus.CANCELLED}
    with Session(race_engine) as db:
        assert balances(db)["escrow"] == 0
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_purchases_refunds_and_unenrolls_across_sessions_add_up(race_engine, clock):
    """The same wallets, and escrow, locked by different use cases at once."""
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        cancelled, other = paid_session(db, clock, teacher), paid_session(db, clock, teacher)
        buying = paid_session(db, clock, teacher)
        students = funded_students(db, clock, 6)
        for student in students:
            enrollments.enroll(db=db, actor=student, video_session_id=cancelled.id, clock=clock)
        for student in students[:3]:
            enrollments.enroll(db=db, actor=student, video_session_id=other.id, clock=clock)

    acts = [
        as_user(s.id, enrollments.enroll, video_session_id=buying.id, clock=clock) for s in students
    ]
    acts += [
        as_user(s.id, enrollments.unenroll, video_session_id=other.id, clock=clock)
        for s in students[:3]
    ]
    acts.append(
        as_user(
            teacher.id,
            sessions.cancel_session,
            video_session_id=cancelled.id,
            reason="Closed",
            clock=clock,
        )
    )
    outcomes = race(race_engine, acts)

    assert [outcome for outcome, _ in outcomes] == ["ok"] * len(acts), outcomes
    with Session(race_engine) as db:
        money = balances(db, *students)
        # Each paid `buying` once; the cancelled and the unenrolled seats came back.
        assert {money[s.email] for s in students} == {CREDIT - PRICE}
        assert balances(db)["escrow"] == len(students) * PRICE
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


@pytest.mark.postgres
@pytest.mark.parametrize("use_case", ["cancel", "unenroll"])
def test_refunds_lock_the_students_wallets_before_escrow(pg_engine, clock, use_case):
    """The lock order that rules out deadlocks with paid seats (which credit escrow last).

    While a student's wallet is held elsewhere, a refund waits for it holding no escrow lock.
    """
    with setting_up(pg_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = paid_session(db, clock, teacher)
        (student,) = funded_students(db, clock, 1)
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
        wallet_id = wallets.wallet_of(db, student.id).id
    if use_case == "cancel":
        act = as_user(
            teacher.id,
            sessions.cancel_session,
            video_session_id=session.id,
            reason="Closed",
            clock=clock,
        )
    else:
        act = as_user(student.id, enrollments.unenroll, video_session_id=session.id, clock=clock)

    with Session(pg_engine) as holder, Session(pg_engine) as probe:
        locking.lock(holder, Wallet, [wallet_id])
        refund = threading.Thread(target=lambda: race(pg_engine, [act]))
        refund.start()
        time.sleep(0.5)  # the refund is now waiting for the wallet
        escrow_free = probe.exec(
            select(Wallet.id).where(Wallet.kind == "escrow").with_for_update(nowait=True)
        ).all()
        probe.rollback()
        holder.rollback()
        refund.join(timeout=30)
    assert escrow_free, "the refund held escrow while waiting for a student's wallet"
    with Session(pg_engine) as db:
        assert balances(db, student)[student.email] == CREDIT
        assert_ledger_invariants(db)


def test_two_escrow_releases_racing_pay_the_teacher_once(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        finished = []
        for _ in range(4):
            session = paid_session(db, clock, teacher)
            for student in funded_students(db, clock, 2):
                enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
            finished.append(session)
    clock.at = max(s.ends_at for s in finished)

    def run(db):
        return enrollments.release_escrow(db=db, clock=clock)

    outcomes = race(race_engine, [run, run])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    # Each run counts the sessions it released (a run retried after Busy reports only its last
    # pass): together never more than there are sessions, and the database shows each paid once.
    assert sum(done for _, done in outcomes) <= 4
    with Session(race_engine) as db:
        assert balances(db, teacher) == {teacher.email: 8 * PRICE, "escrow": 0}
        earnings = db.exec(
            select(LedgerEntry.session_id).where(LedgerEntry.kind == EntryKind.EARNING)
        ).all()
        assert sorted(earnings) == sorted(s.id for s in finished)
        assert {p.status for p in db.exec(select(Purchase)).all()} == {PurchaseStatus.RELEASED}
        assert audit_actions(db).count("session.escrow_released") == 4
        assert_ledger_invariants(db)


# --- a top-up whose wallet is locked after the provider charged ----------------------------


class _LockingProvider:
    """Charges, while another transaction holds the wallet's lock longer than a lock wait."""

    name = "locking-test"

    def __init__(self, engine, wallet_id: int, hold_seconds: float) -> None:
        self.engine, self.wallet_id, self.hold = engine, wallet_id, hold_seconds
        self.references: list[str] = []
        self.holder: threading.Thread | None = None

    def charge(self, *, user_id: int, amount_cents: int, currency: str) -> str:
        locked = threading.Event()

        def hold() -> None:
            with Session(self.engine) as other:
                locking.lock(other, Wallet, [self.wallet_id])
                locked.set()
                time.sleep(self.hold)
                other.rollback()

        self.holder = threading.Thread(target=hold)
        self.holder.start()
        assert locked.wait(timeout=10)
        self.references.append(f"lock-test-{len(self.references)}")
        return self.references[-1]


@pytest.fixture
def short_lock_engine(request, race_engine, monkeypatch):
    """The race engine, with lock waits of one second instead of the configured ten."""
    # SQLite's busy timeout and PostgreSQL's lock_timeout are both set on the engine's connections.
    monkeypatch.setattr(visio_db, "settings", replace(settings, db_lock_timeout_seconds=1))
    engine = visio_db.make_engine(race_engine.url.render_as_string())
    request.addfinalizer(engine.dispose)
    return engine


def top_up_while_locked(engine, clock, monkeypatch, hold_seconds: float):
    """A top-up whose provider charges while the wallet is locked for `hold_seconds`."""
    with setting_up(engine) as db:
        student = make_student(db, clock=clock)
        wallet_id = wallets.wallet_of(db, student.id).id
    provider = _LockingProvider(engine, wallet_id, hold_seconds=hold_seconds)
    monkeypatch.setitem(payments._PROVIDERS, provider.name, provider)
    started = time.monotonic()
    try:
        with Session(engine, expire_on_commit=False) as db:
            return (
                student,
                provider,
                wallets.top_up(
                    db=db,
                    actor=db.get(User, student.id),
                    amount_cents=2_500,
                    clock=clock,
                    provider_name=provider.name,
                ),
            )
    finally:
        provider.waited = time.monotonic() - started
        provider.holder.join()


def test_top_up_charged_while_the_wallet_is_locked_is_still_credited(
    short_lock_engine, clock, monkeypatch
):
    # The lock is held past the first one-second wait, not past the retries.
    student, provider, result = top_up_while_locked(
        short_lock_engine, clock, monkeypatch, hold_seconds=1.5
    )

    assert provider.waited >= 1.0  # the first lock wait ran out: the credit came from a retry
    assert provider.references == ["lock-test-0"]  # charged once
    assert result.balance_cents == 2_500
    with Session(short_lock_engine) as db:
        (entry,) = db.exec(
            select(LedgerEntry).where(LedgerEntry.wallet_id == provider.wallet_id)
        ).all()
        assert (entry.amount_cents, entry.kind, entry.reference) == (
            2_500,
            EntryKind.TOPUP,
            "lock-test-0",
        )
        assert balances(db, student) == {student.email: 2_500, "escrow": 0}
        assert_ledger_invariants(db)


def test_top_up_whose_wallet_stays_locked_says_busy_and_logs_the_charge(
    short_lock_engine, clock, monkeypatch, caplog
):
    with pytest.raises(Busy):
        top_up_while_locked(short_lock_engine, clock, monkeypatch, hold_seconds=4)

    assert "charged but not credited" in caplog.text and "lock-test-0" in caplog.text
    with Session(short_lock_engine) as db:
        assert db.exec(select(LedgerEntry)).all() == []
        assert_ledger_invariants(db)


@pytest.mark.postgres
def test_free_enrollment_does_not_wait_for_the_escrow_lock(pg_engine, clock, monkeypatch):
    """A free seat moves no money: a long payment run holding escrow does not block it."""
    with setting_up(pg_engine) as db:
        teacher = make_teacher(db, clock=clock)
        session = make_session(db, teacher=teacher, clock=clock, publish=True)
        student = make_student(db, clock=clock)
        escrow_id = wallets.escrow_wallet(db).id

    with Session(pg_engine) as holder, Session(pg_engine, expire_on_commit=False) as db:
        locking.lock(holder, Wallet, [escrow_id])
        result = enrollments.enroll(
            db=db, actor=db.get(User, student.id), video_session_id=session.id, clock=clock
        )
        holder.rollback()

    assert result.enrollment.status == EnrollmentStatus.ACTIVE
    assert result.wallet_balance_cents == 0
