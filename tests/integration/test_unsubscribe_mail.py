"""The one-click unsubscribe of a delivered mail (RFC 8058), through a real SMTP server: an
optional kind carries both List-Unsubscribe headers and the footer's links, in both parts; a
mail that cannot be turned off carries none; the link turns that kind off for its user."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.factories import make_session, make_student, make_teacher
from visio.services import enrollments, mail, outbox, sessions, unsubscribe
from visio.services.mail import SmtpTransport
from visio.settings import settings

PUBLIC = "https://visio.example.org"


@pytest.fixture(autouse=True)
def public_url(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(mail, "settings", replace(settings, public_url=PUBLIC))


def deliver(db, clock, mailbox) -> None:  # type: ignore[no-untyped-def]
    outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)


def bodies(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


@pytest.mark.parametrize(
    ("locale", "stop"),
    [("en", "Stop these mails (Enrollment confirmed)"), ("fr", "Ne plus recevoir ces e-mails")],
)
def test_an_optional_mail_has_the_one_click_headers_and_the_footer_links(
    db, clock, mailbox, locale, stop
) -> None:
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)
    student.locale = locale
    db.add(student)
    db.commit()
    session = make_session(db, teacher=teacher, clock=clock, publish=True)

    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    deliver(db, clock, mailbox)

    [message] = mailbox.to(student.email)
    header = message["List-Unsubscribe"]
    found = re.fullmatch(rf"<{re.escape(PUBLIC)}/api/unsubscribe\?token=([\w.\-]+)>", header)
    assert found, header
    token = found.group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = bodies(message)
    page = f"{PUBLIC}/unsubscribe?token={token}"
    assert f"{stop}" in text and page in text and f"{PUBLIC}/account" in text
    assert f'href="{page}"' in html and f'href="{PUBLIC}/account"' in html
    assert unsubscribe.check(db, token=token) == unsubscribe.Target(
        student.id, "enrollment_confirmed"
    )

    unsubscribe.unsubscribe(db=db, token=token, clock=clock)
    again = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrollments.enroll(db=db, actor=student, video_session_id=again.id, clock=clock)
    outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)
    assert len(mailbox.to(student.email)) == 1  # the teacher's "new enrollment" went; not this


def test_a_mail_that_cannot_be_turned_off_has_no_unsubscribe(db, clock, mailbox) -> None:
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    deliver(db, clock, mailbox)
    mailbox.messages.clear()

    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Sick, sorry.", clock=clock
    )
    deliver(db, clock, mailbox)

    [message] = mailbox.to(student.email)
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    text, html = bodies(message)
    assert "/unsubscribe" not in text and "/unsubscribe" not in html
    assert f"{PUBLIC}/account" not in text


def test_a_password_mail_has_no_unsubscribe_even_for_a_known_account(db, clock) -> None:
    student = make_student(db, clock=clock)

    message = mail.build_message(
        kind="password_reset",
        to=student.email,
        locale="en",
        data={"token": "x"},
        user_id=student.id,
        db=db,
    )

    assert message["List-Unsubscribe"] is None
    assert "/unsubscribe" not in message.get_body(("plain",)).get_content()
