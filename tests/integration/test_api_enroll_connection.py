"""A paid enrollment over the API without an Idempotency-Key holds one pooled connection: the
caller is read in the claim's own transaction (its commit keeps the driver's prepared
statements, where a separate read session cost a checkout of its own). With a key the caller
is read apart (the key's own transactions roll the request's session back), with the same
answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_funded_student, make_session, make_teacher
from visio import db as visio_db
from visio.api import create_api
from visio.clock import FrozenClock, utcnow
from visio.services import accounts

PRICE = 1500


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served_engine(request) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The test's database, made the app's own for the in-process API."""
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")
    visio_db.bind_engine(engine)
    yield engine
    visio_db.bind_engine(None)


def _post(path: str, headers: dict[str, str]) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://visio.test") as client:
            return await client.post(path, headers=headers)

    with ThreadPoolExecutor(max_workers=1) as pool:  # a loop of its own (Playwright may hold one)
        return pool.submit(asyncio.run, call()).result()


def _enroll(engine: Engine, *, key: str | None) -> tuple[httpx.Response, int]:
    """A student pays a seat over the API: the answer, and the pool checkouts it took."""
    clock = FrozenClock(utcnow())
    with Session(engine, expire_on_commit=False) as db:
        teacher = make_teacher(db, clock=clock)
        session = make_session(
            db,
            teacher=teacher,
            clock=clock,
            publish=True,
            is_paid=True,
            price_cents=PRICE,
            starts_at=clock() + timedelta(days=3),
        )
        student = make_funded_student(db, clock=clock, amount_cents=5_000)
        token = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
        session_id = session.id
    headers = {"Authorization": f"Bearer {token.token}"} | ({"Idempotency-Key": key} if key else {})
    checkouts = []

    def count(*_: object) -> None:
        checkouts.append(1)

    event.listen(engine, "checkout", count)
    try:
        answer = _post(f"/api/sessions/{session_id}/enroll", headers)
    finally:
        event.remove(engine, "checkout", count)
    return answer, len(checkouts)


def test_without_a_key_the_caller_and_the_claim_share_one_connection(served_engine) -> None:  # type: ignore[no-untyped-def]
    answer, checkouts = _enroll(served_engine, key=None)

    assert answer.status_code == 201, answer.text
    assert (answer.json()["paid_cents"], answer.json()["wallet_balance_cents"]) == (
        PRICE,
        5_000 - PRICE,
    )
    assert checkouts == 1


def test_with_a_key_the_caller_is_read_apart_and_the_answer_is_the_same(served_engine) -> None:  # type: ignore[no-untyped-def]
    answer, checkouts = _enroll(served_engine, key="pay-once-1")

    assert answer.status_code == 201, answer.text
    assert (answer.json()["paid_cents"], answer.json()["wallet_balance_cents"]) == (
        PRICE,
        5_000 - PRICE,
    )
    # The caller's read; then the key's pending row, the claim and the stored answer, each a
    # transaction of its own (each commit gives the connection back).
    assert checkouts == 4
