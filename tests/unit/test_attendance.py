"""Joining a session and the attendance it records: window, refusals, heartbeats, leaving."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import (
    audit_actions,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from visio.clock import FrozenClock
from visio.models import Attendance, VideoSession
from visio.services import attendance, enrollments, sessions
from visio.services.errors import Conflict, Forbidden, NotAuthenticated, NotFound

START_IN = timedelta(days=1)
OPENS = timedelta(minutes=10)  # JOIN_OPENS_MINUTES, default


@pytest.fixture
def setup(db: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """A published one-hour Jitsi session tomorrow, its teacher and an enrolled student."""
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + START_IN
    )
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    return session, teacher, student


def _join(db, user, session, clock, **kw):  # type: ignore[no-untyped-def]
    return attendance.join(db=db, actor=user, video_session_id=session.id, clock=clock, **kw)


def _beat(db, user, session, clock):  # type: ignore[no-untyped-def]
    return attendance.heartbeat(db=db, actor=user, video_session_id=session.id, clock=clock)


def _row(db: Session, session: VideoSession, user) -> Attendance:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.exec(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == user.id)
    ).one()


# --- the window ------------------------------------------------------------------------------


def test_join_is_refused_one_second_before_the_window_and_allowed_at_its_first_second(
    db, clock, setup
) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at - OPENS - timedelta(seconds=1)
    before = table_counts(db)
    with pytest.raises(Conflict) as refused:
        _join(db, student, session, clock)
    assert refused.value.code == "join_not_open"
    assert refused.value.params == {"opens_minutes": 10}
    assert table_counts(db) == before

    clock.advance(seconds=1)
    joined = _join(db, student, session, clock)
    assert joined.url == session.link
    assert joined.in_app is True and joined.is_owner is False


def test_join_is_allowed_until_the_last_second_and_refused_at_the_end(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, teacher, student = setup
    clock.at = session.ends_at - timedelta(seconds=1)
    _join(db, student, session, clock)
    clock.at = session.ends_at
    with pytest.raises(Conflict) as refused:
        _join(db, teacher, session, clock)
    assert refused.value.code == "join_closed"


def test_the_window_follows_the_setting(db, clock, setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    session, _, student = setup
    monkeypatch.setattr(
        attendance, "settings", dataclasses.replace(attendance.settings, join_opens_minutes=30)
    )
    clock.at = session.starts_at - timedelta(minutes=30)
    _join(db, student, session, clock)


def test_join_window_open_and_the_next_change_follow_the_clock(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = setup
    opens = session.starts_at - OPENS
    assert not attendance.join_window_open(session, opens - timedelta(seconds=1))
    assert attendance.join_window_open(session, opens)
    assert not attendance.join_window_open(session, session.ends_at)
    # The deadline is the start here: the next changes are the opening, the start, the end.
    assert attendance.next_change_at(session, clock()) == opens
    assert attendance.next_change_at(session, opens) == session.starts_at
    assert attendance.next_change_at(session, session.starts_at) == session.ends_at
    assert attendance.next_change_at(session, session.ends_at) is None


# --- who may join ----------------------------------------------------------------------------


def test_the_owner_joins_as_owner(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, teacher, _ = setup
    clock.at = session.starts_at
    joined = _join(db, teacher, session, clock)
    assert joined.is_owner is True
    assert joined.attendance.user_id == teacher.id


def test_a_student_who_is_not_enrolled_is_refused_and_nothing_is_recorded(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = setup
    outsider = make_student(db, clock=clock)
    clock.at = session.starts_at
    before = table_counts(db)
    with pytest.raises(Forbidden) as refused:
        _join(db, outsider, session, clock)
    assert refused.value.code == "not_enrolled"
    assert table_counts(db) == before


def test_another_teacher_is_refused(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = setup
    clock.at = session.starts_at
    with pytest.raises(Forbidden) as refused:
        _join(db, make_teacher(db, clock=clock), session, clock)
    assert refused.value.code == "not_enrolled"


def test_a_student_who_unenrolled_is_refused(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.at = session.starts_at
    with pytest.raises(Forbidden) as refused:
        _join(db, student, session, clock)
    assert refused.value.code == "not_enrolled"


def test_everyone_is_refused_once_the_session_is_cancelled(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, teacher, student = setup
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Ill", clock=clock
    )
    clock.at = session.starts_at
    with pytest.raises(Forbidden) as refused:  # the cancellation ended the enrollment
        _join(db, student, session, clock)
    assert refused.value.code == "not_enrolled"
    with pytest.raises(Conflict) as owner_refused:
        _join(db, teacher, session, clock)
    assert owner_refused.value.code == "invalid_status"


def test_a_draft_cannot_be_joined_even_by_its_teacher(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    draft = make_session(db, teacher=teacher, clock=clock, starts_at=clock() + START_IN)
    clock.at = draft.starts_at
    with pytest.raises(Conflict) as refused:
        _join(db, teacher, draft, clock)
    assert refused.value.code == "invalid_status"


def test_logged_out_and_unknown_sessions_are_refused(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    with pytest.raises(NotAuthenticated):
        attendance.join(db=db, actor=None, video_session_id=session.id, clock=clock)
    with pytest.raises(NotFound):
        attendance.join(db=db, actor=student, video_session_id=10**9, clock=clock)


# --- what a join records ---------------------------------------------------------------------


def test_each_join_is_counted_first_join_kept_and_written_once_in_the_history(
    db, clock, setup
) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at - timedelta(minutes=5)
    first_at = clock()
    _join(db, student, session, clock)
    clock.advance(minutes=20)
    _join(db, student, session, clock)

    row = _row(db, session, student)
    assert (row.first_joined_at, row.last_seen_at, row.join_count) == (first_at, clock(), 2)
    assert row.left_at is None
    assert audit_actions(db, target_id=session.id).count("session.joined") == 1


def test_other_platforms_hand_out_their_link_and_have_no_in_app_room(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    zoom = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=clock() + START_IN,
        platform="zoom",
        link="https://us02web.zoom.us/j/123456789",
    )
    clock.at = zoom.starts_at
    before = table_counts(db)
    with pytest.raises(Conflict) as refused:
        _join(db, teacher, zoom, clock, in_app=True)
    assert refused.value.code == "no_in_app_room"
    assert table_counts(db) == before

    joined = _join(db, teacher, zoom, clock)
    assert (joined.url, joined.in_app) == ("https://us02web.zoom.us/j/123456789", False)


# --- heartbeats and time attended ------------------------------------------------------------


def test_heartbeats_every_30_seconds_accumulate_the_time_attended(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at
    _join(db, student, session, clock)
    for _ in range(20):  # ten minutes
        clock.advance(seconds=30)
        presence = _beat(db, student, session, clock)
    assert presence.seconds_attended == 600 and presence.ended is False
    assert _row(db, session, student).seconds_attended == 600


def test_a_gap_longer_than_two_heartbeats_is_not_counted(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at
    _join(db, student, session, clock)
    clock.advance(seconds=30)
    _beat(db, student, session, clock)  # 30
    clock.advance(seconds=61)  # gone: the laptop slept
    assert _beat(db, student, session, clock).seconds_attended == 30
    clock.advance(seconds=60)  # exactly two intervals: one heartbeat was lost, still there
    assert _beat(db, student, session, clock).seconds_attended == 90
    clock.advance(seconds=30)
    assert _beat(db, student, session, clock).seconds_attended == 120


def test_time_before_the_start_is_not_counted(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at - timedelta(minutes=2)
    _join(db, student, session, clock)
    for _ in range(4):  # in the room from two minutes early until the start
        clock.advance(seconds=30)
        presence = _beat(db, student, session, clock)
    assert clock() == session.starts_at
    assert presence.seconds_attended == 0
    clock.advance(seconds=25)
    assert _beat(db, student, session, clock).seconds_attended == 25


def test_time_after_the_end_is_not_counted(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.ends_at - timedelta(seconds=20)
    _join(db, student, session, clock)
    clock.advance(seconds=30)
    presence = _beat(db, student, session, clock)
    assert (presence.seconds_attended, presence.ended) == (20, True)
    clock.advance(seconds=30)
    assert _beat(db, student, session, clock).seconds_attended == 20


def test_the_whole_session_attended_is_its_duration_and_never_more(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at - timedelta(minutes=1)
    _join(db, student, session, clock)
    while clock() < session.ends_at + timedelta(minutes=2):
        clock.advance(seconds=30)
        _beat(db, student, session, clock)
    assert _row(db, session, student).seconds_attended == 60 * 60


def test_two_tabs_of_one_user_do_not_count_twice(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at
    _join(db, student, session, clock)
    clock.advance(seconds=10)
    _join(db, student, session, clock)  # a second tab (or a reload): the 10 s count once
    for _ in range(4):  # both tabs beat, 15 s apart
        clock.advance(seconds=15)
        presence = _beat(db, student, session, clock)
    assert presence.seconds_attended == 70


def test_leaving_counts_up_to_now_and_records_when(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at
    _join(db, student, session, clock)
    clock.advance(seconds=30)
    _beat(db, student, session, clock)
    clock.advance(seconds=12)
    left = attendance.leave(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert left is not None
    row = _row(db, session, student)
    assert (row.seconds_attended, row.left_at) == (42, clock())

    clock.advance(seconds=5)  # a second "leave" (the page unmounting) changes nothing
    attendance.leave(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert _row(db, session, student).left_at == clock() - timedelta(seconds=5)


def test_coming_back_after_leaving_does_not_count_the_time_away(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at
    _join(db, student, session, clock)
    clock.advance(seconds=20)
    attendance.leave(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(seconds=40)  # away, though within two intervals
    _join(db, student, session, clock)
    clock.advance(seconds=30)
    assert _beat(db, student, session, clock).seconds_attended == 50
    row = _row(db, session, student)
    assert (row.join_count, row.left_at) == (2, None)


def test_leave_without_a_join_records_nothing(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    before = table_counts(db)
    assert attendance.leave(db=db, actor=student, video_session_id=session.id, clock=clock) is None
    assert table_counts(db) == before


def test_a_heartbeat_needs_a_join_and_a_participant(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, _, student = setup
    clock.at = session.starts_at
    with pytest.raises(Conflict) as not_joined:
        _beat(db, student, session, clock)
    assert not_joined.value.code == "not_joined"
    with pytest.raises(Forbidden):
        _beat(db, make_student(db, clock=clock), session, clock)


def test_a_heartbeat_after_the_session_was_cancelled_is_refused(db, clock, setup) -> None:  # type: ignore[no-untyped-def]
    session, teacher, _ = setup
    clock.at = session.starts_at + timedelta(minutes=5)
    _join(db, teacher, session, clock)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Power cut", clock=clock
    )
    clock.advance(seconds=30)
    with pytest.raises(Conflict) as refused:
        _beat(db, teacher, session, clock)
    assert refused.value.code == "invalid_status"
