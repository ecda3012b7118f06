"""Recurring series: creation (counts, until, limits, daylight saving), edits and cancellations
of the future occurrences, enrolling in all remaining ones at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from tests.factories import (
    audit_actions,
    balances,
    fresh,
    make_funded_student,
    make_student,
    make_teacher,
    session_input,
    table_counts,
)
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import Enrollment, EnrollmentStatus, Purchase, StoredStatus, VideoSession
from visio.services import enrollments, series, sessions
from visio.services.errors import Conflict, Forbidden, InsufficientFunds, InvalidInput
from visio.services.series import Repeat

PARIS = ZoneInfo("Europe/Paris")
PRICE = 1_000


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def local_times(rows) -> list[str]:
    return [r.starts_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") for r in rows]


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def create(db, clock, teacher, repeat=None, publish=True, **overrides):
    return series.create_series(
        db=db,
        actor=teacher,
        data=session_input(clock, **overrides),
        repeat=repeat or Repeat(every_days=7, count=4),
        publish=publish,
        clock=clock,
    )


# --- creation -------------------------------------------------------------------------------


def test_a_weekly_series_of_four_makes_four_linked_sessions_a_week_apart(db, clock, teacher):
    made = create(db, clock, teacher, publish=False)

    rows = db.exec(select(VideoSession).where(VideoSession.series_id == made.series.id)).all()
    assert len(rows) == 4 == len(made.occurrences)
    starts = sorted(r.starts_at for r in rows)
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [timedelta(days=7)] * 3
    assert {r.status for r in rows} == {StoredStatus.DRAFT}
    assert len({r.link for r in rows}) == 4  # each its own room
    assert audit_actions(db, action="series.created") == ["series.created"]


def test_every_n_days_until_a_date_includes_that_day(db, clock, teacher):
    start = clock() + timedelta(days=2)
    until = (start + timedelta(days=9)).astimezone(PARIS).date()
    made = create(db, clock, teacher, repeat=Repeat(every_days=3, until=until))
    assert [o.starts_at - start for o in made.occurrences] == [
        timedelta(days=d) for d in (0, 3, 6, 9)
    ]
    assert {o.status for o in made.occurrences} == {StoredStatus.SCHEDULED}


def test_fifty_two_weekly_occurrences_is_the_limit(db, clock, teacher):
    assert len(create(db, clock, teacher, repeat=Repeat(7, count=52)).occurrences) == 52
    before = table_counts(db)
    with pytest.raises(InvalidInput) as error:
        create(db, clock, teacher, repeat=Repeat(7, count=53))
    assert (error.value.code, error.value.params) == ("series_too_long", {"max": 52})
    assert table_counts(db) == before


def test_an_until_date_that_makes_more_than_fifty_two_is_too_long(db, clock, teacher):
    with pytest.raises(InvalidInput, match="series_too_long"):
        create(db, clock, teacher, repeat=Repeat(1, until=date(2026, 6, 1)))


@pytest.mark.parametrize(
    ("repeat", "code"),
    [
        (Repeat(0, count=3), "repeat_every_invalid"),
        (Repeat(7), "repeat_end_required"),
        (Repeat(7, count=3, until=date(2026, 6, 1)), "repeat_end_required"),
        (Repeat(7, count=1), "series_too_short"),
        (Repeat(7, until=date(2026, 1, 1)), "repeat_until_before_start"),
    ],
)
def test_a_bad_repeat_is_refused_and_writes_nothing(db, clock, teacher, repeat, code):
    before = table_counts(db)
    with pytest.raises(InvalidInput) as error:
        create(db, clock, teacher, repeat=repeat)
    assert error.value.code == code
    assert table_counts(db) == before


def test_an_occurrence_beyond_two_years_is_refused(db, clock, teacher):
    with pytest.raises(InvalidInput, match="start_too_far"):
        create(db, clock, teacher, repeat=Repeat(30, count=30))


def test_a_weekly_class_stays_at_18_00_paris_across_the_march_change(db, clock, teacher):
    # Summer time starts on Sunday 29 March 2026: the UTC hour moves, the local one does not.
    made = create(db, clock, teacher, starts_at=paris(2026, 3, 16, 18, 0))
    assert local_times(made.occurrences) == [
        "2026-03-16 18:00",
        "2026-03-23 18:00",
        "2026-03-30 18:00",
        "2026-04-06 18:00",
    ]
    assert [o.starts_at.hour for o in made.occurrences] == [17, 17, 16, 16]


def test_a_weekly_class_stays_at_18_00_paris_across_the_october_change(db, clock, teacher):
    # Winter time is back on Sunday 25 October 2026.
    made = create(db, clock, teacher, starts_at=paris(2026, 10, 12, 18, 0))
    assert local_times(made.occurrences) == [
        "2026-10-12 18:00",
        "2026-10-19 18:00",
        "2026-10-26 18:00",
        "2026-11-02 18:00",
    ]
    assert [o.starts_at.hour for o in made.occurrences] == [16, 16, 17, 17]


def test_a_deadline_keeps_its_distance_from_each_start(db, clock, teacher):
    start = paris(2026, 3, 16, 18, 0)
    made = create(
        db, clock, teacher, starts_at=start, enrollment_deadline=start - timedelta(hours=2)
    )
    assert {o.starts_at - o.enrollment_deadline for o in made.occurrences} == {timedelta(hours=2)}


def test_a_minimum_is_decided_at_the_same_distance_before_each_occurrence(db, clock, teacher):
    start = paris(2026, 3, 16, 18, 0)
    made = create(
        db, clock, teacher, starts_at=start, min_participants=3,
        decide_at=start - timedelta(hours=48),
    )  # fmt: skip
    assert {o.min_participants for o in made.occurrences} == {3}
    assert {o.starts_at - o.decide_at for o in made.occurrences} == {timedelta(hours=48)}


def test_a_student_cannot_create_a_series(db, clock):
    student = make_student(db, clock=clock)
    with pytest.raises(Forbidden):
        create(db, clock, student)


# --- edit all future ones -------------------------------------------------------------------


def test_editing_from_the_second_occurrence_changes_it_and_the_later_ones(db, clock, teacher):
    made = create(db, clock, teacher, starts_at=paris(2026, 3, 16, 18, 0))
    second = made.occurrences[1]
    data = replace(
        session_input(clock),
        title="Weekly algebra, new room",
        starts_at=paris(2026, 3, 24, 19, 30),  # a day later, 19:30
        capacity=12,
    )

    edited = series.update_future(
        db=db, actor=teacher, video_session_id=second.id, data=data, clock=clock
    )

    assert [s.id for s in edited] == [o.id for o in made.occurrences[1:]]
    rows = [fresh(db, VideoSession, o.id) for o in made.occurrences]
    assert [r["title"] for r in rows][0] != "Weekly algebra, new room"
    assert {r["title"] for r in rows[1:]} == {"Weekly algebra, new room"}
    assert {r["capacity"] for r in rows[1:]} == {12}
    assert local_times([VideoSession(**r) for r in rows]) == [
        "2026-03-16 18:00",
        "2026-03-24 19:30",
        "2026-03-31 19:30",  # across the change, still 19:30
        "2026-04-07 19:30",
    ]


def test_an_unfair_move_of_one_future_occurrence_with_students_rolls_back_all(db, clock, teacher):
    made = create(db, clock, teacher, starts_at=paris(2026, 3, 16, 18, 0))
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=made.occurrences[3].id, clock=clock)
    before = [fresh(db, VideoSession, o.id) for o in made.occurrences]
    # A cut to less than half the duration: fine without students, unfair to the last one's.
    data = replace(
        session_input(clock), starts_at=made.occurrences[0].starts_at, duration_minutes=20
    )

    with pytest.raises(Conflict, match="duration_cut_too_far"):
        series.update_future(
            db=db, actor=teacher, video_session_id=made.occurrences[0].id, data=data, clock=clock
        )

    assert [fresh(db, VideoSession, o.id) for o in made.occurrences] == before


def test_another_teacher_cannot_edit_the_future_occurrences(db, clock, teacher):
    made = create(db, clock, teacher)
    other = make_teacher(db, clock=clock)
    with pytest.raises(Forbidden):
        series.update_future(
            db=db,
            actor=other,
            video_session_id=made.occurrences[0].id,
            data=session_input(clock),
            clock=clock,
        )


# --- cancel the rest ------------------------------------------------------------------------


def test_cancelling_the_rest_refunds_each_occurrence_once_and_a_retry_refunds_nothing(
    db, clock, teacher
):
    made = create(db, clock, teacher, is_paid=True, price_cents=PRICE)
    student = make_funded_student(db, clock=clock, amount_cents=10 * PRICE)
    series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    assert balances(db, student)[student.email] == 6 * PRICE

    clock.advance(days=10)  # the first two occurrences are over
    done = series.cancel_rest(
        db=db, actor=teacher, series_id=made.series.id, reason="Course ends", clock=clock
    )
    again = series.cancel_rest(
        db=db, actor=teacher, series_id=made.series.id, reason="Course ends", clock=clock
    )

    assert (done.refunded_count, done.refunded_cents) == (2, 2 * PRICE)
    assert (again.refunded_count, again.refunded_cents, again.cancelled) == (0, 0, [])
    statuses = [fresh(db, VideoSession, o.id)["status"] for o in made.occurrences]
    assert statuses == ["scheduled", "scheduled", "cancelled", "cancelled"]
    assert balances(db, student) == {student.email: 8 * PRICE, "escrow": 2 * PRICE}
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_cancelling_from_one_occurrence_keeps_the_earlier_ones(db, clock, teacher):
    made = create(db, clock, teacher)
    done = series.cancel_rest(
        db=db,
        actor=teacher,
        series_id=made.series.id,
        from_session_id=made.occurrences[2].id,
        reason="Holidays",
        clock=clock,
    )
    assert [c.session.id for c in done.cancelled] == [o.id for o in made.occurrences[2:]]
    statuses = [fresh(db, VideoSession, o.id)["status"] for o in made.occurrences]
    assert statuses == ["scheduled", "scheduled", "cancelled", "cancelled"]


def test_cancelling_the_rest_needs_a_reason_and_the_owner(db, clock, teacher):
    made = create(db, clock, teacher)
    with pytest.raises(InvalidInput, match="cancel_reason_required"):
        series.cancel_rest(db=db, actor=teacher, series_id=made.series.id, reason=" ")
    with pytest.raises(Forbidden):
        series.cancel_rest(
            db=db, actor=make_teacher(db, clock=clock), series_id=made.series.id, reason="x"
        )


# --- enroll in all remaining ----------------------------------------------------------------


def test_enrolling_in_a_series_takes_and_pays_every_remaining_seat(db, clock, teacher):
    made = create(db, clock, teacher, is_paid=True, price_cents=PRICE)
    student = make_funded_student(db, clock=clock, amount_cents=5 * PRICE)
    enrollments.enroll(db=db, actor=student, video_session_id=made.occurrences[1].id, clock=clock)

    done = series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)

    assert len(done.results) == 3 and done.paid_cents == 3 * PRICE
    assert done.wallet_balance_cents == PRICE
    assert len(db.exec(select(Purchase).where(Purchase.student_id == student.id)).all()) == 4
    view = series.series_view(db=db, actor=student, series_id=made.series.id, clock=clock)
    assert view.seats_held == 4 and view.remaining == []
    with pytest.raises(Conflict, match="already_enrolled"):
        series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    assert_ledger_invariants(db)
    assert_seat_invariants(db)


def test_with_one_occurrence_full_nothing_is_charged_and_no_seat_taken(db, clock, teacher):
    made = create(db, clock, teacher, is_paid=True, price_cents=PRICE, capacity=1)
    first = make_funded_student(db, clock=clock, amount_cents=PRICE)
    enrollments.enroll(db=db, actor=first, video_session_id=made.occurrences[2].id, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=10 * PRICE)
    before = table_counts(db)

    with pytest.raises(Conflict, match="session_full"):
        series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)

    assert table_counts(db) == before
    assert balances(db, student)[student.email] == 10 * PRICE


def test_a_wallet_short_of_the_total_is_refused_whole(db, clock, teacher):
    made = create(db, clock, teacher, is_paid=True, price_cents=PRICE)
    student = make_funded_student(db, clock=clock, amount_cents=3 * PRICE)
    before = table_counts(db)
    with pytest.raises(InsufficientFunds) as error:
        series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    assert error.value.params == {"balance_cents": 3 * PRICE, "missing_cents": PRICE}
    assert table_counts(db) == before


def test_occurrences_past_their_deadline_are_not_remaining(db, clock, teacher):
    made = create(db, clock, teacher)
    student = make_student(db, clock=clock)
    clock.advance(days=3)  # the first has started
    done = series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    assert [r.enrollment.session_id for r in done.results] == [o.id for o in made.occurrences[1:]]
    held = db.exec(
        select(Enrollment.session_id).where(
            Enrollment.student_id == student.id, Enrollment.status == EnrollmentStatus.ACTIVE
        )
    ).all()
    assert sorted(held) == sorted(o.id for o in made.occurrences[1:])


def test_the_teacher_cannot_enroll_in_their_own_series(db, clock, teacher):
    made = create(db, clock, teacher)
    with pytest.raises(Forbidden, match="own_session"):
        series.enroll_series(db=db, actor=teacher, series_id=made.series.id, clock=clock)


def test_a_series_of_drafts_is_hidden_from_students(db, clock, teacher):
    made = create(db, clock, teacher, publish=False)
    student = make_student(db, clock=clock)
    with pytest.raises(Exception, match="series_not_found"):
        series.series_view(db=db, actor=student, series_id=made.series.id, clock=clock)
    with pytest.raises(Conflict, match="not_open"):
        series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    view = series.series_view(db=db, actor=teacher, series_id=made.series.id, clock=clock)
    assert len(view.occurrences) == 4
    published = series.publish_series(db=db, actor=teacher, series_id=made.series.id, clock=clock)
    assert {s.status for s in published} == {StoredStatus.SCHEDULED}
    view = series.series_view(db=db, actor=student, series_id=made.series.id, clock=clock)
    assert len(view.remaining) == 4 and view.remaining_cents == 0


def test_cancel_of_one_occurrence_is_the_usual_cancel(db, clock, teacher):
    made = create(db, clock, teacher)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=made.occurrences[0].id, reason="Ill", clock=clock
    )
    view = series.series_view(db=db, actor=teacher, series_id=made.series.id, clock=clock)
    assert [o.status for o in view.occurrences] == ["cancelled"] + ["scheduled"] * 3


# --- the dialog's "Repeat" choice as typed --------------------------------------------------


def test_the_repeat_choice_is_read_from_the_dialogs_text():
    read = series.parse_repeat
    assert read(mode="none", every_days="", end="count", count="4", until="") is None
    assert read(mode="weekly", every_days="", end="count", count="4", until="") == Repeat(7, 4)
    assert read(mode="days", every_days="3", end="until", count="", until="2026-06-01") == Repeat(
        3, until=date(2026, 6, 1)
    )
    for bad in (
        {"mode": "days", "every_days": "x", "end": "count", "count": "4", "until": ""},
        {"mode": "weekly", "every_days": "", "end": "count", "count": "four", "until": ""},
        {"mode": "weekly", "every_days": "", "end": "until", "count": "", "until": "soon"},
    ):
        with pytest.raises(InvalidInput) as error:
            read(**bad)
        assert error.value.field == "repeat"


# --- publish all, and what cancelling the rest would refund ---------------------------------


def test_publish_series_publishes_every_draft_ahead_once(db, clock, teacher):
    made = create(db, clock, teacher, publish=False)
    clock.advance(days=10)  # the first two are past: no longer publishable
    assert series.drafts_ahead(db=db, actor=teacher, series_id=made.series.id, clock=clock) == 2

    published = series.publish_series(db=db, actor=teacher, series_id=made.series.id, clock=clock)
    again = series.publish_series(db=db, actor=teacher, series_id=made.series.id, clock=clock)

    assert [s.id for s in published] == [o.id for o in made.occurrences[2:]]
    assert again == []
    statuses = [fresh(db, VideoSession, o.id)["status"] for o in made.occurrences]
    assert statuses == ["draft", "draft", "scheduled", "scheduled"]
    assert audit_actions(db, action="series.published") == ["series.published"]


def test_only_the_owner_publishes_a_series(db, clock, teacher):
    made = create(db, clock, teacher, publish=False)
    with pytest.raises(Forbidden):
        series.publish_series(
            db=db, actor=make_teacher(db, clock=clock), series_id=made.series.id, clock=clock
        )
    assert {fresh(db, VideoSession, o.id)["status"] for o in made.occurrences} == {"draft"}


def test_the_future_refund_preview_sums_the_held_seats_of_this_and_later_occurrences(
    db, clock, teacher
):
    made = create(db, clock, teacher, is_paid=True, price_cents=PRICE)
    first = make_funded_student(db, clock=clock, amount_cents=10 * PRICE)
    series.enroll_series(db=db, actor=first, series_id=made.series.id, clock=clock)
    second = make_funded_student(db, clock=clock, amount_cents=10 * PRICE)
    enrollments.enroll(db=db, actor=second, video_session_id=made.occurrences[3].id, clock=clock)
    enrollments.enroll(db=db, actor=second, video_session_id=made.occurrences[0].id, clock=clock)
    enrollments.unenroll(db=db, actor=first, video_session_id=made.occurrences[2].id, clock=clock)

    preview = series.future_refund_preview(
        db=db, actor=teacher, video_session_id=made.occurrences[1].id, clock=clock
    )
    done = series.cancel_rest(
        db=db,
        actor=teacher,
        series_id=made.series.id,
        from_session_id=made.occurrences[1].id,
        reason="Course ends",
        clock=clock,
    )

    # occurrences 2 and 4 for the first student (3 was refunded on leaving), 4 for the second
    assert preview == (3, 3 * PRICE)
    assert preview == (done.refunded_count, done.refunded_cents)
    with pytest.raises(Forbidden):
        series.future_refund_preview(
            db=db,
            actor=make_teacher(db, clock=clock),
            video_session_id=made.occurrences[1].id,
            clock=clock,
        )
