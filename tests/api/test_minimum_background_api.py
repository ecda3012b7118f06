"""The running app decides minimums by itself: a session whose decision time has passed without
enough students is cancelled once by the app's own background work (two workers in the scale-out
pass), and its paid student refunded once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import select, update

from tests.factories import balances
from visio.models import EntryKind, LedgerEntry, Notice, StoredStatus, VideoSession, Wallet

PRICE = 1_200
WAIT_SECONDS = 90  # the pass runs every minute in each worker


def test_the_app_cancels_a_session_below_its_minimum_once_and_refunds_once(
    http, make, server_db
) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher, is_paid=True, price_cents=PRICE, min_participants=3)
    student = make.student(funds_cents=5_000)
    make.enroll(student, session)
    assert balances(server_db, student.user)[student.user.email] == 5_000 - PRICE
    # The decision time passes (the services refuse a past one: set it in the database).
    server_db.exec(
        update(VideoSession)
        .where(VideoSession.id == session.id)
        .values(decide_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    server_db.commit()

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        server_db.rollback()
        server_db.expire_all()
        stored = server_db.get(VideoSession, session.id)
        if stored.status == StoredStatus.CANCELLED or time.monotonic() > deadline:
            break
        time.sleep(1)

    assert stored.status == StoredStatus.CANCELLED, "the app did not decide within 90 s"
    assert stored.decided_at is not None and stored.cancel_reason
    time.sleep(2)  # give a second worker's pass the chance to (wrongly) act again
    server_db.rollback()
    refunds = Counter(
        server_db.exec(
            select(Wallet.user_id)
            .join(LedgerEntry, LedgerEntry.wallet_id == Wallet.id)
            .where(LedgerEntry.session_id == session.id, LedgerEntry.kind == EntryKind.REFUND)
        ).all()
    )
    assert refunds == Counter({student.id: 1})
    assert balances(server_db, student.user)[student.user.email] == 5_000
    kinds = Counter(
        (n.kind, n.user_id)
        for n in server_db.exec(
            select(Notice).where(
                Notice.kind.in_(["session_cancelled", "minimum_cancelled"]),  # type: ignore[attr-defined]
                Notice.user_id.in_([student.id, teacher.id]),  # type: ignore[attr-defined]
            )
        ).all()
        if n.data.get("session_id") == session.id
    )
    assert kinds == {("session_cancelled", student.id): 1, ("minimum_cancelled", teacher.id): 1}
