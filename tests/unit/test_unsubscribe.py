"""One-click unsubscribe tokens: signed per (user, kind) under the user's own key; a tampered
token, or one moved to another user or kind, is refused; using one turns the kind off, twice."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.factories import make_student, make_teacher
from visio.models import Notice, NoticeStatus, User
from visio.services import notice_preferences, outbox, unsubscribe
from visio.services.errors import NotFound


def test_the_key_is_made_once_and_kept(db, clock) -> None:
    student = make_student(db, clock=clock)
    assert student.unsubscribe_key is None

    first = unsubscribe.signing_key(db, user_id=student.id)
    second = unsubscribe.signing_key(db, user_id=student.id)

    assert first == second and len(first) == 64
    assert db.exec(select(User.unsubscribe_key).where(User.id == student.id)).one() == first


def test_a_key_made_by_another_worker_first_is_the_one_used(db, clock, engine) -> None:
    from sqlalchemy import update
    from sqlmodel import Session

    student = make_student(db, clock=clock)
    with Session(engine) as other:
        other.execute(update(User).where(User.id == student.id).values(unsubscribe_key="ab" * 32))
        other.commit()

    assert unsubscribe.signing_key(db, user_id=student.id) == "ab" * 32


def test_a_token_unsubscribes_its_user_from_its_kind_and_twice_is_harmless(db, clock) -> None:
    student = make_student(db, clock=clock)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")

    assert unsubscribe.check(db, token=token) == unsubscribe.Target(student.id, "session_moved")
    unsubscribe.unsubscribe(db=db, token=token, clock=clock)
    unsubscribe.unsubscribe(db=db, token=token, clock=clock)

    assert not notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
    assert notice_preferences.wants_email(db, user_id=student.id, kind="enrollment_confirmed")
    notice = outbox.enqueue(db, kind="session_moved", user=student, data={}, at=clock())
    assert notice.status == NoticeStatus.SKIPPED


def test_no_token_for_a_kind_that_cannot_be_turned_off(db, clock) -> None:
    student = make_student(db, clock=clock)

    assert unsubscribe.token_for(db, user_id=student.id, kind="session_cancelled") is None
    assert unsubscribe.token_for(db, user_id=student.id, kind="password_reset") is None


def _tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def test_forged_tokens_are_refused(db, clock) -> None:
    student, other = make_student(db, clock=clock), make_student(db, clock=clock)
    teacher = make_teacher(db, clock=clock)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")
    unsubscribe.token_for(db, user_id=other.id, kind="session_moved")  # other has a key too
    unsubscribe.token_for(db, user_id=teacher.id, kind="session_moved")
    _, kind, signature = token.split(".")

    forged = [
        _tampered(token),
        f"{other.id}.{kind}.{signature}",  # another user
        f"{student.id}.enrollment_confirmed.{signature}",  # another kind
        f"{student.id}.session_cancelled.{signature}",  # a mandatory kind
        f"{teacher.id}.{kind}.{signature}",
        f"999999.{kind}.{signature}",
        f"99999999999999.{kind}.{signature}",
        "",
        "nonsense",
        "1.2.3.4",
        token + "x" * 300,
        f"{student.id}.{kind}.{signature}é",
    ]
    for bad in forged:
        with pytest.raises(NotFound) as refused:
            unsubscribe.unsubscribe(db=db, token=bad, clock=clock)
        assert refused.value.code == "unsubscribe_link_invalid", bad

    assert notice_preferences.wants_email(db, user_id=student.id, kind="session_moved")
    assert notice_preferences.wants_email(db, user_id=other.id, kind="session_moved")
    assert db.exec(select(Notice)).all() == []


def test_a_token_of_a_user_without_a_key_is_refused_and_makes_none(db, clock) -> None:
    student = make_student(db, clock=clock)

    with pytest.raises(NotFound):
        unsubscribe.check(db, token=f"{student.id}.session_moved.abc")

    assert db.get(User, student.id).unsubscribe_key is None


def test_two_workers_making_the_key_at_once_agree(db, clock, engine) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from sqlmodel import Session

    student = make_student(db, clock=clock)
    start = Barrier(4)

    def make_key() -> str | None:
        with Session(engine) as own:
            start.wait()
            return unsubscribe.signing_key(own, user_id=student.id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(lambda _: make_key(), range(4)))

    db.rollback()
    stored = db.exec(select(User.unsubscribe_key).where(User.id == student.id)).one()
    assert keys == [stored] * 4
