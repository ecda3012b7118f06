"""Enrolling in a whole series is told in one summary mail (not one per occurrence), through a
real SMTP server: the student's language and zone, every date, the total paid, the balance, the
series' page, never a meeting link; the teacher still hears of each new seat."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from tests.factories import make_funded_student, make_teacher, session_input
from tests.integration.test_student_notices import PUBLIC, deliver, notices, parts, student_in
from visio.models import Notice, NoticeStatus
from visio.services import mail, notice_preferences, series
from visio.settings import settings


@pytest.fixture(autouse=True)
def public_url(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(mail, "settings", replace(settings, public_url=PUBLIC))


def _series(db, clock, teacher, count: int = 3):  # type: ignore[no-untyped-def]
    return series.create_series(
        db=db,
        actor=teacher,
        data=session_input(clock, is_paid=True, price_cents=1_000),
        repeat=series.Repeat(every_days=7, count=count),
        publish=True,
        clock=clock,
    )


def test_a_series_enroll_is_one_summary_mail_in_the_students_language(db, clock, mailbox):  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    made = _series(db, clock, teacher)
    student = student_in(db, clock, locale="fr", tz="America/New_York", amount=5_000)

    series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    deliver(db, clock, mailbox)

    [message] = mailbox.to(student.email)
    title = made.occurrences[0].title
    assert message["Subject"] == f"Inscription à la série confirmée : {title}"
    assert message["Content-Language"] == "fr"
    assert list(message.iter_attachments()) == []  # no .ics for a summary
    text, html = parts(message)
    assert "3 séances" in text
    # 10:00 Paris on Wednesday 4 March 2026 is 04:00 in New York, then weekly.
    for day in ("mercredi 4 mars 2026 à 04:00", "mercredi 11 mars 2026", "mercredi 18 mars 2026"):
        assert day in text and day in html
    assert "30,00" in text and "20,00" in text  # paid in all, the balance left
    page = f"{PUBLIC}/series/{made.series.id}"
    assert page in text and f'href="{page}"' in html
    for part in message.walk():
        if not part.is_multipart():
            body = part.get_content()
            for occurrence in made.occurrences:
                assert occurrence.link not in body
    assert len(mailbox.to(teacher.email)) == 3  # one new enrollment per occurrence
    assert notices(db, user_id=student.id, kind="enrollment_confirmed") == 0


def test_the_summary_is_optional_and_listed_in_the_app(db, clock, mailbox):  # type: ignore[no-untyped-def]
    from visio.services import inbox

    made = _series(db, clock, make_teacher(db, clock=clock), count=2)
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    notice_preferences.set_email_choice(db=db, actor=student, kind="series_enrolled", email=False)

    series.enroll_series(db=db, actor=student, series_id=made.series.id, clock=clock)
    deliver(db, clock, mailbox)

    assert mailbox.to(student.email) == []
    db.rollback()
    [row] = db.exec(select(Notice).where(Notice.user_id == student.id)).all()
    assert (row.kind, row.status) == ("series_enrolled", NoticeStatus.SKIPPED)
    [item] = inbox.inbox_page(db=db, actor=student, lang="en").items
    assert item.path == f"/series/{made.series.id}"
    assert item.detail == "2 sessions · Paid €20.00"
