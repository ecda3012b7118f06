"""Editing a session: what each status allows, who may edit, and the audit of a real change."""

from __future__ import annotations

from dataclasses import replace
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
from visio.models import AuditEvent, Platform, StoredStatus, VideoSession
from visio.services import enrollments, sessions
from visio.services.catalog import tags_by_session
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from visio.services.session_edit import current_input, update_session
from visio.settings import settings

ZOOM_LINK = "https://us02web.zoom.us/j/123456789"


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def edit(db, clock, actor, session, **changes):
    """Submit the session's current values with `changes`, as the edit form does."""
    data = replace(current_input(db, session), **changes)
    return update_session(db=db, actor=actor, video_session_id=session.id, data=data, clock=clock)


def enroll(db, clock, student, session):
    return enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)


def assert_refused(db, clock, actor, session, error_type, code, **changes):
    """The edit raises `error_type(code)` and no row, column or audit event changed."""
    counts, before = table_counts(db), fresh(db, VideoSession, session.id)
    with pytest.raises(error_type) as refused:
        edit(db, clock, actor, session, **changes)
    assert refused.value.code == code
    assert table_counts(db) == counts
    assert fresh(db, VideoSession, session.id) == before
    return refused.value


# --- drafts ---------------------------------------------------------------------------------


def test_a_draft_can_change_every_field(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock, tags=["maths"])
    new_start = clock() + timedelta(days=5)

    edit(
        db,
        clock,
        teacher,
        draft,
        title="  Geometry   workshop ",
        description="Triangles.",
        starts_at=new_start,
        duration_minutes=90,
        timezone="America/New_York",
        platform=Platform.ZOOM,
        link=ZOOM_LINK,
        is_paid=True,
        price_cents=2_500,
        capacity=12,
        enrollment_deadline=new_start - timedelta(hours=3),
        tags=["Geometry", "#Shapes"],
    )

    stored = fresh(db, VideoSession, draft.id)
    assert stored["title"] == "Geometry workshop"
    assert stored["description"] == "Triangles."
    assert (stored["starts_at"], stored["ends_at"]) == (
        new_start,
        new_start + timedelta(minutes=90),
    )
    assert (stored["duration_minutes"], stored["timezone"]) == (90, "America/New_York")
    assert (stored["platform"], stored["link"]) == ("zoom", ZOOM_LINK)
    assert (stored["is_paid"], stored["price_cents"]) == (True, 2_500)
    assert stored["capacity"] == 12
    assert stored["enrollment_deadline"] == new_start - timedelta(hours=3)
    assert stored["status"] == StoredStatus.DRAFT
    assert stored["updated_at"] == clock()
    assert tags_by_session(db, [draft.id])[draft.id] == ["geometry", "shapes"]


def test_a_draft_edit_is_still_validated_and_a_refusal_changes_nothing(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock)
    error = assert_refused(db, clock, teacher, draft, InvalidInput, "title_too_short", title="ab")
    assert error.field == "title"
    assert_refused(
        db,
        clock,
        teacher,
        draft,
        InvalidInput,
        "start_in_past",
        starts_at=clock() - timedelta(minutes=1),
    )


# --- scheduled sessions ---------------------------------------------------------------------


def test_a_scheduled_session_takes_text_tags_capacity_and_deadline(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=5)
    enroll(db, clock, make_student(db, clock=clock), session)
    deadline = session.starts_at - timedelta(hours=1)

    edit(
        db,
        clock,
        teacher,
        session,
        title="Algebra, second part",
        description="Now with matrices.",
        tags=["algebra", "matrices"],
        capacity=8,
        enrollment_deadline=deadline,
    )

    stored = fresh(db, VideoSession, session.id)
    assert stored["title"] == "Algebra, second part"
    assert stored["description"] == "Now with matrices."
    assert (stored["capacity"], stored["enrollment_deadline"]) == (8, deadline)
    assert stored["status"] == StoredStatus.SCHEDULED
    assert stored["enrolled_count"] == 1
    assert tags_by_session(db, [session.id])[session.id] == ["algebra", "matrices"]


def test_a_scheduled_session_can_move_before_it_starts(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    later = session.starts_at + timedelta(days=1)

    edit(db, clock, teacher, session, starts_at=later, duration_minutes=45)

    stored = fresh(db, VideoSession, session.id)
    assert (stored["starts_at"], stored["ends_at"]) == (later, later + timedelta(minutes=45))


def test_moving_the_start_after_the_session_started_is_refused(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.at = session.starts_at + timedelta(minutes=10)  # ongoing

    error = assert_refused(
        db,
        clock,
        teacher,
        session,
        Conflict,
        "edit_time_after_start",
        starts_at=clock() + timedelta(days=1),
    )
    assert error.field == "starts_at"


def test_changing_the_duration_after_the_session_started_is_refused(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.at = session.starts_at + timedelta(minutes=10)

    assert_refused(
        db, clock, teacher, session, Conflict, "edit_time_after_start", duration_minutes=120
    )


def test_an_ongoing_session_still_takes_a_new_title(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.at = session.starts_at + timedelta(minutes=10)

    edit(db, clock, teacher, session, title="Algebra (live now)")

    assert fresh(db, VideoSession, session.id)["title"] == "Algebra (live now)"


def test_the_link_cannot_change_once_the_session_started(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.at = session.starts_at + timedelta(minutes=10)

    assert_refused(
        db,
        clock,
        teacher,
        session,
        Conflict,
        "edit_link_after_start",
        platform=Platform.ZOOM,
        link=ZOOM_LINK,
    )


def test_the_price_can_change_while_nobody_has_paid(db, clock, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1_500
    )

    edit(db, clock, teacher, session, price_cents=1_200)

    assert fresh(db, VideoSession, session.id)["price_cents"] == 1_200


def test_the_price_cannot_change_once_someone_paid(db, clock, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1_500
    )
    student = make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=5_000, clock=clock)
    enroll(db, clock, student, session)

    error = assert_refused(
        db, clock, teacher, session, Conflict, "edit_price_after_payment", price_cents=1_000
    )
    assert error.field == "price"
    assert_refused(
        db,
        clock,
        teacher,
        session,
        Conflict,
        "edit_price_after_payment",
        is_paid=False,
        price_cents=0,
    )


def test_the_price_stays_locked_after_the_payer_was_refunded(db, clock, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1_500
    )
    student = make_student(db, clock=clock)
    top_up(db, user=student, amount_cents=5_000, clock=clock)
    enroll(db, clock, student, session)
    enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)

    assert_refused(
        db, clock, teacher, session, Conflict, "edit_price_after_payment", price_cents=900
    )


def test_capacity_below_the_enrolled_count_is_refused(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=3)
    for _ in range(2):
        enroll(db, clock, make_student(db, clock=clock), session)

    error = assert_refused(
        db, clock, teacher, session, Conflict, "capacity_below_enrollments", capacity=1
    )
    assert (error.field, error.params) == ("capacity", {"enrolled": 2})

    edit(db, clock, teacher, session, capacity=2)
    assert fresh(db, VideoSession, session.id)["capacity"] == 2


@pytest.mark.parametrize("how", ["cancelled", "finished"])
def test_cancelled_and_finished_sessions_cannot_be_edited(db, clock, teacher, how):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    if how == "cancelled":
        sessions.cancel_session(
            db=db, actor=teacher, video_session_id=session.id, reason="Ill", clock=clock
        )
    else:
        clock.at = session.ends_at + timedelta(minutes=1)

    error = assert_refused(db, clock, teacher, session, Conflict, "invalid_status", title="New")
    assert error.params == {"status": how}


# --- who may edit ---------------------------------------------------------------------------


def test_another_teacher_cannot_edit(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock)
    other = make_teacher(db, clock=clock)

    assert_refused(db, clock, other, session, Forbidden, "not_owner", title="Taken over")


def test_a_student_cannot_edit(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = make_student(db, clock=clock)

    assert_refused(db, clock, student, session, Forbidden, "wrong_role", title="Mine now")


def test_editing_an_unknown_session_is_not_found(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock)
    data = current_input(db, session)
    with pytest.raises(NotFound) as refused:
        update_session(db=db, actor=teacher, video_session_id=10**9, data=data, clock=clock)
    assert refused.value.code == "session_not_found"


# --- platform -------------------------------------------------------------------------------


def test_switching_from_jitsi_to_zoom_keeps_the_zoom_link(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock)

    edit(db, clock, teacher, session, platform=Platform.ZOOM, link=ZOOM_LINK)

    stored = fresh(db, VideoSession, session.id)
    assert (stored["platform"], stored["link"]) == ("zoom", ZOOM_LINK)


def test_switching_from_zoom_to_jitsi_gets_a_new_room(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, platform="zoom", link=ZOOM_LINK)

    edit(db, clock, teacher, session, platform=Platform.JITSI, link="")

    stored = fresh(db, VideoSession, session.id)
    assert stored["platform"] == "jitsi"
    assert stored["link"].startswith(f"https://{settings.jitsi_domain}/")
    assert stored["link"] != ZOOM_LINK


def test_a_jitsi_session_keeps_its_room_across_other_edits(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock)
    room = session.link

    edit(db, clock, teacher, session, title="Renamed session")

    assert fresh(db, VideoSession, session.id)["link"] == room


# --- audit ----------------------------------------------------------------------------------


def test_an_edit_that_changes_nothing_writes_nothing(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, tags=["b", "a"])
    counts, before = table_counts(db), fresh(db, VideoSession, session.id)
    clock.advance(hours=1)

    edit(db, clock, teacher, session)

    assert table_counts(db) == counts
    assert fresh(db, VideoSession, session.id) == before
    assert "session.edited" not in audit_actions(db)


def test_the_same_tags_in_another_order_are_no_change(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, tags=["algebra", "python"])
    counts = table_counts(db)

    edit(db, clock, teacher, session, tags=["python", "algebra"])

    assert table_counts(db) == counts
    assert "session.edited" not in audit_actions(db)


def test_a_real_edit_is_audited_with_the_changed_field_names(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    clock.advance(minutes=5)

    edit(db, clock, teacher, session, title="Algebra, revised", tags=["exam"], capacity=30)

    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.edited")).one()
    assert (event.actor_id, event.target_type, event.target_id) == (
        teacher.id,
        "session",
        session.id,
    )
    assert event.data == {"fields": ["capacity", "tags", "title"]}
    assert event.created_at == clock()
    assert fresh(db, VideoSession, session.id)["updated_at"] == clock()
