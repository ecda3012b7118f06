"""Many students enroll at once, over real HTTP, into a session with a few seats: exactly that
many get one, the others are told it is full, and no money is made or lost."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import func
from sqlmodel import select

from tests.factories import balances
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import Purchase, PurchaseStatus, VideoSession

STUDENTS = 30
SEATS = 5
PRICE = 800


def test_thirty_students_race_for_five_paid_seats(served, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), is_paid=True, price_cents=PRICE, capacity=SEATS)
    students = [make.student(funds_cents=1000) for _ in range(STUDENTS)]
    users = [s.user for s in students]
    before = balances(server_db, *users)
    # Read before the threads start: they must not touch the ORM objects.
    url, headers = f"/api/sessions/{session.id}/enroll", [s.headers for s in students]
    barrier = threading.Barrier(STUDENTS)
    answers: dict[int, httpx.Response] = {}

    def enroll(index: int) -> None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            barrier.wait()
            answers[index] = client.post(url, headers=headers[index])

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    outcomes = Counter(
        (r.status_code, r.json().get("code") if r.status_code != 201 else None)
        for r in answers.values()
    )
    assert outcomes == {(201, None): SEATS, (409, "session_full"): STUDENTS - SEATS}, outcomes

    after = balances(server_db, *users)
    winners = {students[i].user.email for i, r in answers.items() if r.status_code == 201}
    for user in users:
        paid = PRICE if user.email in winners else 0
        assert after[user.email] == before[user.email] - paid, user.email
    # Balances add up: what the winners paid is exactly what this session holds in escrow (the
    # escrow wallet is shared with other tests' sessions, so its own balance is not compared);
    # across all wallets, money only ever comes from top-ups.
    spent = sum(before[u.email] - after[u.email] for u in users)
    server_db.rollback()
    held = server_db.exec(
        select(func.coalesce(func.sum(Purchase.amount_cents), 0)).where(
            Purchase.session_id == session.id, Purchase.status == PurchaseStatus.HELD
        )
    ).one()
    assert spent == held == SEATS * PRICE
    assert_ledger_invariants(server_db)
    assert_seat_invariants(server_db)
    assert server_db.get(VideoSession, session.id).enrolled_count == SEATS
