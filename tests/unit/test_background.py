"""The app's own periodic work, on a real database."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.factories import make_student
from visio.api import idempotency
from visio.models import IdempotencyKey


def test_prune_forgets_keys_older_than_a_day_and_keeps_recent_ones(db, clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=clock)
    old = IdempotencyKey(
        user_id=student.id,
        key="old",
        scope="enroll:1",
        fingerprint="a",
        created_at=clock() - timedelta(hours=25),
    )
    stuck = IdempotencyKey(
        user_id=student.id,
        key="stuck",
        scope="enroll:2",
        fingerprint="b",
        created_at=clock() - timedelta(days=3),
    )  # pending after a crash
    fresh = IdempotencyKey(
        user_id=student.id,
        key="fresh",
        scope="enroll:3",
        fingerprint="c",
        created_at=clock() - timedelta(hours=1),
    )
    db.add_all([old, stuck, fresh])
    db.commit()

    removed = idempotency.prune(db, before=clock() - idempotency.KEEP_FOR)

    assert removed == 2
    assert [k.key for k in db.exec(select(IdempotencyKey)).all()] == ["fresh"]
