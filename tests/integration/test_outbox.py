"""The outbox against a real SMTP server (aiosmtpd) and real databases: nothing sent for a
rollback, delivery after commit, waiting through an outage, each notice once with two senders,
and a crashed sender's claim taken over once its lease has run out."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.factories import make_student
from tests.mailbox import senders_race
from visio.models import Notice, NoticePreference, NoticeStatus
from visio.services import mail, notice_rows, outbox
from visio.services.mail import SmtpTransport
from visio.settings import settings


def pending_reset(db: Session, user, clock, token: str = "tok-123") -> Notice:  # type: ignore[no-untyped-def]
    notice = outbox.enqueue(db, kind="password_reset", user=user, data={"token": token}, at=clock())
    db.commit()
    return notice


def fresh_notice(db: Session, notice_id: int) -> Notice:
    db.rollback()
    notice = db.get(Notice, notice_id, populate_existing=True)
    assert notice is not None
    return notice


def test_a_rolled_back_notice_is_never_sent(db, clock, mailbox):
    student = make_student(db, clock=clock)
    outbox.enqueue(db, kind="password_reset", user=student, data={"token": "x"}, at=clock())
    db.rollback()

    done = outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)

    assert done.claimed == 0
    assert db.exec(select(Notice)).all() == []
    assert mailbox.messages == []


def test_a_committed_notice_arrives_in_the_recipients_language_with_a_link(
    db, clock, mailbox, monkeypatch
):
    monkeypatch.setattr(mail, "settings", replace(settings, public_url="https://visio.example.org"))
    student = make_student(db, clock=clock)
    student.locale = "en"
    db.commit()
    notice = pending_reset(db, student, clock, token="abc-DEF_123")

    done = outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)

    assert (done.claimed, done.sent) == (1, 1)
    [message] = mailbox.to(student.email)
    assert message["Subject"] == "Reset your Visio password"
    assert message["From"] == "Visio <no-reply@localhost>"
    assert message["Content-Language"] == "en"
    assert message["Message-ID"] and message["Date"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = "https://visio.example.org/reset-password?token=abc-DEF_123"
    assert link in text and f'href="{link}"' in html
    assert "Choose a new password" in text and "<html" in html
    sent = fresh_notice(db, notice.id)
    assert sent.status == NoticeStatus.SENT and sent.sent_at == clock()
    assert "token" not in sent.data  # the raw token does not outlive the mail


def test_a_french_account_gets_french_and_a_default_locale_account_the_default(
    db, clock, mailbox, monkeypatch
):
    monkeypatch.setattr(notice_rows, "settings", replace(settings, default_locale="fr"))
    student = make_student(db, clock=clock)  # no language chosen
    pending_reset(db, student, clock)

    outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)

    [message] = mailbox.to(student.email)
    assert message["Content-Language"] == "fr"
    assert message["Subject"] == "Réinitialisez votre mot de passe Visio"
    assert "Choisir un nouveau mot de passe" in message.get_body(("plain",)).get_content()


def test_a_notice_waits_while_the_server_is_down_and_arrives_once_it_is_back(db, clock, mailbox):
    student = make_student(db, clock=clock)
    notice = pending_reset(db, student, clock)
    transport = SmtpTransport(mailbox.url, timeout=5)
    mailbox.stop()

    first = outbox.deliver_due(db=db, transport=transport, clock=clock)
    waiting = fresh_notice(db, notice.id)
    assert (first.sent, first.retried) == (0, 1)
    assert waiting.status == NoticeStatus.PENDING and waiting.attempts == 1
    assert clock() < waiting.next_attempt_at <= clock() + timedelta(seconds=30)
    assert waiting.last_error and waiting.claimed_until is None

    clock.advance(seconds=30)
    outbox.deliver_due(db=db, transport=transport, clock=clock)
    again = fresh_notice(db, notice.id)
    assert again.attempts == 2
    assert again.next_attempt_at - clock() > waiting.next_attempt_at - waiting.created_at  # backoff

    mailbox.start()
    assert outbox.deliver_due(db=db, transport=transport, clock=clock).claimed == 0  # not yet due
    clock.at = again.next_attempt_at
    done = outbox.deliver_due(db=db, transport=transport, clock=clock)

    assert done.sent == 1
    assert len(mailbox.to(student.email)) == 1
    assert fresh_notice(db, notice.id).status == NoticeStatus.SENT


def test_one_connection_carries_a_pass_and_a_dropped_one_is_reopened(db, clock, mailbox):
    student = make_student(db, clock=clock)
    for token in ("a", "b", "c"):
        pending_reset(db, student, clock, token=token)
    transport = SmtpTransport(mailbox.url, timeout=5)

    assert outbox.deliver_due(db=db, transport=transport, clock=clock).sent == 3
    assert len(mailbox.peers) == 1  # three mails, one connection
    mailbox.stop()  # the kept connection dies with the server
    mailbox.start()
    pending_reset(db, student, clock, token="d")

    assert outbox.deliver_due(db=db, transport=transport, clock=clock).sent == 1
    transport.close()
    assert len(mailbox.to(student.email)) == 4


def test_backoff_doubles_and_stops_at_fifteen_minutes():
    delays = [outbox.retry_delay(n) for n in range(1, 12)]
    assert delays[0] <= timedelta(seconds=30)
    cap = timedelta(minutes=15)
    assert all(b == min(2 * a, cap) for a, b in zip(delays, delays[1:], strict=False))
    assert delays[-1] == timedelta(minutes=15)


def test_a_permanently_refused_address_is_marked_failed_and_not_retried(db, clock, mailbox):
    student = make_student(db, clock=clock)
    mailbox.refuse.add(student.email)
    notice = pending_reset(db, student, clock)

    done = outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)

    failed = fresh_notice(db, notice.id)
    assert done.failed == 1 and failed.status == NoticeStatus.FAILED
    assert "550" in (failed.last_error or "")
    clock.advance(hours=1)
    assert outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock).claimed == 0
    db.refresh(student)
    assert student.email_refused_at is not None


def test_a_refusal_of_an_address_the_owner_has_since_changed_does_not_mark_the_new_one(
    db, clock, mailbox
):
    student = make_student(db, clock=clock)
    mailbox.refuse.add(student.email)
    pending_reset(db, student, clock)
    student.email = "fresh-address@example.org"
    db.add(student)
    db.commit()

    assert outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock).failed == 1

    db.refresh(student)
    assert student.email_refused_at is None


def test_an_optional_kind_turned_off_is_kept_for_the_app_but_never_mailed(db, clock, mailbox):
    student = make_student(db, clock=clock)
    db.add(NoticePreference(user_id=student.id, kind="session_moved", email=False))
    db.commit()
    data = {"session_id": 1, "title": "T", "starts_at": clock().isoformat()}
    off = outbox.enqueue(db, kind="session_moved", user=student, data=data, at=clock())
    on = outbox.enqueue(db, kind="unenrolled", user=student, data=data, at=clock())
    db.commit()

    claimed = outbox.claim_due(db, clock=clock)

    assert fresh_notice(db, off.id).status == NoticeStatus.SKIPPED
    assert claimed == [on.id]


def test_a_crashed_senders_claim_is_taken_over_once_its_lease_runs_out(db, clock, mailbox):
    student = make_student(db, clock=clock)
    notice = pending_reset(db, student, clock)
    lease = timedelta(minutes=5)
    assert outbox.claim_due(db, clock=clock, lease=lease) == [notice.id]  # then the sender dies

    transport = SmtpTransport(mailbox.url)
    clock.advance(minutes=4)
    assert outbox.deliver_due(db=db, transport=transport, clock=clock, lease=lease).claimed == 0
    assert mailbox.messages == []

    clock.advance(minutes=1)
    done = outbox.deliver_due(db=db, transport=transport, clock=clock, lease=lease)
    assert done.sent == 1 and len(mailbox.to(student.email)) == 1


def _race(engine: Engine, db: Session, clock, mailbox, count: int) -> None:  # type: ignore[no-untyped-def]
    students = [make_student(db, clock=clock) for _ in range(4)]
    for i in range(count):
        outbox.enqueue(
            db, kind="password_reset", user=students[i % 4], data={"token": f"n{i}"}, at=clock()
        )
    db.commit()
    senders_race(engine, mailbox, clock, limit=10)
    tokens = [
        m.get_body(("plain",)).get_content().split("token=")[1].split()[0] for m in mailbox.messages
    ]
    assert sorted(tokens) == sorted(f"n{i}" for i in range(count))  # each once, none missing
    db.rollback()
    statuses = db.exec(select(Notice.status)).all()
    assert statuses == [NoticeStatus.SENT] * count


def test_two_senders_deliver_each_notice_exactly_once_on_sqlite(engine, db, clock, mailbox):
    _race(engine, db, clock, mailbox, count=500)


@pytest.mark.postgres
def test_two_senders_deliver_each_notice_exactly_once_on_postgresql(
    pg_engine, pg_db, clock, mailbox
):
    _race(pg_engine, pg_db, clock, mailbox, count=500)


def test_without_an_smtp_server_each_mail_is_written_as_an_eml_file_and_logged(
    db, clock, tmp_path, caplog
):
    student = make_student(db, clock=clock)
    pending_reset(db, student, clock)
    caplog.set_level("INFO", logger="visio.services.mail")

    done = outbox.deliver_due(db=db, transport=mail.FileTransport(tmp_path / "mail"), clock=clock)

    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert done.sent == 1 and message["To"] == student.email
    assert "/reset-password?token=tok-123" in message.get_body(("plain",)).get_content()
    assert message["Subject"] in caplog.text


def test_the_configured_transport_follows_the_settings(monkeypatch, tmp_path):
    monkeypatch.setattr(mail, "settings", replace(settings, smtp_url="", mail_dir=tmp_path))
    assert isinstance(mail.configured_transport(), mail.FileTransport)
    url = "smtps://me%40school.example:p%2Fss@smtp.example.org"
    monkeypatch.setattr(mail, "settings", replace(settings, smtp_url=url))
    smtp = mail.configured_transport()
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.tls, smtp.host, smtp.port) == (True, "smtp.example.org", 465)
    assert (smtp.username, smtp.password) == ("me@school.example", "p/ss")
    with pytest.raises(ValueError):
        SmtpTransport("http://smtp.example.org")
