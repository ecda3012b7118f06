"""Enrolling in a whole series under real concurrency, on SQLite (a file) and PostgreSQL:
all seats or none, one purchase per occurrence, the ledger exact."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, select

from tests.factories import balances, make_funded_student, make_teacher, session_input
from tests.integration.test_enroll_races import as_user, race, setting_up
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import Enrollment, EnrollmentStatus, Purchase, PurchaseStatus, VideoSession
from visio.services import enrollments, series
from visio.services.series import Repeat

PRICE = 1_000
CREDIT = 10_000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_engine(request):
    """An engine on a migrated database of each kind, shared by the racing threads."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")


def paid_series(db, clock, teacher, *, count=3, capacity=None):
    return series.create_series(
        db=db,
        actor=teacher,
        data=session_input(clock, is_paid=True, price_cents=PRICE, capacity=capacity),
        repeat=Repeat(every_days=7, count=count),
        publish=True,
        clock=clock,
    )


def seats_of(db, student_id: int) -> set[int]:
    return set(
        db.exec(
            select(Enrollment.session_id).where(
                Enrollment.student_id == student_id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all()
    )


def test_a_series_enroll_racing_single_enrolls_for_the_last_seat_is_all_or_nothing(
    race_engine, clock
):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        made = paid_series(db, clock, teacher, capacity=2)
        ids = [o.id for o in made.occurrences]
        early = make_funded_student(db, clock=clock, amount_cents=CREDIT)
        enrollments.enroll(db=db, actor=early, video_session_id=ids[1], clock=clock)
        # The middle occurrence has one seat left; six students race for it, one for the series.
        whole = make_funded_student(db, clock=clock, amount_cents=CREDIT)
        singles = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(6)]

    outcomes = race(
        race_engine,
        [as_user(whole.id, series.enroll_series, series_id=made.series.id, clock=clock)]
        + [
            as_user(s.id, enrollments.enroll, video_session_id=ids[1], clock=clock) for s in singles
        ],
    )

    kinds = [kind for kind, _ in outcomes]
    assert "crash" not in kinds and "busy" not in kinds, outcomes
    with Session(race_engine) as db:
        won_series = kinds[0] == "ok"
        got = Counter(kinds[1:])
        assert (got["ok"], got["session_full"]) == ((0, 6) if won_series else (1, 5))
        assert kinds[0] in ("ok", "session_full"), outcomes
        assert seats_of(db, whole.id) == (set(ids) if won_series else set())
        paid = db.exec(select(Purchase).where(Purchase.student_id == whole.id)).all()
        assert len(paid) == (3 if won_series else 0)
        assert balances(db, whole)[whole.email] == CREDIT - (3 * PRICE if won_series else 0)
        assert db.get(VideoSession, ids[1]).enrolled_count == 2
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_students_racing_for_a_small_series_each_get_every_seat_or_none(race_engine, clock):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        made = paid_series(db, clock, teacher, count=4, capacity=3)
        students = [make_funded_student(db, clock=clock, amount_cents=CREDIT) for _ in range(8)]

    outcomes = race(
        race_engine,
        [
            as_user(s.id, series.enroll_series, series_id=made.series.id, clock=clock)
            for s in students
        ],
    )

    assert Counter(kind for kind, _ in outcomes) == {"ok": 3, "session_full": 5}, outcomes
    with Session(race_engine) as db:
        every = {o.id for o in made.occurrences}
        for student, (kind, _) in zip(students, outcomes, strict=True):
            assert seats_of(db, student.id) == (every if kind == "ok" else set())
        held = db.exec(select(Purchase).where(Purchase.status == PurchaseStatus.HELD)).all()
        assert len(held) == 12
        assert balances(db, *students)["escrow"] == 12 * PRICE
        assert_ledger_invariants(db)
        assert_seat_invariants(db)


def test_a_series_enroll_racing_the_cancel_of_the_rest_ends_refunded_or_never_charged(
    race_engine, clock
):
    with setting_up(race_engine) as db:
        teacher = make_teacher(db, clock=clock)
        made = paid_series(db, clock, teacher)
        student = make_funded_student(db, clock=clock, amount_cents=CREDIT)

    outcomes = race(
        race_engine,
        [
            as_user(student.id, series.enroll_series, series_id=made.series.id, clock=clock),
            as_user(
                teacher.id,
                series.cancel_rest,
                series_id=made.series.id,
                reason="Course closed",
                clock=clock,
            ),
        ],
    )

    assert outcomes[1][0] == "ok", outcomes
    assert outcomes[0][0] in ("ok", "not_open"), outcomes
    with Session(race_engine) as db:
        assert seats_of(db, student.id) == set()
        assert balances(db, student) == {student.email: CREDIT, "escrow": 0}
        assert_ledger_invariants(db)
        assert_seat_invariants(db)
