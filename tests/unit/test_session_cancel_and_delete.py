"""Ending a video session: cancel (reason, refunds, ownership, status) and delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.factories import (
    audit_actions,
    fresh,
    make_session,
    make_student,
    make_teacher,
    table_counts,
    top_up,
)
from visio.models import AuditEvent, SessionTag, StoredStatus, Tag, VideoSession
from visio.services import sessions, wallets
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotFound


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def cancel(db, clock, actor, session_id, reason="The teacher is ill"):
    return sessions.cancel_session(
        db=db, actor=actor, video_session_id=session_id, reason=reason, clock=clock
    )


def delete(db, clock, actor, session_id):
    sessions.delete_session(db=db, actor=actor, video_session_id=session_id, clock=clock)


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_without_enrollments_refunds_nothing_and_records_the_reason(db, clock, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=2_000
    )
    clock.advance(hours=2)

    result = cancel(db, clock, teacher, session.id, reason="  Room   unavailable  ")

    assert (result.refunded_count, result.refunded_cents) == (0, 0)
    stored = fresh(db, VideoSession, session.id)
    assert stored["status"] == StoredStatus.CANCELLED
    assert stored["cancel_reason"] == "Room unavailable"
    assert stored["cancelled_at"] == stored["updated_at"] == clock()
    assert sessions.effective_status(result.session, clock()) == "cancelled"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.cancelled")).one()
    assert (event.actor_id, event.target_id) == (teacher.id, session.id)
    assert event.data == {"reason": "Room unavailable", "refunded_count": 0, "refunded_cents": 0}
    assert sessions.refund_preview(db=db, actor=teacher, video_session_id=session.id) == (0, 0)


def test_cancel_moves_no_money(db, clock, teacher):
    student = make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=5_000, clock=clock)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1_000
    )

    cancel(db, clock, teacher, session.id)

    assert wallets.balance_of(db, student.id) == 5_000
    assert wallets.balance_of(db, teacher.id) == 0
    assert wallets.escrow_wallet(db).balance_cents == 0


def test_cancel_of_a_draft_is_allowed(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    cancel(db, clock, teacher, draft.id)
    assert fresh(db, VideoSession, draft.id)["status"] == StoredStatus.CANCELLED


def test_cancel_of_an_ongoing_session_is_allowed(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.at = session.starts_at + timedelta(minutes=5)
    cancel(db, clock, teacher, session.id)
    assert fresh(db, VideoSession, session.id)["status"] == StoredStatus.CANCELLED


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "cancel_reason_required"),
        ("   \n\t ", "cancel_reason_required"),
        (None, "cancel_reason_required"),
        ("r" * 501, "cancel_reason_too_long"),
    ],
)
def test_cancel_without_a_proper_reason_is_refused_and_changes_nothing(
    db, clock, teacher, reason, code
):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    before, counts = fresh(db, VideoSession, session.id), table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        cancel(db, clock, teacher, session.id, reason=reason)

    assert (refused.value.code, refused.value.field) == (code, "reason")
    assert fresh(db, VideoSession, session.id) == before
    assert table_counts(db) == counts


def test_cancel_reason_of_500_characters_is_accepted(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock)
    cancel(db, clock, teacher, session.id, reason="r" * 500)
    assert fresh(db, VideoSession, session.id)["cancel_reason"] == "r" * 500


def test_cancel_twice_is_refused_with_conflict(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    cancel(db, clock, teacher, session.id, reason="First")
    before, counts = fresh(db, VideoSession, session.id), table_counts(db)
    clock.advance(minutes=1)

    with pytest.raises(Conflict) as refused:
        cancel(db, clock, teacher, session.id, reason="Second")

    assert (refused.value.code, refused.value.params) == ("invalid_status", {"status": "cancelled"})
    assert fresh(db, VideoSession, session.id) == before
    assert table_counts(db) == counts
    assert audit_actions(db).count("session.cancelled") == 1


def test_cancel_by_another_teacher_is_forbidden_and_changes_nothing(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    intruder = make_teacher(db, clock=clock)
    before, counts = fresh(db, VideoSession, session.id), table_counts(db)

    with pytest.raises(Forbidden) as refused:
        cancel(db, clock, intruder, session.id)

    assert refused.value.code == "not_owner"
    assert fresh(db, VideoSession, session.id) == before
    assert table_counts(db) == counts
    with pytest.raises(Forbidden):
        sessions.refund_preview(db=db, actor=intruder, video_session_id=session.id)


def test_cancel_by_a_student_is_forbidden(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = make_student(db, clock=clock)
    with pytest.raises(Forbidden) as refused:
        cancel(db, clock, student, session.id)
    assert refused.value.code == "wrong_role"
    assert fresh(db, VideoSession, session.id)["status"] == StoredStatus.SCHEDULED


def test_cancel_of_a_finished_session_is_refused(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.at = session.ends_at
    before = fresh(db, VideoSession, session.id)

    with pytest.raises(Conflict) as refused:
        cancel(db, clock, teacher, session.id)

    assert (refused.value.code, refused.value.params) == ("invalid_status", {"status": "finished"})
    assert fresh(db, VideoSession, session.id) == before


def test_cancel_of_an_unknown_session_is_not_found(db, clock, teacher):
    with pytest.raises(NotFound):
        cancel(db, clock, teacher, 424_242)


# --- delete ---------------------------------------------------------------------------------


def test_delete_of_a_draft_removes_it_and_its_tag_links(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock, tags=["chemistry", "lab"])

    delete(db, clock, teacher, draft.id)

    assert fresh(db, VideoSession, draft.id) is None
    assert db.exec(select(SessionTag).where(SessionTag.session_id == draft.id)).all() == []
    assert sorted(db.exec(select(Tag.name)).all()) == ["chemistry", "lab"]  # shared, kept
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.deleted")).one()
    assert (event.actor_id, event.target_id, event.data) == (
        teacher.id,
        draft.id,
        {"title": draft.title},
    )


def test_delete_of_a_published_session_nobody_enrolled_in_is_allowed(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    delete(db, clock, teacher, session.id)
    assert fresh(db, VideoSession, session.id) is None


def test_delete_by_another_teacher_is_forbidden_and_changes_nothing(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock, tags=["history"])
    intruder = make_teacher(db, clock=clock)
    before, counts = fresh(db, VideoSession, draft.id), table_counts(db)

    with pytest.raises(Forbidden) as refused:
        delete(db, clock, intruder, draft.id)

    assert refused.value.code == "not_owner"
    assert fresh(db, VideoSession, draft.id) == before
    assert table_counts(db) == counts


def test_delete_by_a_student_is_forbidden(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    student = make_student(db, clock=clock)
    counts = table_counts(db)
    with pytest.raises(Forbidden):
        delete(db, clock, student, draft.id)
    assert table_counts(db) == counts


def test_delete_of_an_unknown_session_is_not_found(db, clock, teacher):
    with pytest.raises(NotFound):
        delete(db, clock, teacher, 31_337)
