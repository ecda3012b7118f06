"""A delivery pass works per batch (the recipients' unsubscribe keys read together, the sent
notices marked together) and per mail gives what a mail built alone gives: the same signed
links, each row sent with its secrets wiped, the sent ones recorded even when the pass is cut
short; and the mail policy's shared headers come out as the standard policy writes them."""

from __future__ import annotations

import email.policy
import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from tests.factories import make_student
from visio.models import Notice, NoticeStatus
from visio.services import mail, outbox, unsubscribe
from visio.services.mail import SmtpTransport


def _calendar_data(session_id: int, clock) -> dict[str, object]:  # type: ignore[no-untyped-def]
    starts = clock() + timedelta(days=3)
    return {
        "session_id": session_id,
        "title": "Révision d'algèbre : équations du second degré",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "session_tz": "Europe/Paris",
        "tz": "Europe/Paris",
        "currency": "EUR",
        "sequence": 0,
        "paid_cents": 1500,
        "balance_cents": 3500,
    }


def test_a_pass_signs_each_link_as_a_lone_mail_would_and_marks_every_row(db, clock, mailbox):
    _signs_and_marks(db, clock, mailbox)


@pytest.mark.postgres
def test_a_pass_signs_and_marks_alike_on_postgresql(pg_db, clock, mailbox):
    _signs_and_marks(pg_db, clock, mailbox)


def _signs_and_marks(db: Session, clock, mailbox) -> None:  # type: ignore[no-untyped-def]
    students = [make_student(db, clock=clock) for _ in range(3)]
    unsubscribe.signing_key(db, user_id=students[0].id)  # one has a key already, two have none
    for index, student in enumerate(students):
        outbox.enqueue(
            db,
            kind="enrollment_confirmed",
            user=student,
            data=_calendar_data(index + 1, clock),
            at=clock(),
        )
        outbox.enqueue(db, kind="password_reset", user=student, data={"token": "t"}, at=clock())
    db.commit()

    done = outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)

    assert (done.claimed, done.sent) == (6, 6)
    for student in students:
        mails = mailbox.to(student.email)
        [confirmed] = [m for m in mails if list(m.iter_attachments())]  # the one with an .ics
        [reset] = [m for m in mails if m is not confirmed]
        token = unsubscribe.token_for(db, user_id=student.id, kind="enrollment_confirmed")
        assert confirmed["List-Unsubscribe"].endswith(f"/api/unsubscribe?token={token}>")
        assert reset["List-Unsubscribe"] is None
    db.rollback()
    rows = db.query(Notice).populate_existing().all()
    assert {row.status for row in rows} == {NoticeStatus.SENT}
    assert all(row.sent_at == clock() and row.attempts == 1 for row in rows)
    assert all(row.claimed_until is None for row in rows)
    assert all("token" not in row.data for row in rows if row.kind == "password_reset")
    assert all(row.data["paid_cents"] == 1500 for row in rows if row.kind != "password_reset")


class _Interrupted(BaseException):
    """A stop that no handler of the pass takes for a failed mail (as a shutdown would be)."""


class _StopsAfter:
    def __init__(self, transport: SmtpTransport, count: int) -> None:
        self.transport, self.count = transport, count

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        if not self.count:
            raise _Interrupted
        self.count -= 1
        self.transport.send(message)

    def close(self) -> None:
        self.transport.close()


def test_the_mails_sent_before_a_pass_is_cut_short_are_recorded(db: Session, clock, mailbox):
    student = make_student(db, clock=clock)
    for token in ("a", "b", "c"):
        outbox.enqueue(db, kind="password_reset", user=student, data={"token": token}, at=clock())
    db.commit()
    transport = _StopsAfter(SmtpTransport(mailbox.url), count=2)

    with pytest.raises(_Interrupted):
        outbox.deliver_due(db=db, transport=transport, clock=clock)
    transport.close()

    db.rollback()
    rows = db.query(Notice).order_by(Notice.id).populate_existing().all()  # type: ignore[arg-type]
    assert [row.status for row in rows] == [NoticeStatus.SENT] * 2 + [NoticeStatus.PENDING]
    assert len(mailbox.to(student.email)) == 2
    assert rows[2].claimed_until is not None  # left to its lease, as a crash would leave it


def test_shared_headers_come_out_as_the_standard_policy_writes_them(clock):
    standard = email.policy.default.clone(linesep="\r\n")
    for index in range(3):  # the later mails meet the headers the first one parsed and folded
        message = mail.build_message(
            kind="enrollment_confirmed",
            to=f"Zoé Étudiante <student{index}@example.org>",
            locale=("fr", "en")[index % 2],
            data=_calendar_data(index + 1, clock),
            at=clock(),
            unsubscribe_token=f"{index}.enrollment_confirmed.signature",
        )
        ours = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        assert ours == message.as_bytes(policy=standard)
        assert re.search(rb"^Subject: .*=\?utf-8\?", ours, re.MULTILINE)  # encoded words kept
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
