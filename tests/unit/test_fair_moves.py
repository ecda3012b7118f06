"""A session moved with students enrolled stays fair to them (issue 11, point 2).

The attack: a paid 8-hour workshop a week out was moved to start in one minute for 5 minutes,
escrow paid the teacher minutes later and the student's unenroll got `deadline_passed`; another
paid session was pushed two years out after its deadline, locking the student's money.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.factories import (
    balances,
    fresh,
    make_funded_student,
    make_session,
    make_teacher,
    table_counts,
)
from visio.models import Attendance, VideoSession
from visio.services import attendance, enrollments, session_view
from visio.services.errors import Conflict
from visio.services.session_edit import MAX_POSTPONE_DAYS, current_input, update_session
from visio.settings import settings


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


@pytest.fixture
def workshop(db, clock, teacher):
    """A paid 8-hour workshop a week out, deadline a day before, one student enrolled."""
    starts = clock() + timedelta(days=7)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=starts,
        duration_minutes=480,
        is_paid=True,
        price_cents=4_000,
        enrollment_deadline=starts - timedelta(days=1),
    )
    student = make_funded_student(db, clock=clock, amount_cents=10_000)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    return session, student


def move(db, clock, teacher, session, **changes):
    data = replace(current_input(db, session), **changes)
    return update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)


def assert_move_refused(db, clock, teacher, session, code, field, **changes):
    counts, before = table_counts(db), fresh(db, VideoSession, session.id)
    with pytest.raises(Conflict) as refused:
        move(db, clock, teacher, session, **changes)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert table_counts(db) == counts
    assert fresh(db, VideoSession, session.id) == before


def test_the_reported_attack_moving_a_paid_workshop_to_start_now_for_five_minutes_is_refused(
    db, clock, teacher, workshop
):
    session, _ = workshop
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "reschedule_notice_too_short",
        "starts_at",
        starts_at=clock() + timedelta(minutes=1),
        duration_minutes=5,
        enrollment_deadline=None,
    )


def test_moving_earlier_needs_the_minimum_notice(db, clock, teacher, workshop):
    session, _ = workshop
    just_short = clock() + timedelta(hours=settings.min_notice_hours) - timedelta(minutes=1)
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "reschedule_notice_too_short",
        "starts_at",
        starts_at=just_short,
        enrollment_deadline=None,
    )
    enough = clock() + timedelta(hours=settings.min_notice_hours)
    moved = move(db, clock, teacher, session, starts_at=enough, enrollment_deadline=None)
    assert moved.starts_at == enough


def test_postponing_is_limited_to_ninety_days_after_the_first_planned_start(
    db, clock, teacher, workshop
):
    session, _ = workshop
    planned = session.starts_at
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "reschedule_too_late",
        "starts_at",
        starts_at=planned + timedelta(days=MAX_POSTPONE_DAYS, minutes=1),
    )
    # Two steps cannot get further than one: the bound is the first planned start.
    move(db, clock, teacher, session, starts_at=planned + timedelta(days=60))
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "reschedule_too_late",
        "starts_at",
        starts_at=planned + timedelta(days=100),
    )
    move(db, clock, teacher, session, starts_at=planned + timedelta(days=MAX_POSTPONE_DAYS))


def test_pushing_a_paid_session_two_years_out_after_its_deadline_is_refused(
    db, clock, teacher, workshop
):
    session, _ = workshop
    clock.at = session.enrollment_deadline + timedelta(hours=1)
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "reschedule_too_late",
        "starts_at",
        starts_at=session.starts_at + timedelta(days=700),
    )


def test_the_duration_cannot_be_cut_by_more_than_half(db, clock, teacher, workshop):
    session, _ = workshop
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "duration_cut_too_far",
        "duration_minutes",
        duration_minutes=239,
    )
    move(db, clock, teacher, session, duration_minutes=240)
    # Halving again is measured against the planned 8 hours, not the 4 left.
    assert_move_refused(
        db,
        clock,
        teacher,
        session,
        "duration_cut_too_far",
        "duration_minutes",
        duration_minutes=120,
    )


def test_without_students_a_session_moves_freely_and_its_new_time_is_the_planned_one(
    db, clock, teacher
):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, duration_minutes=480)
    soon = clock() + timedelta(hours=1)
    moved = move(db, clock, teacher, session, starts_at=soon, duration_minutes=30)
    stored = fresh(db, VideoSession, moved.id)
    assert (stored["planned_starts_at"], stored["planned_ends_at"]) == (
        soon,
        soon + timedelta(minutes=30),
    )
    assert stored["rescheduled_at"] is None


def test_after_a_move_the_student_may_unenroll_refunded_past_the_deadline_until_the_new_start(
    db, clock, teacher, workshop
):
    session, student = workshop
    planned = session.starts_at
    later = planned + timedelta(days=14)
    move(
        db, clock, teacher, session, starts_at=later, enrollment_deadline=later - timedelta(days=1)
    )
    # The new deadline has passed: before the move this was `deadline_passed`.
    clock.at = later - timedelta(hours=2)
    view = session_view.public_view(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert view.action == session_view.Action.UNENROLL
    assert view.planned_starts_at == planned
    assert view.refund_until == later

    done = enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert done.refunded_cents == 4_000
    assert balances(db, student)[student.email] == 10_000


def test_the_refund_right_ends_at_the_new_start(db, clock, teacher, workshop):
    session, student = workshop
    later = session.starts_at + timedelta(days=2)
    move(db, clock, teacher, session, starts_at=later)
    clock.at = later
    with pytest.raises(Conflict) as refused:
        enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert refused.value.code == "deadline_passed"


def test_a_student_who_enrolled_after_the_move_keeps_the_usual_deadline(
    db, clock, teacher, workshop
):
    session, _ = workshop
    later = session.starts_at + timedelta(days=2)
    move(
        db, clock, teacher, session, starts_at=later, enrollment_deadline=later - timedelta(days=1)
    )
    clock.advance(minutes=5)
    newcomer = make_funded_student(db, clock=clock, amount_cents=10_000)
    enrollments.enroll(db=db, actor=newcomer, video_session_id=session.id, clock=clock)
    clock.at = later - timedelta(hours=2)
    with pytest.raises(Conflict) as refused:
        enrollments.unenroll(db=db, actor=newcomer, video_session_id=session.id, clock=clock)
    assert refused.value.code == "deadline_passed"


def test_a_join_before_the_move_does_not_cost_the_refund(db, clock, teacher):
    starts = clock() + timedelta(days=3)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=starts,
        is_paid=True,
        price_cents=1_000,
    )
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.at = starts - timedelta(minutes=5)  # in the join window
    attendance.join(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(minutes=1)
    move(db, clock, teacher, session, starts_at=starts + timedelta(days=30))
    clock.advance(minutes=1)

    done = enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert done.refunded_cents == 1_000
    assert db.get(Attendance, 1) is not None  # the join stays in the records


def test_escrow_waits_for_the_end_first_planned(db, clock, teacher):
    starts = clock() + timedelta(days=7)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=starts,
        duration_minutes=240,
        is_paid=True,
        price_cents=2_500,
    )
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    planned_end = starts + timedelta(minutes=240)
    earlier = clock() + timedelta(days=2)
    move(db, clock, teacher, session, starts_at=earlier, duration_minutes=120)

    clock.at = earlier + timedelta(minutes=121)  # the moved session is over
    assert enrollments.release_escrow(db=db, clock=clock) == 0
    assert balances(db, teacher)[teacher.email] == 0
    clock.at = planned_end - timedelta(seconds=1)
    assert enrollments.release_escrow(db=db, clock=clock) == 0
    clock.at = planned_end
    assert enrollments.release_escrow(db=db, clock=clock) == 1
    assert balances(db, teacher)[teacher.email] == 2_500
