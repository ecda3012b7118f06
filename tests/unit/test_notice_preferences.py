"""Mail preferences: the optional kinds a user sees (from KINDS alone), their choice, a change
all or nothing; and the catalog has a label and a hint for every optional kind."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.factories import make_student, make_teacher
from visio.i18n import CATALOGS
from visio.models import AuditEvent, NoticePreference
from visio.services import mail, notice_preferences
from visio.services.errors import InvalidInput
from visio.services.mail import MailKind


def test_every_optional_kind_has_a_label_and_a_hint_in_both_languages() -> None:
    optional = [kind for kind, spec in mail.KINDS.items() if spec.optional]
    assert optional
    for lang, catalog in CATALOGS.items():
        for kind in optional:
            assert catalog.get(f"prefs.{kind}"), f"prefs.{kind} missing in {lang}"
            assert catalog.get(f"prefs.{kind}.hint"), f"prefs.{kind}.hint missing in {lang}"


def test_cancellation_refund_and_password_mails_cannot_be_turned_off() -> None:
    for kind in ("password_reset", "session_cancelled", "unenrolled"):
        assert not mail.KINDS[kind].optional


def test_a_student_sees_the_optional_student_kinds_on_by_default(db, clock) -> None:
    student = make_student(db, clock=clock)

    choices = notice_preferences.email_choices(db=db, actor=student)

    kinds = [c.kind for c in choices]
    assert "enrollment_confirmed" in kinds and "session_moved" in kinds
    assert not {"password_reset", "session_cancelled", "unenrolled"} & set(kinds)
    assert all(c.email == mail.KINDS[c.kind].default_on for c in choices)


def test_the_kinds_shown_follow_the_kinds_metadata(db, clock, monkeypatch) -> None:
    kinds = {
        **mail.KINDS,
        "teacher_only": MailKind("x", "x", optional=True, audience="teacher", default_on=False),
        "for_all": MailKind("x", "x", optional=True),
    }
    monkeypatch.setattr(mail, "KINDS", kinds)
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)

    teacher_kinds = notice_preferences.email_choices(db=db, actor=teacher)
    student_kinds = [c.kind for c in notice_preferences.email_choices(db=db, actor=student)]

    assert notice_preferences.Choice("teacher_only", False) in teacher_kinds
    assert "for_all" in [c.kind for c in teacher_kinds]
    assert "enrollment_confirmed" not in [c.kind for c in teacher_kinds]
    assert "teacher_only" not in student_kinds and "for_all" in student_kinds


def test_turning_a_kind_off_is_kept_and_stops_its_mail(db, clock) -> None:
    student = make_student(db, clock=clock)

    choices = notice_preferences.set_email_choice(
        db=db, actor=student, kind="session_moved", email=False, clock=clock
    )

    assert notice_preferences.Choice("session_moved", False) in choices
    assert not notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
    assert notice_preferences.wants_email(db, user_id=student.id, kind="enrollment_confirmed")
    notice_preferences.set_email_choice(
        db=db, actor=student, kind="session_moved", email=True, clock=clock
    )
    assert notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
    audit = db.exec(
        select(AuditEvent).where(AuditEvent.action == "user.notice_preferences_changed")
    ).all()
    assert len(audit) == 2


@pytest.mark.parametrize("kind", ["no_such_kind", "session_cancelled", "password_reset"])
def test_an_unknown_or_mandatory_kind_is_refused_and_nothing_changes(db, clock, kind) -> None:
    student = make_student(db, clock=clock)

    with pytest.raises(InvalidInput) as refused:
        notice_preferences.set_email_choices(
            db=db, actor=student, choices={"session_moved": False, kind: False}, clock=clock
        )

    assert refused.value.code == "notice_kind_invalid"
    assert db.exec(select(NoticePreference)).all() == []


def test_a_teacher_cannot_choose_about_a_students_kind(db, clock) -> None:
    teacher = make_teacher(db, clock=clock)

    with pytest.raises(InvalidInput):
        notice_preferences.set_email_choice(
            db=db, actor=teacher, kind="enrollment_confirmed", email=False, clock=clock
        )


def test_choices_of_one_user_leave_anothers_alone(db, clock) -> None:
    one, other = make_student(db, clock=clock), make_student(db, clock=clock)

    notice_preferences.set_email_choice(
        db=db, actor=one, kind="session_moved", email=False, clock=clock
    )

    assert notice_preferences.wants_email(db, user_id=other.id, kind="session_moved")
