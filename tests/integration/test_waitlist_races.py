"""The waiting list under real concurrency, on SQLite (a file) and PostgreSQL: promotions racing
with enrollments, unenrollments, capacity changes, joins and leaves never exceed the capacity,
keep the line's order, and charge or promote nobody twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from tests.factories import make_funded_student, make_session, make_teacher
from tests.integration.test_enroll_races import as_user, race, setting_up
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Notice,
    Purchase,
    User,
    VideoSession,
    WaitlistEntry,
    WaitlistStatus,
)
from visio.services import enrollments, waitlist
from visio.services.session_edit import current_input, update_session

PRICE = 1_000
CREDIT = 3_000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_engine(request):
    """An engine on a migrated database of each kind, shared by the racing threads."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


def seated_ids(db: Session, session_id: int) -> set[int]:
    return set(
        db.exec(
            select(Enrollment.student_id).where(
                Enrollment.session_id == session_id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all()
    )


def raise_capacity(teacher_id: int, session_id: int, capacity: int, clock):
    def act(db: Session):
        session = db.get(VideoSession, session_id)
        data = replace(current_input(db, session), capacity=capacity)
        return update_session(
            db=db,
            actor=db.get(User, teacher_id),
            video_session_id=session_id,
            data=data,
            clock=clock,
        )

    return act


def full_paid_session(db, clock, capacity: int):
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=PRICE,
        capacity=capacity,
    )
    seated = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(capacity)]
    for student in seated:
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    return teacher, session, seated


def line_up(db, clock, session, students):
    for student in students:
        clock.advance(seconds=1)
        waitlist.join(db=db, actor=student, video_session_id=session.id, clock=clock)


def test_promotions_racing_with_enrollments_unenrollments_and_a_capacity_rise(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher, session, seated = full_paid_session(db, clock, capacity=3)
        line = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(7)]
        poor = make_funded_student(db, clock=clock, amount_cents=PRICE - 1)
        line.insert(1, poor)  # second in line, and cannot pay
        line_up(db, clock, session, line)
        outsiders = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(4)]
    clock.advance(seconds=1)

    acts = [
        *[
            as_user(s.id, enrollments.unenroll, video_session_id=session.id, clock=clock)
            for s in seated
        ],
        *[
            as_user(s.id, enrollments.enroll, video_session_id=session.id, clock=clock)
            for s in outsiders
        ],
        raise_capacity(teacher.id, session.id, 5, clock),
        as_user(line[0].id, waitlist.leave, video_session_id=session.id, clock=clock),
    ]
    outcomes = race(race_engine, acts)

    kinds = [kind for kind, _ in outcomes]
    assert kinds[:3] == ["ok"] * 3, outcomes  # the unenrollments
    assert kinds[3:7] == ["session_full"] * 4, outcomes  # freed seats went to the line
    assert kinds[7] == "ok", outcomes  # the capacity rise
    assert kinds[8] in ("ok", "not_waiting"), outcomes  # line[0] left, or was promoted first
    left = {line[0].id} if kinds[8] == "ok" else set()
    can_pay = [s.id for s in line if s.id != poor.id and s.id not in left]
    with Session(race_engine) as db:
        stored = db.get(VideoSession, session.id)
        assert stored.capacity == 5 and stored.enrolled_count == 5
        assert seated_ids(db, session.id) == set(can_pay[:5])  # in line order
        purchases = Counter(
            db.exec(select(Purchase.student_id).where(Purchase.session_id == session.id)).all()
        )
        assert all(n == 1 for s, n in purchases.items() if s in can_pay), purchases
        promoted = db.exec(
            select(WaitlistEntry.student_id).where(WaitlistEntry.status == WaitlistStatus.PROMOTED)
        ).all()
        assert sorted(promoted) == sorted(can_pay[:5])
        told = db.exec(select(Notice.user_id).where(Notice.kind == "waitlist_promoted")).all()
        assert sorted(told) == sorted(can_pay[:5])  # each promoted once, told once
        short = db.exec(select(Notice.user_id).where(Notice.kind == "waitlist_short")).all()
        assert short == [poor.id]
        assert waitlist.waiting_count(db, session.id) == len(line) - len(left) - 5
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_joins_racing_with_unenrollments_keep_the_order(race_engine, clock):
    with setting_up(race_engine) as db:
        _, session, seated = full_paid_session(db, clock, capacity=4)
        early = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(2)]
        line_up(db, clock, session, early)
        late = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(4)]
    clock.advance(seconds=1)

    outcomes = race(
        race_engine,
        [
            *[
                as_user(s.id, enrollments.unenroll, video_session_id=session.id, clock=clock)
                for s in seated[:3]
            ],
            *[as_user(s.id, waitlist.join, video_session_id=session.id, clock=clock) for s in late],
        ],
    )

    kinds = [kind for kind, _ in outcomes]
    assert kinds[:3] == ["ok"] * 3, outcomes
    # A join finds the session full (it joins), or, after the line ran dry, a free seat.
    assert set(kinds[3:]) <= {"ok", "seats_available"}, outcomes
    with Session(race_engine) as db:
        seats = seated_ids(db, session.id)
        assert {s.id for s in early} <= seats  # the early ones first, whatever the timing
        assert len(seats) <= 4
        assert db.get(VideoSession, session.id).enrolled_count == len(seats)
        joined_late = [s.id for s, (k, _) in zip(late, outcomes[3:], strict=True) if k == "ok"]
        # the late promoted are the first of the late joiners, by joining order
        entries = db.exec(
            select(WaitlistEntry)
            .where(WaitlistEntry.student_id.in_(joined_late))  # type: ignore[attr-defined]
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)  # type: ignore[arg-type]
        ).all()
        statuses = [e.status for e in entries]
        assert statuses == sorted(statuses, key=lambda s: s != WaitlistStatus.PROMOTED)
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_one_waiting_student_is_promoted_once_when_seats_free_together(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher, session, seated = full_paid_session(db, clock, capacity=3)
        (waiting,) = [make_funded_student(db, clock=clock, amount_cents=CREDIT)]
        line_up(db, clock, session, [waiting])
    clock.advance(seconds=1)

    outcomes = race(
        race_engine,
        [
            *[
                as_user(s.id, enrollments.unenroll, video_session_id=session.id, clock=clock)
                for s in seated
            ],
            raise_capacity(teacher.id, session.id, 6, clock),
            as_user(waiting.id, enrollments.enroll, video_session_id=session.id, clock=clock),
        ],
    )

    kinds = [kind for kind, _ in outcomes]
    assert kinds[:4] == ["ok"] * 4, outcomes
    assert kinds[4] in ("ok", "already_enrolled", "session_full"), outcomes
    with Session(race_engine) as db:
        assert seated_ids(db, session.id) == {waiting.id}
        purchases = db.exec(select(Purchase).where(Purchase.student_id == waiting.id)).all()
        assert len(purchases) == 1
        assert_ledger_invariants(db)
        assert_seat_invariants(db)
