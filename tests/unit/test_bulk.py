"""Bulk actions: each session checked and done on its own, the skipped ones said with a code."""

from __future__ import annotations

import pytest

from tests.factories import (
    balances,
    fresh,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from visio.models import StoredStatus, VideoSession
from visio.services import enrollments
from visio.services.bulk import MAX_BULK, BulkOutcome, bulk_action
from visio.services.errors import Forbidden, InvalidInput

UNKNOWN_ID = 10**9


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def run(db, clock, actor, action, ids, reason=""):
    return bulk_action(
        db=db, actor=actor, action=action, video_session_ids=ids, reason=reason, clock=clock
    )


def status_of(db, session):
    row = fresh(db, VideoSession, session.id)
    return None if row is None else row["status"]


def test_publish_several_reports_each_one_done_or_skipped_with_its_reason(db, clock, teacher):
    first = make_session(db, teacher=teacher, clock=clock)
    published = make_session(db, teacher=teacher, clock=clock, publish=True)
    theirs = make_session(db, teacher=make_teacher(db, clock=clock), clock=clock)
    last = make_session(db, teacher=teacher, clock=clock)

    outcomes = run(
        db, clock, teacher, "publish", [first.id, published.id, theirs.id, UNKNOWN_ID, last.id]
    )

    assert outcomes == [
        BulkOutcome(first.id, first.title, True),
        BulkOutcome(
            published.id, published.title, False, "invalid_status", {"status": "scheduled"}
        ),
        BulkOutcome(theirs.id, "", False, "not_owner"),
        BulkOutcome(UNKNOWN_ID, "", False, "session_not_found"),
        BulkOutcome(last.id, last.title, True),
    ]
    assert status_of(db, first) == status_of(db, last) == StoredStatus.SCHEDULED
    assert status_of(db, published) == StoredStatus.SCHEDULED
    assert status_of(db, theirs) == StoredStatus.DRAFT


def test_another_teachers_title_is_not_revealed(db, clock, teacher):
    theirs = make_session(
        db, teacher=make_teacher(db, clock=clock), clock=clock, title="Secret draft"
    )

    [outcome] = run(db, clock, teacher, "publish", [theirs.id])

    assert (outcome.done, outcome.code, outcome.title) == (False, "not_owner", "")


def test_the_same_id_twice_is_done_once(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)

    outcomes = run(db, clock, teacher, "publish", [draft.id, draft.id])

    assert outcomes == [BulkOutcome(draft.id, draft.title, True)]


def test_cancel_with_one_reason_refunds_the_paid_students_of_each_session(db, clock, teacher):
    paid = [
        make_session(
            db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=price
        )
        for price in (1_500, 2_000)
    ]
    free = make_session(db, teacher=teacher, clock=clock, publish=True)
    ann = make_funded_student(db, clock=clock, amount_cents=10_000)
    bob = make_funded_student(db, clock=clock, amount_cents=10_000)
    for student, session in ((ann, paid[0]), (ann, paid[1]), (bob, paid[1]), (bob, free)):
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert balances(db, ann, bob) == {ann.email: 6_500, bob.email: 8_000, "escrow": 5_500}

    outcomes = run(
        db, clock, teacher, "cancel", [s.id for s in (*paid, free)], reason="Teacher is ill"
    )

    assert [(o.session_id, o.done, o.code) for o in outcomes] == [
        (paid[0].id, True, ""),
        (paid[1].id, True, ""),
        (free.id, True, ""),
    ]
    assert balances(db, ann, bob) == {ann.email: 10_000, bob.email: 10_000, "escrow": 0}
    for session in (*paid, free):
        stored = fresh(db, VideoSession, session.id)
        assert (stored["status"], stored["cancel_reason"]) == ("cancelled", "Teacher is ill")


def test_cancel_skips_a_session_already_cancelled_without_refunding_twice(db, clock, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1_000
    )
    student = make_funded_student(db, clock=clock, amount_cents=3_000)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    run(db, clock, teacher, "cancel", [session.id], reason="First time")

    [again] = run(db, clock, teacher, "cancel", [session.id], reason="Second time")

    assert (again.done, again.code, again.params) == (
        False,
        "invalid_status",
        {"status": "cancelled"},
    )
    assert balances(db, student)[student.email] == 3_000
    assert fresh(db, VideoSession, session.id)["cancel_reason"] == "First time"


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_without_a_reason_is_refused_before_anything_is_done(db, clock, teacher, reason):
    sessions_ = [make_session(db, teacher=teacher, clock=clock, publish=True) for _ in range(2)]
    counts = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        run(db, clock, teacher, "cancel", [s.id for s in sessions_], reason=reason)

    assert (refused.value.code, refused.value.field) == ("cancel_reason_required", "reason")
    assert table_counts(db) == counts
    assert [status_of(db, s) for s in sessions_] == [StoredStatus.SCHEDULED] * 2


def test_delete_skips_sessions_that_had_enrollments(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    empty = make_session(db, teacher=teacher, clock=clock, publish=True)
    taken = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=taken.id, clock=clock)

    outcomes = run(db, clock, teacher, "delete", [draft.id, taken.id, empty.id])

    assert outcomes == [
        BulkOutcome(draft.id, draft.title, True),
        BulkOutcome(taken.id, taken.title, False, "delete_has_enrollments"),
        BulkOutcome(empty.id, empty.title, True),
    ]
    assert status_of(db, draft) is None and status_of(db, empty) is None
    assert status_of(db, taken) == StoredStatus.SCHEDULED
    assert fresh(db, VideoSession, taken.id)["enrolled_count"] == 1
    assert table_counts(db)["enrollments"] == 1


@pytest.mark.parametrize(
    ("action", "ids", "code", "field"),
    [
        ("publish", [], "bulk_empty", "ids"),
        ("publish", list(range(1, MAX_BULK + 2)), "bulk_too_many", "ids"),
        ("archive", [1], "bulk_action_invalid", "action"),
        ("", [1], "bulk_action_invalid", "action"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(db, clock, teacher, action, ids, code, field):
    draft = make_session(db, teacher=teacher, clock=clock)
    counts = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        run(db, clock, teacher, action, ids or [], reason="x")

    assert (refused.value.code, refused.value.field) == (code, field)
    assert table_counts(db) == counts
    assert status_of(db, draft) == StoredStatus.DRAFT


def test_exactly_the_maximum_is_accepted(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    ids = [draft.id, *range(UNKNOWN_ID, UNKNOWN_ID + MAX_BULK - 1)]

    outcomes = run(db, clock, teacher, "publish", ids)

    assert len(outcomes) == MAX_BULK
    assert outcomes[0].done
    assert {o.code for o in outcomes[1:]} == {"session_not_found"}


def test_a_student_cannot_run_bulk_actions(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    student = make_student(db, clock=clock)
    counts = table_counts(db)

    with pytest.raises(Forbidden) as refused:
        run(db, clock, student, "delete", [draft.id])

    assert refused.value.code == "wrong_role"
    assert table_counts(db) == counts
