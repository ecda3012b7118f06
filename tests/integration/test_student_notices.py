"""The students' money-and-schedule mails, end to end: the use case writes the notice in its own
transaction, `outbox.deliver_due` sends it to a real SMTP server (aiosmtpd), and the message is
read back: recipient, language, amounts, dates in the student's zone, the page link, never the
meeting link, and the session's .ics parsed with `icalendar`."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, func, select

from tests.factories import (
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from visio.models import Notice, User, VideoSession
from visio.services import calendar, enrollments, mail, outbox, sessions
from visio.services.errors import Conflict, InsufficientFunds
from visio.services.mail import SmtpTransport
from visio.services.session_edit import current_input, update_session
from visio.settings import settings

PRICE = 1500
PUBLIC = "https://visio.example.org"


@pytest.fixture(autouse=True)
def public_url(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(mail, "settings", replace(settings, public_url=PUBLIC))


@pytest.fixture
def teacher(db, clock):  # type: ignore[no-untyped-def]
    return make_teacher(db, clock=clock)


def student_in(db: Session, clock, *, locale: str, tz: str | None, amount: int = 0) -> User:  # type: ignore[no-untyped-def]
    student = (
        make_funded_student(db, clock=clock, amount_cents=amount)
        if amount
        else make_student(db, clock=clock)
    )
    student.locale, student.timezone = locale, tz
    db.add(student)
    db.commit()
    return student


def paid_session(db, clock, teacher, **overrides) -> VideoSession:  # type: ignore[no-untyped-def]
    values = {"is_paid": True, "price_cents": PRICE, **overrides}
    return make_session(db, teacher=teacher, clock=clock, publish=True, **values)


def deliver(db, clock, mailbox) -> outbox.Delivery:  # type: ignore[no-untyped-def]
    return outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)


def notices(db: Session, **where) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    query = select(func.count()).select_from(Notice)
    for column, value in where.items():
        query = query.where(getattr(Notice, column) == value)
    return db.exec(query).one()


def parts(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def event_of(message, method: str):  # type: ignore[no-untyped-def]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == method
    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == method
    [event] = calendar.walk("VEVENT")
    return attachment, event


def assert_private(message, session: VideoSession) -> None:  # type: ignore[no-untyped-def]
    page = f"{PUBLIC}/sessions/{session.id}"
    text, html = parts(message)
    assert page in text and f'href="{page}"' in html
    for part in message.walk():
        if not part.is_multipart():
            content = part.get_content()
            body = content.decode() if isinstance(content, bytes) else content
            assert session.link not in body


def test_enrollment_confirmed_has_amount_balance_zone_page_link_and_ics(
    db, clock, mailbox, teacher
):
    session = paid_session(db, clock, teacher)
    student = student_in(db, clock, locale="en", tz="America/New_York", amount=4000)

    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    done = deliver(db, clock, mailbox)

    assert (done.claimed, done.sent) == (2, 2)  # and the teacher's new-enrollment notice
    [message] = mailbox.to(student.email)
    assert [m for m in mailbox.messages if m["To"] != teacher.email] == [message]
    assert message["Subject"] == f"You are enrolled: {session.title}"
    assert message["Content-Language"] == "en"
    text, html = parts(message)
    # 2026-03-04 09:00 UTC is 04:00 in New York (EST).
    assert "Wednesday 4 March 2026, 04:00" in text and "Wednesday 4 March 2026, 04:00" in html
    assert "Paid: €15.00" in text and "Wallet balance: €25.00" in text
    assert_private(message, session)
    attachment, event = event_of(message, "REQUEST")
    assert attachment.get_filename() == f"visio-session-{session.id}.ics"
    assert str(event["UID"]) == f"visio-session-{session.id}@visio"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == session.starts_at
    assert str(event["URL"]) == f"{PUBLIC}/sessions/{session.id}"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_free_enrollment_says_free_in_french_in_the_default_zone(db, clock, mailbox, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = student_in(db, clock, locale="fr", tz=None)

    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    deliver(db, clock, mailbox)

    [message] = mailbox.to(student.email)
    assert message["Subject"] == f"Inscription confirmée : {session.title}"
    text, _ = parts(message)
    assert settings.default_timezone == "Europe/Paris"
    assert "mercredi 4 mars 2026 à 10:00" in text
    assert "Payé : Gratuit" in text or "Payé: Gratuit" in text
    assert_private(message, session)


@pytest.mark.parametrize("refusal", ["insufficient_funds", "session_full"])
def test_a_refused_enroll_enqueues_nothing(db, clock, mailbox, teacher, refusal):
    session = paid_session(db, clock, teacher, capacity=1)
    if refusal == "session_full":
        first = make_funded_student(db, clock=clock, amount_cents=PRICE)
        enrollments.enroll(db=db, actor=first, video_session_id=session.id, clock=clock)
        assert notices(db, user_id=first.id) == 1
        student = make_funded_student(db, clock=clock, amount_cents=PRICE)
    else:
        student = make_funded_student(db, clock=clock, amount_cents=PRICE - 1)
    before = table_counts(db)

    with pytest.raises((Conflict, InsufficientFunds)):
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)

    assert table_counts(db) == before
    assert notices(db, user_id=student.id) == 0
    deliver(db, clock, mailbox)
    assert mailbox.to(student.email) == []


def test_unenrolled_mail_has_the_refund_and_balance(db, clock, mailbox, teacher):
    session = paid_session(db, clock, teacher)
    student = student_in(db, clock, locale="en", tz="Asia/Tokyo", amount=2000)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)

    enrollments.unenroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    deliver(db, clock, mailbox)

    [confirmed, left] = mailbox.to(student.email)
    assert left["Subject"] == f"You left: {session.title}"
    text, html = parts(left)
    assert "Refunded to your wallet: €15.00" in text and "Wallet balance: €20.00" in text
    assert "€15.00" in html and "€20.00" in html
    assert_private(left, session)
    assert list(left.iter_attachments()) == []


def test_a_cancel_mails_each_student_their_refund_and_a_cancelled_event_once(
    db, clock, mailbox, teacher
):
    session = paid_session(db, clock, teacher)
    students = [
        student_in(db, clock, locale=lang, tz="Europe/London", amount=PRICE)
        for lang in ("en", "fr", "en")
    ]
    for student in students:
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    deliver(db, clock, mailbox)
    mailbox.messages.clear()
    clock.advance(hours=1)

    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Sick, sorry.", clock=clock
    )
    assert notices(db, kind="session_cancelled") == 3
    with pytest.raises(Conflict):
        sessions.cancel_session(
            db=db, actor=teacher, video_session_id=session.id, reason="Again", clock=clock
        )
    assert notices(db, kind="session_cancelled") == 3
    done = deliver(db, clock, mailbox)

    assert (done.claimed, done.sent) == (3, 3)
    for student in students:
        [message] = mailbox.to(student.email)
        text, _ = parts(message)
        assert "Sick, sorry." in text
        if student.locale == "en":
            assert message["Subject"] == f"Cancelled: {session.title}"
            assert "Refunded to your wallet: €15.00" in text
            assert "Wednesday 4 March 2026, 09:00" in text  # London is UTC in March
        else:
            assert message["Subject"] == f"Annulée : {session.title}"
            assert "15,00" in text and "mercredi 4 mars 2026 à 09:00" in text
        for other in students:
            if other is not student:
                assert other.email not in message.as_string()
        assert_private(message, session)
        _, event = event_of(message, "CANCEL")
        assert str(event["UID"]) == f"visio-session-{session.id}@visio"
        assert int(event["SEQUENCE"]) > 0
        assert str(event["STATUS"]) == "CANCELLED"


def test_a_move_mails_old_and_new_start_the_refund_right_and_a_newer_event(
    db, clock, mailbox, teacher
):
    session = paid_session(db, clock, teacher)
    student = student_in(db, clock, locale="en", tz="America/New_York", amount=PRICE)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    deliver(db, clock, mailbox)
    [confirmed] = mailbox.to(student.email)
    _, first_event = event_of(confirmed, "REQUEST")
    clock.advance(minutes=5)

    new_start = session.starts_at + timedelta(days=1, hours=2)
    data = replace(current_input(db, session), starts_at=new_start)
    update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)
    assert notices(db, kind="session_moved") == 1
    deliver(db, clock, mailbox)

    [_, moved] = mailbox.to(student.email)
    assert moved["Subject"] == f"New time: {session.title}"
    text, html = parts(moved)
    assert "Was: Wednesday 4 March 2026, 04:00" in text
    assert "Now: Thursday 5 March 2026, 06:00" in text
    assert "full refund until Thursday 5 March 2026, 06:00" in text
    assert "Thursday 5 March 2026, 06:00" in html
    assert_private(moved, session)
    _, event = event_of(moved, "REQUEST")
    assert str(event["UID"]) == str(first_event["UID"])
    assert int(event["SEQUENCE"]) > int(first_event["SEQUENCE"])
    assert event.decoded("DTSTART") == new_start
    page_ics = calendar.session_ics(
        db=db, actor=student, video_session_id=session.id, page_url="https://x/p", clock=clock
    )
    [page_event] = Calendar.from_ical(page_ics.content).walk("VEVENT")
    assert (str(page_event["UID"]), int(page_event["SEQUENCE"])) == (
        str(event["UID"]),
        int(event["SEQUENCE"]),
    )  # the page's download and the mail describe the same version of the event


def test_an_edit_that_does_not_move_the_session_mails_nobody(db, clock, mailbox, teacher):
    session = paid_session(db, clock, teacher)
    student = student_in(db, clock, locale="en", tz=None, amount=PRICE)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)

    data = replace(current_input(db, session), title="A better title")
    update_session(db=db, actor=teacher, video_session_id=session.id, data=data, clock=clock)

    assert notices(db, kind="session_moved") == 0


def test_a_rollback_after_the_enqueue_sends_nothing(db, clock, mailbox, teacher):
    session = paid_session(db, clock, teacher)
    student = student_in(db, clock, locale="en", tz=None, amount=PRICE)

    written: list[int] = []

    def fail_commit() -> None:
        written.append(db.exec(select(func.count()).select_from(Notice)).one())
        raise RuntimeError("the database went away at commit")

    original = db.commit
    db.commit = fail_commit  # the use case's own commit fails after its notice was written
    try:
        with pytest.raises(RuntimeError):
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    finally:
        db.commit = original

    assert written == [1]  # the seat's notice (the student's, carrying the teacher's) was in it
    assert notices(db) == 0
    assert deliver(db, clock, mailbox).claimed == 0
    assert mailbox.messages == []
