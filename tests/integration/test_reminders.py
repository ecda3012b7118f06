"""Reminders before a session, end to end: `reminders.schedule_due` writes them (once, whoever
runs it and however often), the outbox sends them to a real SMTP server (aiosmtpd), and the
messages are read back. Published sessions only, active students only, never after the start,
only the nearest of several due at once, and the recipient's preferences honoured."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.factories import make_session, make_student, make_teacher
from visio import background
from visio import db as visio_db
from visio.clock import FrozenClock, utcnow
from visio.models import Notice, NoticePreference, NoticeStatus, User, VideoSession
from visio.services import enrollments, mail, outbox, reminders, sessions
from visio.services.mail import SmtpTransport
from visio.settings import parse_reminders, settings

PUBLIC = "https://visio.example.org"
DAY, HOUR = 86400, 3600
OFFSETS = (DAY, HOUR)


@pytest.fixture(autouse=True)
def public_url(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(mail, "settings", replace(settings, public_url=PUBLIC))


@pytest.fixture
def teacher(db, clock):  # type: ignore[no-untyped-def]
    return make_teacher(db, clock=clock)


def person(db: Session, user: User, *, locale: str, tz: str | None) -> User:
    user.locale, user.timezone = locale, tz
    db.add(user)
    db.commit()
    return user


def enrolled(db, clock, session: VideoSession, *, locale="en", tz=None) -> User:  # type: ignore[no-untyped-def]
    student = person(db, make_student(db, clock=clock), locale=locale, tz=tz)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    return student


def schedule(db, clock, offsets=OFFSETS) -> int:  # type: ignore[no-untyped-def]
    return reminders.schedule_due(db, clock=clock, offsets=offsets)


def written(db: Session, kind: str = "reminder", **where) -> list[Notice]:  # type: ignore[no-untyped-def]
    db.rollback()
    query = select(Notice).where(Notice.kind == kind).order_by(Notice.id)
    for column, value in where.items():
        query = query.where(getattr(Notice, column) == value)
    return list(db.exec(query).all())


def until(clock: FrozenClock, session: VideoSession, before: timedelta) -> None:
    """Move the clock to `before` the session's start."""
    clock.at = session.starts_at - before


def deliver(db, clock, mailbox) -> outbox.Delivery:  # type: ignore[no-untyped-def]
    return outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)


def parts(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def test_the_day_before_the_student_and_the_teacher_get_a_reminder_in_their_language_and_zone(
    db, clock, mailbox, teacher
):
    person(db, teacher, locale="fr", tz="Europe/Paris")
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=10)
    student = enrolled(db, clock, session, locale="en", tz="America/New_York")
    other = enrolled(db, clock, session, locale="fr", tz=None)
    deliver(db, clock, mailbox)
    mailbox.messages.clear()

    until(clock, session, timedelta(hours=24, minutes=1))
    assert schedule(db, clock) == 0  # not due yet
    until(clock, session, timedelta(hours=24))
    assert schedule(db, clock) == 3  # two students and the teacher
    done = deliver(db, clock, mailbox)

    assert done.sent == 3
    [message] = mailbox.to(student.email)
    assert message["Subject"] == f"Reminder: {session.title}"
    assert message["Content-Language"] == "en"
    text, html = parts(message)
    assert "Wednesday 4 March 2026, 04:00" in text and "Wednesday 4 March 2026, 04:00" in html
    page = f"{PUBLIC}/sessions/{session.id}"
    assert page in text and f'href="{page}"' in html
    assert session.link not in message.as_string()
    assert other.email not in message.as_string()
    [french] = mailbox.to(other.email)
    assert french["Subject"] == f"Rappel : {session.title}"
    assert "mercredi 4 mars 2026 à 10:00" in parts(french)[0]

    [mine] = mailbox.to(teacher.email)
    assert mine["Subject"] == f"Votre session approche : {session.title}"
    text, html = parts(mine)
    assert f"{PUBLIC}/teacher/video-sessions/{session.id}" in text
    assert "2 sur 10" in text and "mercredi 4 mars 2026 à 10:00" in html
    assert session.link not in mine.as_string()
    assert student.email not in mine.as_string()


def test_running_the_scheduler_again_writes_nothing_more(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrolled(db, clock, session)
    until(clock, session, timedelta(hours=23))

    assert schedule(db, clock) == 2
    assert schedule(db, clock) == 0
    clock.advance(minutes=30)
    assert schedule(db, clock) == 0
    assert len(written(db)) == 1 and len(written(db, "teacher_reminder")) == 1

    until(clock, session, timedelta(minutes=59))  # the hour before: the second reminder
    assert schedule(db, clock) == 2
    assert [n.data["before_seconds"] for n in written(db)] == [DAY, HOUR]


def test_no_reminder_for_a_cancelled_session_nor_a_draft(db, clock, teacher):
    cancelled = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrolled(db, clock, cancelled)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=cancelled.id, reason="Ill", clock=clock
    )
    make_session(db, teacher=teacher, clock=clock)  # a draft

    until(clock, cancelled, timedelta(minutes=30))
    assert schedule(db, clock) == 0
    assert written(db) == [] and written(db, "teacher_reminder") == []


def test_a_student_who_left_gets_no_reminder(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    stays = enrolled(db, clock, session)
    leaves = enrolled(db, clock, session)
    enrollments.unenroll(db=db, actor=leaves, video_session_id=session.id, clock=clock)

    until(clock, session, timedelta(hours=2))
    schedule(db, clock)

    assert [n.user_id for n in written(db)] == [stays.id]


def test_after_the_start_nothing_is_written(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrolled(db, clock, session)

    clock.at = session.starts_at
    assert schedule(db, clock) == 0
    clock.advance(minutes=5)
    assert schedule(db, clock) == 0
    assert written(db) == []


def test_after_downtime_only_the_nearest_reminder_is_written_and_never_the_older_one(
    db, clock, teacher
):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    student = enrolled(db, clock, session)

    until(clock, session, timedelta(minutes=20))  # the app was down for both
    assert schedule(db, clock) == 2
    [reminder] = written(db)
    assert (reminder.user_id, reminder.data["before_seconds"]) == (student.id, HOUR)
    assert reminder.status == NoticeStatus.PENDING
    [mine] = written(db, "teacher_reminder")
    assert mine.data["before_seconds"] == HOUR

    clock.advance(minutes=10)
    assert schedule(db, clock) == 0  # the 24 h one, overtaken, never comes


def test_a_reminder_due_before_the_student_enrolled_is_not_written(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    until(clock, session, timedelta(hours=3))
    student = enrolled(db, clock, session)  # 21 h after the 24 h reminder was due

    assert schedule(db, clock) == 1  # the teacher's (published two days before)
    assert written(db) == []

    until(clock, session, timedelta(minutes=45))
    assert schedule(db, clock) == 2
    assert [(n.user_id, n.data["before_seconds"]) for n in written(db)] == [(student.id, HOUR)]

    late = make_session(
        db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + timedelta(minutes=40)
    )
    enrolled(db, clock, late)
    assert schedule(db, clock) == 0  # published and enrolled within the last hour: no reminder


def test_a_student_who_turned_reminders_off_has_them_in_the_app_only(db, clock, mailbox, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    quiet = enrolled(db, clock, session)
    db.add(NoticePreference(user_id=quiet.id, kind="reminder", email=False))
    db.add(NoticePreference(user_id=teacher.id, kind="teacher_reminder", email=False))
    db.commit()
    loud = enrolled(db, clock, session)
    deliver(db, clock, mailbox)
    mailbox.messages.clear()

    until(clock, session, timedelta(minutes=50))
    assert schedule(db, clock) == 3
    deliver(db, clock, mailbox)

    statuses = {n.user_id: n.status for n in written(db)}
    assert statuses == {quiet.id: NoticeStatus.SKIPPED, loud.id: NoticeStatus.SENT}
    assert written(db, "teacher_reminder")[0].status == NoticeStatus.SKIPPED
    assert mailbox.to(quiet.email) == [] and mailbox.to(teacher.email) == []
    assert len(mailbox.to(loud.email)) == 1


def test_a_session_moved_later_reminds_again_for_its_new_time(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrolled(db, clock, session)
    until(clock, session, timedelta(hours=20))
    assert schedule(db, clock) == 2
    first_start = session.starts_at

    db.rollback()
    moved = db.get(VideoSession, session.id)
    moved.starts_at += timedelta(days=3)  # as an edit with students would (see session_edit)
    moved.ends_at += timedelta(days=3)
    db.commit()
    assert schedule(db, clock) == 0
    until(clock, moved, timedelta(hours=12))
    assert schedule(db, clock) == 2
    assert [n.data["starts_at"] for n in written(db)] == [
        first_start.isoformat(),
        moved.starts_at.isoformat(),
    ]


def test_no_reminders_configured_writes_none(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enrolled(db, clock, session)
    until(clock, session, timedelta(minutes=5))
    assert schedule(db, clock, offsets=()) == 0
    assert schedule(db, clock, offsets=parse_reminders("15m")) == 2


def _race(engine: Engine, db: Session, clock: FrozenClock) -> None:
    teacher = make_teacher(db, clock=clock)
    upcoming = [make_session(db, teacher=teacher, clock=clock, publish=True) for _ in range(6)]
    students = [make_student(db, clock=clock) for _ in range(10)]
    for session in upcoming:
        for student in students:
            enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(days=1, hours=1)  # every session's 24 h reminder is due
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    counts: list[int] = []

    def scheduler() -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                start.wait()
                for _ in range(3):
                    counts.append(reminders.schedule_due(own, clock=clock, offsets=OFFSETS))
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = len(upcoming) * (len(students) + 1)
    assert sum(counts) == expected
    db.rollback()
    keys = db.exec(
        select(Notice.dedupe_key).where(Notice.kind.in_(["reminder", "teacher_reminder"]))
    ).all()  # type: ignore[attr-defined]
    assert len(keys) == len(set(keys)) == expected


def test_two_schedulers_at_once_write_each_reminder_once_on_sqlite(engine, db, clock):
    _race(engine, db, clock)


@pytest.mark.postgres
def test_two_schedulers_at_once_write_each_reminder_once_on_postgresql(pg_engine, pg_db, clock):
    _race(pg_engine, pg_db, clock)


def test_the_workers_pass_writes_the_due_reminders_with_the_configured_delays(
    engine, db, monkeypatch
):
    monkeypatch.setattr(reminders, "settings", replace(settings, reminders=parse_reminders("24h")))
    yesterday = FrozenClock(utcnow() - timedelta(days=1, minutes=5))
    teacher = make_teacher(db, clock=yesterday)
    session = make_session(db, teacher=teacher, clock=yesterday, publish=True)  # starts in 23:55
    student = make_student(db, clock=yesterday)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=yesterday)
    visio_db.bind_engine(engine)
    try:
        assert background.schedule_reminders() == 2
        assert background.schedule_reminders() == 0
    finally:
        visio_db.bind_engine(None)
    [reminder] = written(db)
    assert (reminder.user_id, reminder.data["before_seconds"]) == (student.id, DAY)
