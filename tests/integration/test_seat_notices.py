"""A seat's notices: the claim writes one row (the student's, carrying the teacher's), the sender
writes the teacher's "new enrollment" and "session full" when it claims that row, each once,
through a real SMTP server (aiosmtpd) and on both databases; the recipients' choices are the
ones they hold when the mail goes out."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.factories import make_session, make_student, make_teacher
from tests.mailbox import senders_race
from visio.models import Notice, NoticePreference, NoticeStatus, User
from visio.services import enrollments, outbox, seat_notices
from visio.services.mail import SmtpTransport


def notices(db: Session, **where: object) -> list[Notice]:
    db.rollback()
    query = select(Notice).order_by(Notice.id)  # type: ignore[arg-type]
    for name, value in where.items():
        query = query.where(getattr(Notice, name) == value)
    return list(db.exec(query).all())


def deliver(db: Session, clock, mailbox) -> outbox.Delivery:  # type: ignore[no-untyped-def]
    return outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_seat_writes_one_row_and_the_sender_writes_the_teachers_once(db, clock, mailbox):
    teacher = make_teacher(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=1)
    student = make_student(db, clock=clock, full_name="Léa Martin")
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)

    [carrier] = notices(db)
    assert (carrier.user_id, carrier.kind) == (student.id, "enrollment_confirmed")
    assert carrier.data[seat_notices.SEAT] == {"taken": 1, "capacity": 1, "student": "Léa Martin"}

    done = deliver(db, clock, mailbox)

    assert (done.claimed, done.sent) == (3, 3)  # the confirmation, new enrollment, session full
    teachers = notices(db, user_id=teacher.id)
    assert [n.kind for n in teachers] == ["new_enrollment", "session_full"]
    assert {n.status for n in notices(db)} == {NoticeStatus.SENT}
    assert [n.created_at for n in teachers] == [carrier.created_at] * 2  # listed with the seat
    assert seat_notices.SEAT not in notices(db, id=carrier.id)[0].data
    assert len(mailbox.to(teacher.email)) == 2 and len(mailbox.to(student.email)) == 1
    assert "Léa Martin" in body(mailbox.to(teacher.email)[0])

    assert deliver(db, clock, mailbox).claimed == 0
    assert len(mailbox.messages) == 3


def test_a_carrier_fanned_out_twice_writes_the_teachers_notices_once(db, clock):
    """A sender whose lease ran out while a second one took the row over: both fan it out."""
    teacher = make_teacher(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrollments.enroll(
        db=db, actor=make_student(db, clock=clock), video_session_id=session.id, clock=clock
    )
    [first] = notices(db)
    db.expunge(first)
    [second] = notices(db)
    db.expunge(second)
    lease = outbox.DEFAULT_LEASE

    written = seat_notices.fan_out(db, [first], now=clock(), lease=lease)
    again = seat_notices.fan_out(db, [second], now=clock(), lease=lease)

    assert [n.kind for n in written] == ["new_enrollment"] and again == []
    assert [n.kind for n in notices(db, user_id=teacher.id)] == ["new_enrollment"]


def test_choices_are_applied_when_the_mail_goes_out(db, clock, mailbox):
    teacher = make_teacher(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    quiet = make_student(db, clock=clock)
    db.add(NoticePreference(user_id=quiet.id, kind="enrollment_confirmed", email=False))
    db.commit()
    late = make_student(db, clock=clock)
    for student in (quiet, late):
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    # Turned off after the seat was taken, before the sender ran: honoured too.
    db.add(NoticePreference(user_id=late.id, kind="enrollment_confirmed", email=False))
    db.add(NoticePreference(user_id=teacher.id, kind="new_enrollment", email=False))
    db.commit()

    done = deliver(db, clock, mailbox)

    assert (done.claimed, done.sent) == (4, 0)
    assert {n.status for n in notices(db)} == {NoticeStatus.SKIPPED}  # listed in the app only
    assert len(notices(db, user_id=teacher.id)) == 2
    assert mailbox.messages == []


def _race(engine: Engine, db: Session, clock, mailbox, seats: int) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    teacher.locale = "en"
    db.commit()
    sessions = [
        make_session(db, teacher=teacher, clock=clock, publish=True, capacity=seats // 4)
        for _ in range(4)
    ]
    names = []
    for i in range(seats):
        student = make_student(db, clock=clock, full_name=f"Student {i:03d}")
        names.append(student.full_name)
        session = sessions[i % 4]
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    senders_race(engine, mailbox, clock, limit=7)
    to_teacher = mailbox.to(teacher.email)
    enrolled = sorted(
        name
        for m in to_teacher
        if m["Subject"].startswith("New")
        for name in names
        if name in body(m)
    )
    assert enrolled == sorted(names)  # each seat told once, none missing
    assert (
        len([m for m in to_teacher if not m["Subject"].startswith("New")]) == 4
    )  # 4 sessions full
    assert len(mailbox.messages) == 2 * seats + 4
    kinds = [n.kind for n in notices(db, user_id=teacher.id, status=NoticeStatus.SENT)]
    assert sorted(kinds) == ["new_enrollment"] * seats + ["session_full"] * 4
    assert len(notices(db)) == 2 * seats + 4
    assert db.exec(select(User).where(User.id == teacher.id)).one().email_refused_at is None


def test_two_senders_write_and_mail_each_seats_notices_once_on_sqlite(engine, db, clock, mailbox):
    _race(engine, db, clock, mailbox, seats=80)


@pytest.mark.postgres
def test_two_senders_write_and_mail_each_seats_notices_once_on_postgresql(
    pg_engine, pg_db, clock, mailbox
):
    _race(pg_engine, pg_db, clock, mailbox, seats=80)
