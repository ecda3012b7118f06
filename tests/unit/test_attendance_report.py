"""The teacher's attendance report: every enrolled student, minutes, share, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import Session

from tests.factories import make_session, make_student, make_teacher
from visio.clock import FrozenClock
from visio.services import attendance, enrollments
from visio.services.attendance_report import attendance_csv, attendance_report
from visio.services.errors import Forbidden


@pytest.fixture
def held(db: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """A finished one-hour session: Ana attended 45 min, Bob 90 s, Chloé never came, Dan left."""
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + timedelta(days=1)
    )
    names = ("Ana Martin", "Bob Durand", "Chloé Petit", "Dan Leroy")
    ana, bob, chloe, dan = (make_student(db, clock=clock, full_name=n) for n in names)
    for student in (ana, bob, chloe, dan):
        enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    enrollments.unenroll(db=db, actor=dan, video_session_id=session.id, clock=clock)

    def attend(student, minutes_after_start: int, seconds: int) -> None:  # type: ignore[no-untyped-def]
        clock.at = session.starts_at + timedelta(minutes=minutes_after_start)
        attendance.join(db=db, actor=student, video_session_id=session.id, clock=clock)
        for _ in range(seconds // 30):
            clock.advance(seconds=30)
            attendance.heartbeat(db=db, actor=student, video_session_id=session.id, clock=clock)

    attend(ana, 5, 45 * 60)
    attend(bob, 2, 90)
    clock.at = session.ends_at + timedelta(hours=1)
    return session, teacher, (ana, bob, chloe, dan)


def test_every_active_student_is_listed_joined_first_then_the_absent(db, clock, held) -> None:  # type: ignore[no-untyped-def]
    session, teacher, (ana, bob, chloe, _) = held

    report = attendance_report(db=db, actor=teacher, video_session_id=session.id)

    assert (report.total, report.joined, report.measured) == (3, 2, True)
    lines = [(x.full_name, x.joined, x.minutes, x.share_percent) for x in report.lines]
    assert lines == [
        ("Bob Durand", True, 2, 2),  # 90 s: rounded to the nearest minute, 2.5 % -> 2 %
        ("Ana Martin", True, 45, 75),
        ("Chloé Petit", False, 0, 0),
    ]
    bob_line = report.lines[0]
    assert bob_line.first_joined_at == session.starts_at + timedelta(minutes=2)
    assert bob_line.join_count == 1
    assert report.lines[2].first_joined_at is None


def test_only_the_owner_gets_the_report(db, clock, held) -> None:  # type: ignore[no-untyped-def]
    session, _, (ana, *_) = held
    with pytest.raises(Forbidden) as other:
        attendance_report(db=db, actor=make_teacher(db, clock=clock), video_session_id=session.id)
    assert other.value.code == "not_owner"
    with pytest.raises(Forbidden) as student:
        attendance_csv(db=db, actor=ana, video_session_id=session.id, lang="en", tz="UTC")
    assert student.value.code == "wrong_role"


def _rows(content: bytes, delimiter: str) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def test_the_csv_in_french_uses_semicolons_french_headers_and_paris_time(db, clock, held) -> None:  # type: ignore[no-untyped-def]
    session, teacher, _ = held

    exported = attendance_csv(
        db=db, actor=teacher, video_session_id=session.id, lang="fr", tz="Europe/Paris"
    )

    assert exported.filename == f"presences-session-{session.id}.csv"
    header, *rows = _rows(exported.content, ";")
    assert header == [
        "Étudiant",
        "E-mail",
        "Présence",
        "Première connexion (Europe/Paris)",
        "Dernière activité (Europe/Paris)",
        "Connexions",
        "Minutes de présence",
        "Part de la session (%)",
    ]
    bob_first = (session.starts_at + timedelta(minutes=2, hours=1)).strftime("%Y-%m-%d %H:%M")
    assert rows[0][0] == "Bob Durand" and rows[0][2:4] == ["Présent", bob_first]
    assert rows[0][5:] == ["1", "2", "2"]
    assert rows[1][0] == "Ana Martin" and rows[1][5:] == ["1", "45", "75"]
    assert rows[2][0] == "Chloé Petit"
    assert rows[2][2:] == ["Absent", "", "", "0", "0", "0"]
    assert len(rows) == 3


def test_the_csv_in_english_uses_commas_and_the_viewer_zone(db, clock, held) -> None:  # type: ignore[no-untyped-def]
    session, teacher, _ = held
    exported = attendance_csv(
        db=db, actor=teacher, video_session_id=session.id, lang="en", tz="America/New_York"
    )
    assert exported.filename == f"attendance-session-{session.id}.csv"
    header, first, *_ = _rows(exported.content, ",")
    assert header[:4] == ["Student", "Email", "Attendance", "First joined (America/New_York)"]
    new_york = (session.starts_at + timedelta(minutes=2, hours=-5)).strftime("%Y-%m-%d %H:%M")
    assert first[2:4] == ["Joined", new_york]


def test_a_name_that_looks_like_a_formula_is_not_run_by_the_spreadsheet(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + timedelta(days=1)
    )
    sly = make_student(db, clock=clock, full_name="=HYPERLINK(1)")
    enrollments.enroll(db=db, actor=sly, video_session_id=session.id, clock=clock)
    exported = attendance_csv(
        db=db, actor=teacher, video_session_id=session.id, lang="en", tz="UTC"
    )
    assert _rows(exported.content, ",")[1][0] == "'=HYPERLINK(1)"


def test_a_teams_session_reports_joins_but_no_time(db, clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=clock)
    session = make_session(
        db,
        teacher=teacher,
        clock=clock,
        publish=True,
        starts_at=clock() + timedelta(days=1),
        platform="teams",
        link="https://teams.microsoft.com/l/meetup-join/abc",
    )
    student = make_student(db, clock=clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.at = session.starts_at
    attendance.join(db=db, actor=student, video_session_id=session.id, clock=clock)

    report = attendance_report(db=db, actor=teacher, video_session_id=session.id)
    assert report.measured is False and report.joined == 1
    exported = attendance_csv(
        db=db, actor=teacher, video_session_id=session.id, lang="en", tz="UTC"
    )
    assert _rows(exported.content, ",")[1][5:] == ["1", "", ""]


def test_the_page_shows_a_limited_number_of_lines_the_counts_stay_whole(db, clock, held) -> None:  # type: ignore[no-untyped-def]
    session, teacher, _ = held
    report = attendance_report(db=db, actor=teacher, video_session_id=session.id, limit=1)
    assert (len(report.lines), report.total, report.joined) == (1, 3, 2)
