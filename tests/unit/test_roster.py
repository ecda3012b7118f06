"""What a teacher sees of their session: money figures, students, history; nobody else sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_funded_student, make_session, make_student, make_teacher
from visio.models import EffectiveStatus, EnrollmentStatus, PurchaseStatus
from visio.services import enrollments, roster, sessions
from visio.services.errors import Forbidden, NotFound


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


@pytest.fixture
def paid_session(db, clock, teacher):
    return make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=1_500,
        tags=["maths", "exam"],
    )


def enroll(db, clock, student, session):
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)


def unenroll(db, clock, student, session):
    enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)


def view(db, clock, actor, session):
    return roster.owner_view(db=db, actor=actor, video_session_id=session.id, clock=clock)


def students(db, actor, session):
    return roster.enrolled_students(db=db, actor=actor, video_session_id=session.id)


def history(db, actor, session):
    return roster.audit_history(db=db, actor=actor, video_session_id=session.id)


# --- owner_view -----------------------------------------------------------------------------


def test_a_fresh_draft_has_no_money_and_can_be_deleted(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)

    shown = view(db, clock, teacher, draft)

    assert shown.session.id == draft.id
    assert shown.status == EffectiveStatus.DRAFT
    assert (shown.ever_enrolled, shown.refund_count, shown.refund_cents) == (0, 0, 0)
    assert shown.revenue_cents == 0
    assert shown.delete_blocker is None


def test_held_payments_are_what_a_cancel_would_refund(db, clock, teacher, paid_session):
    ann = make_funded_student(db, clock=clock, amount_cents=5_000)
    bob = make_funded_student(db, clock=clock, amount_cents=5_000)
    enroll(db, clock, ann, paid_session)
    enroll(db, clock, bob, paid_session)

    shown = view(db, clock, teacher, paid_session)

    assert shown.status == EffectiveStatus.SCHEDULED
    assert shown.tags == ["exam", "maths"]
    assert (shown.ever_enrolled, shown.refund_count, shown.refund_cents) == (2, 2, 3_000)
    assert shown.revenue_cents == 3_000
    assert shown.delete_blocker == "delete_has_enrollments"


def test_a_refunded_seat_leaves_the_figures_but_still_blocks_delete(
    db, clock, teacher, paid_session
):
    ann = make_funded_student(db, clock=clock, amount_cents=5_000)
    bob = make_funded_student(db, clock=clock, amount_cents=5_000)
    enroll(db, clock, ann, paid_session)
    enroll(db, clock, bob, paid_session)
    unenroll(db, clock, ann, paid_session)

    shown = view(db, clock, teacher, paid_session)

    assert (shown.ever_enrolled, shown.refund_count, shown.refund_cents) == (2, 1, 1_500)
    assert shown.revenue_cents == 1_500
    assert shown.delete_blocker == "delete_has_enrollments"


def test_a_scheduled_session_nobody_joined_can_be_deleted(db, clock, teacher, paid_session):
    assert view(db, clock, teacher, paid_session).delete_blocker is None


def test_released_money_stays_revenue_but_is_no_longer_refundable(db, clock, teacher, paid_session):
    enroll(db, clock, make_funded_student(db, clock=clock, amount_cents=5_000), paid_session)
    clock.at = paid_session.ends_at + timedelta(minutes=1)
    assert enrollments.release_escrow(db=db, clock=clock) == 1

    shown = view(db, clock, teacher, paid_session)

    assert shown.status == EffectiveStatus.FINISHED
    assert (shown.refund_count, shown.refund_cents, shown.revenue_cents) == (0, 0, 1_500)


def test_after_a_cancel_nothing_is_held_and_there_is_no_revenue(db, clock, teacher, paid_session):
    enroll(db, clock, make_funded_student(db, clock=clock, amount_cents=5_000), paid_session)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=paid_session.id, reason="Ill", clock=clock
    )

    shown = view(db, clock, teacher, paid_session)

    assert shown.status == EffectiveStatus.CANCELLED
    assert (shown.refund_count, shown.refund_cents, shown.revenue_cents) == (0, 0, 0)
    assert shown.delete_blocker == "delete_has_enrollments"


# --- enrolled_students ----------------------------------------------------------------------


def test_students_are_listed_with_what_they_paid_active_first(db, clock, teacher, paid_session):
    ann = make_funded_student(db, clock=clock, amount_cents=5_000, full_name="Ann Lee")
    bob = make_funded_student(db, clock=clock, amount_cents=5_000, full_name="Bob Ray")
    enroll(db, clock, ann, paid_session)
    clock.advance(minutes=1)
    enroll(db, clock, bob, paid_session)
    clock.advance(minutes=1)
    unenroll(db, clock, ann, paid_session)

    rows = students(db, teacher, paid_session)

    assert [
        (r.student_id, r.full_name, r.email, r.status, r.paid_cents, r.purchase_status)
        for r in rows
    ] == [
        (bob.id, "Bob Ray", bob.email, EnrollmentStatus.ACTIVE, 1_500, PurchaseStatus.HELD),
        (ann.id, "Ann Lee", ann.email, EnrollmentStatus.UNENROLLED, 1_500, PurchaseStatus.REFUNDED),
    ]
    assert rows[0].enrolled_at == clock() - timedelta(minutes=1)


def test_a_free_session_lists_students_with_nothing_paid(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = make_student(db, clock=clock, full_name="Cleo Dane")
    enroll(db, clock, student, session)

    [row] = students(db, teacher, session)

    assert (row.full_name, row.status, row.paid_cents, row.purchase_status) == (
        "Cleo Dane",
        EnrollmentStatus.ACTIVE,
        0,
        None,
    )


def test_a_student_who_came_back_shows_their_latest_payment(db, clock, teacher, paid_session):
    ann = make_funded_student(db, clock=clock, amount_cents=5_000)
    enroll(db, clock, ann, paid_session)
    unenroll(db, clock, ann, paid_session)
    clock.advance(minutes=1)
    enroll(db, clock, ann, paid_session)

    [row] = students(db, teacher, paid_session)

    assert (row.status, row.paid_cents, row.purchase_status) == (
        EnrollmentStatus.ACTIVE,
        1_500,
        PurchaseStatus.HELD,
    )


def test_other_sessions_students_are_not_listed(db, clock, teacher, paid_session):
    other = make_session(db, teacher=teacher, clock=clock, publish=True)
    enroll(db, clock, make_student(db, clock=clock), other)

    assert students(db, teacher, paid_session) == []


# --- audit_history --------------------------------------------------------------------------


def test_history_is_newest_first_and_includes_the_refunds_of_its_payments(
    db, clock, teacher, paid_session
):
    ann = make_funded_student(db, clock=clock, amount_cents=5_000, full_name="Ann Lee")
    clock.advance(minutes=1)
    enroll(db, clock, ann, paid_session)
    clock.advance(minutes=1)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=paid_session.id, reason="Ill", clock=clock
    )
    # Another session's events stay out.
    make_session(db, teacher=teacher, clock=clock)

    rows = history(db, teacher, paid_session)

    assert [(r.action, r.actor_name) for r in rows] == [
        ("session.cancelled", teacher.full_name),
        ("purchase.refunded", None),
        ("session.enrolled", "Ann Lee"),
        ("session.published", teacher.full_name),
        ("session.created", teacher.full_name),
    ]
    assert rows[0].data["reason"] == "Ill" and rows[0].at == clock()
    assert rows[1].data["amount_cents"] == 1_500
    assert rows[1].data["student_id"] == ann.id


def test_history_is_limited(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    assert [
        r.action
        for r in roster.audit_history(db=db, actor=teacher, video_session_id=draft.id, limit=1)
    ] == ["session.created"]


# --- who may look ---------------------------------------------------------------------------


@pytest.mark.parametrize("read", [view, students, history])
def test_another_teacher_is_refused(db, clock, teacher, paid_session, read):
    other = make_teacher(db, clock=clock)
    args = (db, clock, other, paid_session) if read is view else (db, other, paid_session)
    with pytest.raises(Forbidden) as refused:
        read(*args)
    assert refused.value.code == "not_owner"


@pytest.mark.parametrize("read", [view, students, history])
def test_a_student_is_refused_even_when_enrolled(db, clock, teacher, paid_session, read):
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    enroll(db, clock, student, paid_session)
    args = (db, clock, student, paid_session) if read is view else (db, student, paid_session)
    with pytest.raises(Forbidden) as refused:
        read(*args)
    assert refused.value.code == "wrong_role"


def test_an_unknown_session_is_not_found(db, clock, teacher):
    with pytest.raises(NotFound) as refused:
        roster.owner_view(db=db, actor=teacher, video_session_id=10**9, clock=clock)
    assert refused.value.code == "session_not_found"
