"""What teachers are told, end to end through a real SMTP server (aiosmtpd): a new enrollment
(the student's name, never their email), the session full once, the payout released with its
amount, the daily digest for those who asked; and "new material" to the enrolled students only.
Every notice is written in the transaction that causes it: a rolled-back enroll leaves none."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from tests.factories import make_funded_student, make_session, make_student, make_teacher
from visio.models import Notice, NoticePreference, NoticeStatus, User, VideoSession
from visio.services import enrollments, mail, materials, outbox, reminders
from visio.services.errors import Conflict
from visio.services.mail import SmtpTransport
from visio.settings import settings

PUBLIC = "https://visio.example.org"
PRICE = 1500


@pytest.fixture(autouse=True)
def public_url(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(mail, "settings", replace(settings, public_url=PUBLIC))


@pytest.fixture
def teacher(db, clock):  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    teacher.locale, teacher.timezone = "en", "Asia/Tokyo"
    db.add(teacher)
    db.commit()
    return teacher


def deliver(db, clock, mailbox) -> outbox.Delivery:  # type: ignore[no-untyped-def]
    return outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=clock)


def written(db: Session, kind: str) -> list[Notice]:
    db.rollback()
    return list(db.exec(select(Notice).where(Notice.kind == kind).order_by(Notice.id)).all())


def parts(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def enroll(db, clock, session: VideoSession, student: User | None = None) -> User:  # type: ignore[no-untyped-def]
    student = student or make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    return student


def test_a_new_enrollment_tells_the_teacher_the_name_and_seats_never_the_email(
    db, clock, mailbox, teacher
):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=3)
    student = make_student(db, clock=clock, full_name="Léa Martin")
    enroll(db, clock, session, student)
    deliver(db, clock, mailbox)

    [message] = mailbox.to(teacher.email)
    assert message["Subject"] == f"New enrollment: {session.title}"
    text, html = parts(message)
    assert "Léa Martin enrolled" in text and "Léa Martin" in html
    assert "Seats taken: 1 of 3" in text
    assert "Wednesday 4 March 2026, 18:00" in text  # 09:00 UTC in Tokyo
    page = f"{PUBLIC}/teacher/video-sessions/{session.id}"
    assert page in text and f'href="{page}"' in html
    assert student.email not in message.as_string()
    assert session.link not in message.as_string()


def test_a_teacher_who_turned_new_enrollments_off_sees_them_in_the_app_only(
    db, clock, mailbox, teacher
):
    db.add(NoticePreference(user_id=teacher.id, kind="new_enrollment", email=False))
    db.commit()
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    enroll(db, clock, session)
    deliver(db, clock, mailbox)

    assert [n.status for n in written(db, "new_enrollment")] == [NoticeStatus.SKIPPED]
    assert mailbox.to(teacher.email) == []


def test_session_full_is_sent_once_when_the_last_seat_goes(db, clock, mailbox, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=2)
    enroll(db, clock, session)
    deliver(db, clock, mailbox)
    assert written(db, "session_full") == []
    enroll(db, clock, session)
    deliver(db, clock, mailbox)
    assert len(written(db, "session_full")) == 1
    with pytest.raises(Conflict):
        enroll(db, clock, session)
    deliver(db, clock, mailbox)

    fulls = [m for m in mailbox.to(teacher.email) if m["Subject"].startswith("Full:")]
    assert len(fulls) == 1
    text, _ = parts(fulls[0])
    assert "the session is full (2 seats)" in text
    assert f"{PUBLIC}/teacher/video-sessions/{session.id}" in text


ONE_SEAT = {
    "en": "The only seat of “One to one” has just been taken: the session is full.",
    "fr": "La seule place de «\u00a0One to one\u00a0» vient d'être prise : "
    "la session est complète.",
}


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_session_of_one_seat_is_said_full_in_the_singular(db, clock, mailbox, teacher, locale):
    teacher.locale = locale
    db.add(teacher)
    db.commit()
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, capacity=1, title="One to one"
    )
    enroll(db, clock, session)
    deliver(db, clock, mailbox)

    texts = [parts(m) for m in mailbox.to(teacher.email)]
    assert len(texts) == 2  # the new enrollment and the session full
    said = ONE_SEAT[locale]
    assert any(said in text and said.replace("'", "&#39;") in html for text, html in texts)
    assert not any("1 seats" in text or "1 places" in text for text, _ in texts)


def test_an_unlimited_session_is_never_full(db, clock, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    for _ in range(3):
        enroll(db, clock, session)
    assert written(db, "session_full") == []


def test_the_payout_released_mail_says_the_amount_paid_to_the_teacher(db, clock, mailbox, teacher):
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=PRICE
    )
    for _ in range(2):
        enroll(db, clock, session, make_funded_student(db, clock=clock, amount_cents=PRICE))
    free = make_session(db, teacher=teacher, clock=clock, publish=True)
    enroll(db, clock, free)
    clock.at = session.ends_at + timedelta(minutes=1)

    assert enrollments.release_escrow(db=db, clock=clock) == 2
    assert enrollments.release_escrow(db=db, clock=clock) == 0
    [payout] = written(db, "payout_released")  # none for the free session
    assert payout.data["amount_cents"] == 2 * PRICE
    deliver(db, clock, mailbox)

    [message] = [m for m in mailbox.to(teacher.email) if m["Subject"].startswith("Payment")]
    assert message["Subject"] == f"Payment released: {session.title}"
    text, html = parts(message)
    assert "Released to your wallet: €30.00" in text and "€30.00" in html
    assert "Paid seats: 2" in text
    assert session.link not in message.as_string()


def test_a_rolled_back_enroll_leaves_no_teacher_notice(db, clock, mailbox, teacher):
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=1)
    student = make_student(db, clock=clock)

    def fail_commit() -> None:
        raise RuntimeError("the database went away at commit")

    original = db.commit
    db.commit = fail_commit
    try:
        with pytest.raises(RuntimeError):
            enroll(db, clock, session, student)
    finally:
        db.commit = original

    db.rollback()
    assert db.exec(select(func.count()).select_from(Notice)).one() == 0
    assert deliver(db, clock, mailbox).claimed == 0
    assert mailbox.messages == []


def test_a_new_material_goes_to_the_enrolled_students_only_without_its_address(
    db, clock, mailbox, teacher
):
    session = make_session(db, teacher=teacher, clock=clock, publish=True)
    stays = enroll(db, clock, session)
    stays.locale = "fr"
    db.add(stays)
    db.commit()
    leaves = enroll(db, clock, session)
    enrollments.unenroll(db=db, actor=leaves, video_session_id=session.id, clock=clock)
    outsider = make_student(db, clock=clock)
    deliver(db, clock, mailbox)
    mailbox.messages.clear()

    url = "https://docs.example.org/slides-week-3"
    materials.add_link(
        db=db, actor=teacher, video_session_id=session.id, title="Slides week 3", url=url,
        clock=clock,
    )  # fmt: skip
    deliver(db, clock, mailbox)

    assert [n.user_id for n in written(db, "material_shared")] == [stays.id]
    [message] = mailbox.to(stays.email)
    assert message["Subject"] == f"Nouveau support : {session.title}"
    text, html = parts(message)
    assert "Slides week 3" in text and "Slides week 3" in html
    assert f"{PUBLIC}/sessions/{session.id}" in text
    assert url not in message.as_string() and session.link not in message.as_string()
    assert mailbox.to(leaves.email) == [] and mailbox.to(outsider.email) == []


def test_the_daily_digest_groups_yesterdays_enrollments_by_session_once(
    db, clock, mailbox, teacher
):
    db.add(NoticePreference(user_id=teacher.id, kind="enrollment_digest", email=True))
    db.commit()
    quiet = make_teacher(db, clock=clock)  # never asked for one
    first = make_session(db, teacher=teacher, clock=clock, publish=True, title="Algebra one")
    second = make_session(db, teacher=teacher, clock=clock, publish=True, title="Geometry two")
    other = make_session(db, teacher=quiet, clock=clock, publish=True)
    enroll(db, clock, first, make_student(db, clock=clock, full_name="Ana Ruiz"))
    enroll(db, clock, first, make_student(db, clock=clock, full_name="Ben Okafor"))
    enroll(db, clock, second, make_student(db, clock=clock, full_name="Chloé Petit"))
    enroll(db, clock, other)
    # 2026-03-02 09:00 UTC is 18:00 in Tokyo: the teacher's day ends at 15:00 UTC.
    assert reminders.schedule_due(db, clock=clock, offsets=()) == 0  # today is not over

    clock.advance(hours=6)
    assert reminders.schedule_due(db, clock=clock, offsets=()) == 1
    assert reminders.schedule_due(db, clock=clock, offsets=()) == 0
    clock.advance(days=1)
    assert reminders.schedule_due(db, clock=clock, offsets=()) == 0  # nobody enrolled that day
    [digest] = written(db, "enrollment_digest")
    assert digest.user_id == teacher.id
    deliver(db, clock, mailbox)

    [message] = [m for m in mailbox.to(teacher.email) if "enrollments" in m["Subject"]]
    assert message["Subject"] == "Your enrollments of the day"
    text, html = parts(message)
    assert "Algebra one" in text and "Geometry two" in text
    assert "Ana Ruiz, Ben Okafor" in text and "Chloé Petit" in html
    assert "2 new" in text and "1 new" in text
    assert f"{PUBLIC}/teacher/video-sessions/{first.id}" in text
    assert "@" not in text.split("--")[0]  # no student's email
    assert mailbox.to(quiet.email) and not [
        m for m in mailbox.to(quiet.email) if "enrollments" in m["Subject"]
    ]
