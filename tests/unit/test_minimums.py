"""Minimum enrollment: the fields' rules, the decision (kept or cancelled), the warning."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import select

from tests.factories import (
    audit_actions,
    fresh,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    session_input,
)
from tests.invariants import assert_ledger_invariants
from visio.i18n import t
from visio.i18n.formatting import format_money
from visio.models import (
    AuditEvent,
    Enrollment,
    EnrollmentStatus,
    Notice,
    StoredStatus,
    VideoSession,
)
from visio.services import enrollments, inbox, mail, minimums, sessions, stats, wallets
from visio.services.errors import Conflict, InvalidInput
from visio.services.session_edit import current_input, update_session
from visio.services.session_form import SessionForm, form_errors, parse_form


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock)


def enroll(db, clock, student, session):
    return enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)


def notices(db, kind):
    db.rollback()
    return list(db.exec(select(Notice).where(Notice.kind == kind).order_by(Notice.id)).all())


def minimum_session(db, clock, teacher, *, minimum=3, publish=True, **overrides):
    return make_session(
        db, teacher=teacher, clock=clock, publish=publish, min_participants=minimum, **overrides
    )


# --- fields and validation ------------------------------------------------------------------


def test_decide_at_defaults_to_a_day_before_the_start(db, clock, teacher):
    session = minimum_session(db, clock, teacher, publish=False)
    assert session.min_participants == 3
    assert session.decide_at == session.starts_at - timedelta(hours=24)
    assert session.decided_at is None


def test_without_a_minimum_there_is_no_decision_time(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, decide_at=clock() + timedelta(hours=3))
    assert (session.min_participants, session.decide_at) == (None, None)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"min_participants": 0}, "min_participants_out_of_range"),
        ({"min_participants": 10_001}, "min_participants_out_of_range"),
        ({"min_participants": "3"}, "number_invalid"),
        ({"min_participants": 5, "capacity": 4}, "min_above_capacity"),
        ({"min_participants": 2, "decide_at_hours": 48}, "decide_at_after_start"),
        ({"min_participants": 2, "decide_at_hours": -1}, "decide_at_in_past"),
        # A start 12 hours away: the default (24 h before it) is already past.
        ({"min_participants": 2, "starts_at_hours": 12}, "decide_at_in_past"),
    ],
)
def test_minimum_bounds_are_refused_with_their_code(db, clock, teacher, overrides, code):
    values = dict(overrides)
    if "decide_at_hours" in values:
        values["decide_at"] = clock() + timedelta(hours=values.pop("decide_at_hours"))
    if "starts_at_hours" in values:
        values["starts_at"] = clock() + timedelta(hours=values.pop("starts_at_hours"))
    with pytest.raises(InvalidInput) as caught:
        sessions.create_session(
            db=db, actor=teacher, data=session_input(clock, **values), clock=clock
        )
    assert caught.value.code == code
    assert caught.value.field in ("min_participants", "decide_at")


def test_the_form_reads_the_minimum_and_reports_its_errors(clock):
    start = clock() + timedelta(days=3)
    form = SessionForm(
        title="Phonetics workshop",
        date=start.strftime("%Y-%m-%d"),
        time="18:00",
        timezone="UTC",
        capacity="4",
        min_participants="5",
    )
    errors = form_errors(form, now=clock())
    assert errors["min_participants"].code == "min_above_capacity"
    form.min_participants = "2"
    form.decide_date, form.decide_time = start.strftime("%Y-%m-%d"), "09:00"
    assert form_errors(form, now=clock()) == {}
    parsed = parse_form(form)
    assert parsed.min_participants == 2
    assert parsed.decide_at.strftime("%Y-%m-%d %H:%M") == start.strftime("%Y-%m-%d 09:00")


def test_the_minimum_can_be_edited_until_it_is_decided(db, clock, teacher):
    session = minimum_session(db, clock, teacher, minimum=2)
    data = current_input(db, session)
    data.min_participants = 1
    assert (
        update_session(
            db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock
        ).min_participants
        == 1
    )
    enroll(db, clock, make_student(db, clock=clock), session)
    clock.advance(days=1, minutes=1)
    assert minimums.decide_due(db, clock=clock) == 1
    data = current_input(db, fresh_session(db, session.id))
    data.min_participants = 2
    with pytest.raises(Conflict) as caught:
        update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)
    assert caught.value.code == "minimum_decided"
    # Other fields still change once decided (the past decision time is left alone).
    data = current_input(db, fresh_session(db, session.id))
    data.title = "Renamed after the decision"
    assert (
        update_session(
            db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock
        ).title
        == "Renamed after the decision"
    )


def fresh_session(db, session_id):
    db.rollback()
    db.expire_all()
    return db.get(VideoSession, session_id)


# --- the decision ---------------------------------------------------------------------------


def test_a_minimum_reached_keeps_the_session_and_tells_its_students(db, clock, teacher):
    session = minimum_session(db, clock, teacher, minimum=2)
    students = [make_student(db, clock=clock) for _ in range(2)]
    for student in students:
        enroll(db, clock, student, session)
    assert minimums.view(fresh_session(db, session.id)).confirmed

    clock.advance(days=1)  # exactly the decision time
    assert minimums.decide_due(db, clock=clock) == 1

    stored = fresh(db, VideoSession, session.id)
    assert stored["status"] == StoredStatus.SCHEDULED
    assert stored["decided_at"] == clock()
    confirmed = notices(db, "session_confirmed")
    assert sorted(n.user_id for n in confirmed) == sorted(s.id for s in students)
    assert "session.minimum_reached" in audit_actions(db, target_id=session.id)
    # Kept for good: a student leaving afterwards does not undo it, nor decide it again.
    enrollments.unenroll(db=db, actor=students[0], video_session_id=session.id, clock=clock)
    view = minimums.view(fresh_session(db, session.id))
    assert (view.confirmed, view.needed) == (True, 0)
    clock.advance(minutes=5)
    assert minimums.decide_due(db, clock=clock) == 0
    assert len(notices(db, "session_confirmed")) == 2


def test_a_minimum_not_reached_cancels_with_full_refunds_and_notices(db, clock, teacher):
    session = minimum_session(db, clock, teacher, minimum=3, is_paid=True, price_cents=1_500)
    paying = [make_funded_student(db, clock=clock, amount_cents=2_000) for _ in range(2)]
    for student in paying:
        enroll(db, clock, student, session)
    assert minimums.view(fresh_session(db, session.id)).needed == 1

    clock.advance(days=1, minutes=1)
    assert minimums.decide_due(db, clock=clock) == 1

    stored = fresh(db, VideoSession, session.id)
    assert stored["status"] == StoredStatus.CANCELLED
    assert stored["decided_at"] == stored["cancelled_at"] == clock()
    assert stored["cancel_reason"] == t("minimum.cancel_reason", teacher.locale, enrolled=2, min=3)
    for student in paying:
        assert wallets.balance_of(db, student.id) == 2_000
    assert wallets.escrow_wallet(db).balance_cents == 0
    enrolled = db.exec(select(Enrollment).where(Enrollment.session_id == session.id)).all()
    assert {e.status for e in enrolled} == {EnrollmentStatus.CANCELLED}
    cancelled = notices(db, "session_cancelled")
    assert sorted(n.user_id for n in cancelled) == sorted(s.id for s in paying)
    assert all(n.data["refunded_cents"] == 1_500 for n in cancelled)
    [told] = notices(db, "minimum_cancelled")
    assert told.user_id == teacher.id
    assert (told.data["enrolled"], told.data["refunded_count"]) == (2, 2)
    assert told.data["refunded_cents"] == 3_000
    assert notices(db, "session_confirmed") == []
    actions = audit_actions(db, target_id=session.id, target_type="session")
    assert "session.minimum_not_reached" in actions and "session.cancelled" in actions
    assert_ledger_invariants(db)
    # Nothing is decided twice.
    clock.advance(minutes=1)
    assert minimums.decide_due(db, clock=clock) == 0
    assert len(notices(db, "session_cancelled")) == 2


@pytest.mark.parametrize(("locale", "words"), [("fr", "Pas assez"), ("en", "Not enough")])
def test_the_automatic_reason_is_in_the_teachers_language(db, clock, locale, words):
    teacher = make_teacher(db, clock=clock)
    teacher.locale = locale
    db.add(teacher)
    db.commit()
    session = minimum_session(db, clock, teacher, minimum=1)
    clock.advance(days=1, minutes=1)
    minimums.decide_due(db, clock=clock)
    assert fresh(db, VideoSession, session.id)["cancel_reason"].startswith(words)


def test_an_enrollment_after_a_cancel_is_refused(db, clock, teacher):
    session = minimum_session(db, clock, teacher, minimum=2)
    clock.advance(days=1, minutes=1)
    minimums.decide_due(db, clock=clock)
    with pytest.raises(Conflict):
        enroll(db, clock, make_student(db, clock=clock), session)


def test_nothing_is_decided_before_the_time_nor_for_drafts_cancelled_or_no_minimum(
    db, clock, teacher
):
    due = minimum_session(db, clock, teacher, minimum=1)
    draft = minimum_session(db, clock, teacher, minimum=1, publish=False)
    cancelled = minimum_session(db, clock, teacher, minimum=1)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=cancelled.id, reason="Ill", clock=clock
    )
    plain = make_session(db, teacher=teacher, clock=clock, publish=True)
    assert minimums.decide_due(db, clock=clock) == 0  # not yet due

    clock.advance(days=1, minutes=1)
    assert minimums.decide_due(db, clock=clock) == 1

    assert fresh(db, VideoSession, due.id)["status"] == StoredStatus.CANCELLED
    for untouched in (draft, cancelled, plain):
        assert fresh(db, VideoSession, untouched.id)["decided_at"] is None
    assert fresh(db, VideoSession, draft.id)["status"] == StoredStatus.DRAFT
    assert fresh(db, VideoSession, plain.id)["status"] == StoredStatus.SCHEDULED
    assert len(notices(db, "minimum_cancelled")) == 1


# --- the teacher's warning ------------------------------------------------------------------


def test_the_teacher_is_warned_once_a_day_ahead_with_the_number_needed(db, clock, teacher):
    session = minimum_session(db, clock, teacher, minimum=4, starts_at=clock() + timedelta(days=4))
    enroll(db, clock, make_student(db, clock=clock), session)
    assert minimums.warn_due(db, clock=clock) == 0  # the decision is 3 days away

    clock.advance(days=2, minutes=1)  # 23 h 59 before the decision
    assert minimums.warn_due(db, clock=clock) == 1
    clock.advance(minutes=1)
    assert minimums.warn_due(db, clock=clock) == 0

    [warning] = notices(db, "minimum_warning")
    assert warning.user_id == teacher.id
    assert warning.data["needed"] == 3
    assert warning.data["decide_at"] == session.decide_at.isoformat()
    assert warning.data["tz"]
    detail = inbox._detail("minimum_warning", warning.data, "en", "Europe/Paris")
    assert detail.startswith("3 more needed by ")


def test_no_warning_when_the_minimum_is_reached_or_for_drafts(db, clock, teacher):
    reached = minimum_session(db, clock, teacher, minimum=1)
    enroll(db, clock, make_student(db, clock=clock), reached)
    minimum_session(db, clock, teacher, minimum=1, publish=False)
    clock.advance(hours=12)
    assert minimums.warn_due(db, clock=clock) == 0


# --- statistics -----------------------------------------------------------------------------


def test_statistics_count_the_sessions_cancelled_for_want_of_participants(db, clock, teacher):
    minimum_session(db, clock, teacher, minimum=2)  # will be cancelled by the decision
    kept = minimum_session(db, clock, teacher, minimum=1)
    enroll(db, clock, make_student(db, clock=clock), kept)
    by_hand = minimum_session(db, clock, teacher, minimum=1)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=by_hand.id, reason="Ill", clock=clock
    )
    clock.advance(days=1, minutes=1)
    assert minimums.decide_due(db, clock=clock) == 2
    # Kept, then cancelled by its teacher later: not an automatic cancel.
    clock.advance(minutes=5)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=kept.id, reason="Ill", clock=clock
    )

    overview = stats.teacher_overview(db=db, actor=teacher, clock=clock)

    assert overview.auto_cancelled == 1
    assert overview.counts["cancelled"] == 3


# --- the mails ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_three_notices_render_as_mails_in_each_language(db, clock, teacher, lang):
    warned = minimum_session(db, clock, teacher, minimum=3, is_paid=True, price_cents=900)
    enroll(db, clock, make_funded_student(db, clock=clock, amount_cents=900), warned)
    kept = minimum_session(db, clock, teacher, minimum=1)
    enroll(db, clock, make_student(db, clock=clock), kept)
    clock.advance(hours=1)
    minimums.warn_due(db, clock=clock)
    clock.advance(days=1)
    minimums.decide_due(db, clock=clock)

    for kind in ("minimum_warning", "minimum_cancelled", "session_confirmed"):
        [notice] = notices(db, kind)
        message = mail.build_message(kind=kind, to="x@example.org", locale=lang, data=notice.data)
        body = message.get_body(("plain",)).get_content()
        assert f"sessions/{notice.data['session_id']}" in body
        assert message["Subject"]
    warning = notices(db, "minimum_warning")[0]
    text = (
        mail.build_message(
            kind="minimum_warning", to="x@example.org", locale="en", data=warning.data
        )
        .get_body(("plain",))
        .get_content()
    )
    assert "needs 2 more student(s) by" in text


TOLD = {
    # lang: (automatic cancel, a teacher's cancel, the reason's label)
    "en": ("is cancelled: not enough participants enrolled", "The teacher cancelled", "reason:"),
    "fr": (
        "est annulée\u00a0: pas assez de participants inscrits",
        "L'enseignant a annulé",
        "Raison donnée",
    ),
}


def cancelled_mail(notice, lang):
    """The plain and HTML bodies (its entities read) of a session_cancelled notice's mail."""
    message = mail.build_message(
        kind="session_cancelled", to="x@example.org", locale=lang, data=notice.data
    )
    html = message.get_body(("html",)).get_content()
    return message.get_body(("plain",)).get_content(), unescape(html)


def inbox_line(db, student, lang):
    [item] = [
        i
        for i in inbox.inbox_page(db=db, actor=student, lang=lang).items
        if i.kind == "session_cancelled"
    ]
    return item.detail


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_students_are_told_an_automatic_cancel_is_for_want_of_participants(
    db, clock, teacher, lang
):
    session = minimum_session(db, clock, teacher, minimum=3, is_paid=True, price_cents=1_500)
    student = make_funded_student(db, clock=clock, amount_cents=1_500)
    enroll(db, clock, student, session)
    clock.advance(days=1, minutes=1)
    assert minimums.decide_due(db, clock=clock) == 1

    [notice] = notices(db, "session_cancelled")
    assert notice.data["automatic"] is True
    cancelled = db.exec(select(AuditEvent).where(AuditEvent.action == "session.cancelled")).one()
    assert cancelled.data["automatic"] is True
    automatic, by_teacher, reason_label = TOLD[lang]
    refunded = format_money(1_500, lang)
    for body in cancelled_mail(notice, lang):
        assert automatic in body
        assert by_teacher not in body and reason_label not in body
        assert refunded in body  # the refund, as before
    assert inbox_line(db, student, lang) == " · ".join(
        (
            t("inbox.detail.cancelled_automatic", lang),
            t("inbox.detail.refunded", lang, amount=refunded),
        )
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_teachers_cancel_still_says_the_teacher_cancelled(db, clock, teacher, lang):
    session = minimum_session(db, clock, teacher, minimum=3, is_paid=True, price_cents=1_500)
    student = make_funded_student(db, clock=clock, amount_cents=1_500)
    enroll(db, clock, student, session)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Teacher ill", clock=clock
    )

    [notice] = notices(db, "session_cancelled")
    assert "automatic" not in notice.data
    automatic, by_teacher, reason_label = TOLD[lang]
    for body in cancelled_mail(notice, lang):
        assert by_teacher in body and reason_label in body and "Teacher ill" in body
        assert automatic not in body
        assert format_money(1_500, lang) in body
    line = inbox_line(db, student, lang)
    assert line.startswith(t("inbox.detail.reason", lang, reason="Teacher ill"))
    assert t("inbox.detail.cancelled_automatic", lang) not in line


def test_a_draft_whose_decision_time_passed_cannot_be_published(db, clock, teacher):
    draft = minimum_session(db, clock, teacher, minimum=1, publish=False)
    clock.advance(days=1, minutes=1)
    with pytest.raises(Conflict) as caught:
        sessions.publish_session(db=db, actor=teacher, video_session_id=draft.id, clock=clock)
    assert caught.value.code == "decide_at_in_past"
    assert fresh(db, VideoSession, draft.id)["status"] == StoredStatus.DRAFT


def test_a_session_already_started_when_decided_runs_as_it_is(db, clock, teacher):
    session = minimum_session(db, clock, teacher, minimum=3)
    enroll(db, clock, make_student(db, clock=clock), session)
    clock.advance(days=2, minutes=5)  # the app was down through the decision and the start
    assert minimums.decide_due(db, clock=clock) == 1
    stored = fresh(db, VideoSession, session.id)
    assert (stored["status"], stored["decided_at"]) == (StoredStatus.SCHEDULED, clock())
    assert notices(db, "session_cancelled") == []
