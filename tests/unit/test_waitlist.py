"""The waiting list: who may join, the order, promotions (paid, short, free), closing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.factories import (
    audit_actions,
    balances,
    make_funded_student,
    make_session,
    make_teacher,
    table_counts,
    top_up,
)
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import (
    Enrollment,
    EnrollmentStatus,
    Notice,
    VideoSession,
    WaitlistEntry,
    WaitlistStatus,
)
from visio.services import enrollments, inbox, mail, sessions, stats, waitlist
from visio.services.errors import Conflict, Forbidden, NotAuthenticated
from visio.services.session_edit import current_input, update_session

PRICE = 1_500


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def student(db, clock, cents=5_000):
    return make_funded_student(db, clock=clock, amount_cents=cents)


def full_session(db, clock, teacher, *, capacity=1, paid=False, **overrides):
    """A published session whose `capacity` seats are taken; returns it and its students."""
    extra = {"is_paid": True, "price_cents": PRICE} if paid else {}
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, capacity=capacity, **extra, **overrides
    )
    seated = [student(db, clock) for _ in range(capacity)]
    for s in seated:
        enrollments.enroll(db=db, actor=s, video_session_id=session.id, clock=clock)
    return session, seated


def join(db, clock, who, session):
    clock.advance(seconds=1)  # a distinct joining time each, as in life
    return waitlist.join(db=db, actor=who, video_session_id=session.id, clock=clock)


def leave_seat(db, clock, who, session):
    return enrollments.unenroll(db=db, actor=who, video_session_id=session.id, clock=clock)


def active(db, session) -> set[int]:
    db.rollback()
    return set(
        db.exec(
            select(Enrollment.student_id).where(
                Enrollment.session_id == session.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all()
    )


def notices(db, user, kind) -> list[Notice]:
    db.rollback()
    return list(db.exec(select(Notice).where(Notice.user_id == user.id, Notice.kind == kind)))


def place(db, clock, who, session):
    return waitlist.place_of(db=db, actor=who, video_session_id=session.id, clock=clock)


# --- joining -----------------------------------------------------------------------------------


def test_joining_a_full_session_gives_a_place_in_order_and_charges_nothing(db, clock, teacher):
    session, _ = full_session(db, clock, teacher, paid=True)
    first, second = student(db, clock), student(db, clock)
    before = balances(db, first, second)

    assert join(db, clock, first, session) == waitlist.Place("waiting", 1, 1)
    assert join(db, clock, second, session) == waitlist.Place("waiting", 2, 2)

    assert balances(db, first, second) == before
    assert place(db, clock, second, session).position == 2
    assert "waitlist.joined" in audit_actions(db, actor_id=first.id)


def test_joining_a_session_with_a_free_seat_is_refused(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=2)
    with pytest.raises(Conflict) as refused:
        join(db, clock, student(db, clock), session)
    assert refused.value.code == "seats_available"


def test_joining_twice_is_refused(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    who = student(db, clock)
    join(db, clock, who, session)
    counts = table_counts(db)
    with pytest.raises(Conflict) as refused:
        join(db, clock, who, session)
    assert refused.value.code == "already_waiting"
    assert table_counts(db) == counts


def test_an_enrolled_student_cannot_join(db, clock, teacher):
    session, (seated,) = full_session(db, clock, teacher)
    with pytest.raises(Conflict) as refused:
        join(db, clock, seated, session)
    assert refused.value.code == "already_enrolled"


def test_a_draft_a_cancelled_session_and_a_passed_deadline_refuse_joins(db, clock, teacher):
    draft = make_session(db, teacher=teacher, clock=clock, capacity=1)
    with pytest.raises(Conflict) as refused:
        join(db, clock, student(db, clock), draft)
    assert refused.value.code == "not_open"

    deadline = clock() + timedelta(hours=1)
    session, _ = full_session(db, clock, teacher, enrollment_deadline=deadline)
    clock.advance(hours=2)
    with pytest.raises(Conflict) as refused:
        join(db, clock, student(db, clock), session)
    assert refused.value.code == "waitlist_closed"

    cancelled, _ = full_session(db, clock, teacher)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=cancelled.id, reason="Ill", clock=clock
    )
    with pytest.raises(Conflict) as refused:
        join(db, clock, student(db, clock), cancelled)
    assert refused.value.code == "waitlist_closed"


def test_only_students_may_join(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    with pytest.raises(Forbidden):
        join(db, clock, teacher, session)
    with pytest.raises(NotAuthenticated):
        waitlist.join(db=db, actor=None, video_session_id=session.id, clock=clock)


def test_leaving_then_rejoining_goes_to_the_end(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    a, b = student(db, clock), student(db, clock)
    join(db, clock, a, session)
    join(db, clock, b, session)

    waitlist.leave(db=db, actor=a, video_session_id=session.id, clock=clock)
    assert place(db, clock, a, session).state == "none"
    assert place(db, clock, b, session).position == 1
    assert join(db, clock, a, session).position == 2


def test_leaving_when_not_waiting_is_refused(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    with pytest.raises(Conflict) as refused:
        waitlist.leave(db=db, actor=student(db, clock), video_session_id=session.id, clock=clock)
    assert refused.value.code == "not_waiting"


# --- promotions --------------------------------------------------------------------------------


def test_an_unenroll_promotes_the_first_in_line_and_charges_the_paid_seat(db, clock, teacher):
    session, (seated,) = full_session(db, clock, teacher, paid=True)
    first, second = student(db, clock), student(db, clock)
    join(db, clock, first, session)
    join(db, clock, second, session)

    leave_seat(db, clock, seated, session)

    assert active(db, session) == {first.id}
    assert balances(db, seated, first, second) == {
        seated.email: 5_000,
        first.email: 5_000 - PRICE,
        second.email: 5_000,
        "escrow": PRICE,
    }
    assert place(db, clock, second, session).position == 1
    assert place(db, clock, first, session).state == "none"
    (promoted,) = notices(db, first, "waitlist_promoted")
    assert promoted.data["paid_cents"] == PRICE and "link" not in promoted.data
    assert promoted.data["sequence"] == 0 and promoted.data["ends_at"]  # its calendar
    assert not notices(db, first, "enrollment_confirmed")  # one mail: the promotion
    assert "waitlist.promoted" in audit_actions(db, target_id=session.id)
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_a_short_student_is_skipped_told_once_and_keeps_their_place(db, clock, teacher):
    session, seated = full_session(db, clock, teacher, capacity=2, paid=True)
    poor, rich = student(db, clock, cents=PRICE - 1), student(db, clock)
    join(db, clock, poor, session)
    join(db, clock, rich, session)

    leave_seat(db, clock, seated[0], session)

    assert active(db, session) == {seated[1].id, rich.id}
    (short,) = notices(db, poor, "waitlist_short")
    assert short.data["missing_cents"] == 1
    assert place(db, clock, poor, session) == waitlist.Place("waiting", 1, 1, short=True)

    leave_seat(db, clock, seated[1], session)  # skipped again: not told twice
    assert len(notices(db, poor, "waitlist_short")) == 1
    assert poor.id not in active(db, session)
    assert db.get(VideoSession, session.id).enrolled_count == 1  # the seat stays free
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_a_free_session_promotes_without_touching_money(db, clock, teacher):
    session, (seated,) = full_session(db, clock, teacher)
    waiting = student(db, clock, cents=100)
    join(db, clock, waiting, session)

    leave_seat(db, clock, seated, session)

    assert active(db, session) == {waiting.id}
    assert notices(db, waiting, "waitlist_promoted")[0].data["paid_cents"] == 0
    assert_ledger_invariants(db)


def test_raising_the_capacity_promotes_in_order(db, clock, teacher):
    session, _ = full_session(db, clock, teacher, paid=True)
    line = [student(db, clock) for _ in range(3)]
    for s in line:
        join(db, clock, s, session)

    data = replace(current_input(db, session), capacity=3)
    update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)

    seats = active(db, session)
    assert len(seats) == 3 and {s.id for s in line[:2]} <= seats and line[2].id not in seats
    assert place(db, clock, line[2], session).position == 1
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_removing_the_capacity_promotes_everyone(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    line = [student(db, clock) for _ in range(3)]
    for s in line:
        join(db, clock, s, session)

    data = replace(current_input(db, session), capacity=None)
    update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)

    assert {s.id for s in line} <= active(db, session)
    assert waitlist.waiting_count(db, session.id) == 0


def test_no_promotion_after_the_deadline(db, clock, teacher):
    deadline = clock() + timedelta(hours=1)
    session, (seated,) = full_session(db, clock, teacher, enrollment_deadline=deadline)
    waiting = student(db, clock)
    join(db, clock, waiting, session)
    clock.advance(hours=2)

    data = replace(current_input(db, session), capacity=5)
    update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)

    assert active(db, session) == {seated.id}
    assert place(db, clock, waiting, session).state == "closed"


def test_a_student_who_enrolled_directly_is_not_promoted_again(db, clock, teacher):
    session, seated = full_session(db, clock, teacher, capacity=2, paid=True)
    poor = student(db, clock, cents=PRICE - 1)
    join(db, clock, poor, session)
    leave_seat(db, clock, seated[0], session)  # poor is skipped: the seat stays free
    top_up(db, user=poor, amount_cents=1_000, clock=clock)
    enrollments.enroll(db=db, actor=poor, video_session_id=session.id, clock=clock)
    assert waitlist.waiting_count(db, session.id) == 0

    leave_seat(db, clock, poor, session)  # their old place does not give the seat back to them
    assert poor.id not in active(db, session)
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


# --- cancelling, the teacher's list ------------------------------------------------------------


def test_cancelling_closes_the_list_and_tells_the_waiting_students(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    waiting = student(db, clock)
    join(db, clock, waiting, session)

    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Ill", clock=clock
    )

    entry = db.exec(select(WaitlistEntry).where(WaitlistEntry.student_id == waiting.id)).one()
    assert entry.status == WaitlistStatus.CLOSED
    (closed,) = notices(db, waiting, "waitlist_closed")
    assert closed.data["reason"] == "Ill"
    assert place(db, clock, waiting, session).state == "closed"
    item = inbox.present(closed, role="student", lang="en", tz=None)
    assert item.path == f"/sessions/{session.id}" and "Ill" in item.detail


def test_the_owner_sees_the_line_and_others_do_not(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    line = [student(db, clock) for _ in range(3)]
    for s in line:
        join(db, clock, s, session)

    page = waitlist.waiting_list(
        db=db, actor=teacher, video_session_id=session.id, page=2, page_size=2, clock=clock
    )
    assert page.total == 3 and page.open
    assert [(w.position, w.student_id) for w in page.items] == [(3, line[2].id)]
    with pytest.raises(Forbidden):
        waitlist.waiting_list(db=db, actor=line[0], video_session_id=session.id)
    with pytest.raises(Forbidden):
        waitlist.waiting_list(
            db=db, actor=make_teacher(db, clock=clock), video_session_id=session.id
        )


@pytest.mark.parametrize("kind", ["waitlist_promoted", "waitlist_short", "waitlist_closed"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_mails_render_in_both_languages_without_the_link(kind, lang, db, clock, teacher):
    session, _ = full_session(db, clock, teacher, paid=True)
    data = waitlist._data(
        session, teacher, paid_cents=PRICE, balance_cents=0, missing_cents=5, reason="Ill"
    )
    message = mail.build_message(kind=kind, to="s@example.org", locale=lang, data=data)
    body = message.get_body(("plain",)).get_content()
    assert f"/sessions/{session.id}" in body
    assert session.link not in message.as_string()


def test_a_student_is_offered_the_list_only_when_it_would_take_them(db, clock, teacher):
    session, (seated,) = full_session(db, clock, teacher)
    outsider = student(db, clock)
    assert place(db, clock, outsider, session).can_join
    assert not place(db, clock, seated, session).can_join  # enrolled
    roomy = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=3)
    assert not place(db, clock, outsider, roomy).can_join  # a seat is free: enroll


def test_the_statistics_count_students_waiting_in_open_lists(db, clock, teacher):
    session, _ = full_session(db, clock, teacher)
    for s in [student(db, clock) for _ in range(2)]:
        join(db, clock, s, session)
    closing = clock() + timedelta(hours=1)
    other, _ = full_session(db, clock, teacher, enrollment_deadline=closing)
    join(db, clock, student(db, clock), other)

    assert stats.teacher_overview(db=db, actor=teacher, clock=clock).waiting == 3
    clock.advance(hours=2)  # the second list closed
    assert stats.teacher_overview(db=db, actor=teacher, clock=clock).waiting == 2
