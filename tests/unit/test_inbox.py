"""The in-app list of notices: the user's own, in-app kinds only, newest first, one page at a
time, worded in the viewer's language; counts; marking read, never someone else's rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from tests.factories import make_funded_student, make_session, make_student, make_teacher
from tests.statements import recorded, sqlite_plan
from visio.models import Notice, NoticePreference, NoticeStatus, User
from visio.services import enrollments, inbox, mail, outbox, sessions
from visio.services.errors import InvalidInput, NotAuthenticated


def notify(db: Session, user: User, clock, kind: str = "unenrolled", **data: Any) -> Notice:  # type: ignore[no-untyped-def]
    values = {
        "session_id": 7,
        "title": "Algebra",
        "starts_at": "2026-03-10T09:00:00+00:00",
        "tz": "Europe/Paris",
        "currency": "EUR",
        **data,
    }
    notice = outbox.enqueue(db, kind=kind, user=user, data=values, at=clock())
    db.commit()
    return notice


@pytest.fixture
def student(db, clock) -> User:  # type: ignore[no-untyped-def]
    user = make_student(db, clock=clock)
    user.locale, user.timezone = "en", "Europe/Paris"
    db.add(user)
    db.commit()
    return user


def test_the_page_lists_newest_first_and_pages_through_in_order(db, clock, student) -> None:
    made = []
    for n in range(7):
        made.append(notify(db, student, clock, title=f"T{n}"))
        clock.advance(minutes=1)
    first = inbox.inbox_page(db=db, actor=student, page=1, page_size=3)
    second = inbox.inbox_page(db=db, actor=student, page=2, page_size=3)
    third = inbox.inbox_page(db=db, actor=student, page=3, page_size=3)
    ids = [i.id for p in (first, second, third) for i in p.items]
    assert ids == [n.id for n in reversed(made)]
    assert (first.total, first.pages, len(third.items)) == (7, 3, 1)
    assert inbox.inbox_page(db=db, actor=student, page=4, page_size=3).items == []


def test_notices_written_at_the_same_instant_keep_a_stable_order(db, clock, student) -> None:
    made = [notify(db, student, clock, title=f"T{n}") for n in range(4)]
    pages = [inbox.inbox_page(db=db, actor=student, page=p, page_size=2) for p in (1, 2)]
    assert [i.id for p in pages for i in p.items] == [n.id for n in reversed(made)]


def test_only_in_app_kinds_are_listed_and_counted(db, clock, student) -> None:
    assert not mail.KINDS["password_reset"].in_app
    notify(db, student, clock, kind="password_reset", token="secret-token")
    listed = notify(db, student, clock)
    found = inbox.inbox_page(db=db, actor=student)
    assert [i.id for i in found.items] == [listed.id]
    assert (found.total, found.unread) == (1, 1)
    assert inbox.unread_count(db, student.id) == 1


def test_a_kind_whose_mail_was_turned_off_is_still_listed(db, clock, student) -> None:
    db.add(NoticePreference(user_id=student.id, kind="enrollment_confirmed", email=False))
    db.commit()
    skipped = notify(db, student, clock, kind="enrollment_confirmed", paid_cents=0)
    assert skipped.status == NoticeStatus.SKIPPED
    assert [i.id for i in inbox.inbox_page(db=db, actor=student).items] == [skipped.id]
    assert inbox.unread_count(db, student.id) == 1


def test_another_users_notices_are_never_listed_nor_counted(db, clock, student) -> None:
    other = make_student(db, clock=clock)
    notify(db, other, clock)
    assert inbox.inbox_page(db=db, actor=student).items == []
    assert inbox.unread_count(db, student.id) == 0


def test_marking_read_counts_down_and_marks_only_the_given_ids(db, clock, student) -> None:
    a, b, c = (notify(db, student, clock) for _ in range(3))
    assert inbox.mark_read(db=db, actor=student, ids=[a.id, b.id], clock=clock) == 1
    items = {i.id: i.read for i in inbox.inbox_page(db=db, actor=student).items}
    assert items == {a.id: True, b.id: True, c.id: False}
    assert inbox.mark_read(db=db, actor=student, ids=[a.id], clock=clock) == 1  # again: no-op


def test_marking_another_users_ids_changes_nothing(db, clock, student) -> None:
    victim = make_student(db, clock=clock)
    theirs = notify(db, victim, clock)
    mine = notify(db, student, clock)
    assert inbox.mark_read(db=db, actor=student, ids=[theirs.id, 999_999], clock=clock) == 1
    assert inbox.mark_all_read(db=db, actor=student, clock=clock) == 0
    db.expire_all()
    assert db.get(Notice, theirs.id).read_at is None
    assert db.get(Notice, mine.id).read_at == clock()
    assert inbox.unread_count(db, victim.id) == 1


def test_mark_all_read_clears_the_count(db, clock, student) -> None:
    for _ in range(3):
        notify(db, student, clock)
    assert inbox.unread_count(db, student.id) == 3
    assert inbox.mark_all_read(db=db, actor=student, clock=clock) == 0
    assert all(i.read for i in inbox.inbox_page(db=db, actor=student).items)


def test_too_many_ids_at_once_are_refused_and_nobody_is_needed(db, clock, student) -> None:
    with pytest.raises(InvalidInput) as refused:
        inbox.mark_read(db=db, actor=student, ids=range(inbox.MAX_IDS + 1), clock=clock)
    assert refused.value.code == "too_many_ids"
    with pytest.raises(NotAuthenticated):
        inbox.inbox_page(db=db, actor=None)


def test_items_are_worded_in_the_viewers_language_and_zone(db, clock, student) -> None:
    notify(
        db,
        student,
        clock,
        kind="session_cancelled",
        reason="Teacher ill",
        refunded_cents=1500,
    )
    en = inbox.inbox_page(db=db, actor=student, lang="en").items[0]
    fr = inbox.inbox_page(db=db, actor=student, lang="fr", tz="America/New_York").items[0]
    assert en.title == "Cancelled: Algebra"
    assert en.detail == "Reason: Teacher ill · €15.00 refunded to your wallet"
    assert en.path == "/sessions/7"
    assert fr.title == "Annulée : Algebra"
    assert "15,00" in fr.detail and "Teacher ill" in fr.detail


def test_a_move_shows_the_new_and_old_time_in_the_viewers_zone(db, clock, student) -> None:
    notify(
        db,
        student,
        clock,
        kind="session_moved",
        starts_at="2026-03-10T09:00:00+00:00",
        old_starts_at="2026-03-09T09:00:00+00:00",
    )
    item = inbox.inbox_page(db=db, actor=student, lang="en", tz="Europe/Paris").items[0]
    assert item.detail == "Now Tuesday 10 March 2026, 10:00 (was Monday 9 March 2026, 10:00)"


def test_a_kind_without_its_own_wording_falls_back_to_its_subject(
    db, clock, student, monkeypatch
) -> None:
    kinds = {**mail.KINDS, "brand_new": mail.MailKind(subject_key="nope", template="x")}
    monkeypatch.setattr(mail, "KINDS", kinds)
    notify(db, student, clock, kind="brand_new", starts_at="not a date")
    item = inbox.inbox_page(db=db, actor=student, lang="en").items[0]
    assert (item.kind, item.title, item.detail) == ("brand_new", "nope", "")


def test_teachers_kinds_lead_to_the_teachers_page_and_sessionless_ones_nowhere(
    db, clock, monkeypatch
) -> None:
    teacher = make_teacher(db, clock=clock)
    kinds = {
        **mail.KINDS,
        "for_teachers": mail.MailKind(subject_key="x", template="x", audience="teacher"),
    }
    monkeypatch.setattr(mail, "KINDS", kinds)
    notify(db, teacher, clock, kind="for_teachers", session_id=42)
    notify(db, teacher, clock, kind="for_teachers", session_id=None)
    paths = [i.path for i in inbox.inbox_page(db=db, actor=teacher).items]
    assert paths == [None, "/teacher/video-sessions/42"]  # newest first


def test_an_enrollment_and_a_cancellation_reach_the_students_list(db, clock) -> None:
    teacher = make_teacher(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=5000)
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1200
    )
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.advance(minutes=5)
    sessions.cancel_session(
        db=db, actor=teacher, video_session_id=session.id, reason="Sick", clock=clock
    )
    found = inbox.inbox_page(db=db, actor=student, lang="en")
    assert [i.kind for i in found.items] == ["session_cancelled", "enrollment_confirmed"]
    assert all(i.path == f"/sessions/{session.id}" for i in found.items)
    assert "€12.00" in found.items[0].detail and "Sick" in found.items[0].detail
    assert found.unread == 2


def test_a_teachers_list_names_the_student_the_seats_and_the_full_session(
    db, clock, tmp_path
) -> None:
    teacher = make_teacher(db, clock=clock)
    teacher.locale = "en"
    db.add(teacher)
    db.commit()
    student = make_student(db, clock=clock, full_name="Léa Dubois")
    session = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=1)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    assert inbox.inbox_page(db=db, actor=teacher).items == []  # written by the sender's pass
    transport = mail.FileTransport(tmp_path)
    outbox.deliver_due(db=db, transport=transport, clock=clock)

    found = inbox.inbox_page(db=db, actor=teacher, lang="en")

    by_kind = {i.kind: i for i in found.items}
    assert by_kind["new_enrollment"].detail == "Léa Dubois · 1 of 1 seats taken"
    assert by_kind["session_full"].detail == "The only seat is taken"
    assert by_kind["new_enrollment"].path == f"/teacher/video-sessions/{session.id}"
    assert student.email not in " ".join(i.title + i.detail for i in found.items)
    unlimited = make_session(db, teacher=teacher, clock=clock, publish=True, capacity=None)
    enrollments.enroll(db=db, actor=student, video_session_id=unlimited.id, clock=clock)
    outbox.deliver_due(db=db, transport=transport, clock=clock)
    newest = inbox.inbox_page(db=db, actor=teacher, lang="fr").items[0]
    assert newest.detail == "Léa Dubois · 1 inscrit(s)"


def test_the_list_and_the_counts_read_the_inbox_index_without_sorting(db, clock, student) -> None:
    with recorded(db) as sent:
        inbox.inbox_page(db=db, actor=student, page=2, page_size=5)
        inbox.unread_count(db, student.id)
    statements = [
        s for s in sent if s.sql.lstrip().upper().startswith("SELECT") and "notices" in s.sql
    ]
    assert len(statements) == 3  # the counts of the page (one query), its rows, the bell's count
    for statement, parameters in statements:
        plan = " ".join(sqlite_plan(db, statement, parameters))
        assert "USING INDEX ix_notices_inbox" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
