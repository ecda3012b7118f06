"""Idempotency-Key on enroll and top-up: a retry gets the first answer and is charged once,
even when the retries arrive together."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import func
from sqlmodel import select

from tests.api.conftest import Person, assert_error
from tests.factories import balances
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.models import EntryKind, LedgerEntry, Purchase, Wallet


def _key() -> str:
    return f"key-{uuid.uuid4()}"


def _together(count: int, send: Callable[[httpx.Client], httpx.Response], url: str) -> list:  # type: ignore[type-arg]
    """`count` requests sent at the same moment, each on its own connection."""
    barrier = threading.Barrier(count)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def one() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait()
            try:
                response: httpx.Response | Exception = send(client)
            except Exception as error:  # reported below, with the answers
                response = error
        with lock:
            results.append(response)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(results) == count
    assert all(isinstance(r, httpx.Response) for r in results), results
    return results


def _purchases(db, student: Person) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    return db.exec(
        select(func.count()).select_from(Purchase).where(Purchase.student_id == student.id)
    ).one()


def _topups(db, person: Person) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    return db.exec(
        select(func.count())
        .select_from(LedgerEntry)
        .join(Wallet, Wallet.id == LedgerEntry.wallet_id)
        .where(Wallet.user_id == person.id, LedgerEntry.kind == EntryKind.TOPUP)
    ).one()


def test_a_retried_enroll_returns_the_first_answer_and_charges_once(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), is_paid=True, price_cents=600)
    student = make.student(funds_cents=1000)
    headers = {**student.headers, "Idempotency-Key": _key()}
    url = f"/api/sessions/{session.id}/enroll"

    first = http.post(url, headers=headers)
    retry = http.post(url, headers=headers)

    assert first.status_code == retry.status_code == 201, first.text
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert balances(server_db, student.user)[student.user.email] == 400
    assert _purchases(server_db, student) == 1
    # Without the key, the same request is a new one: refused, the seat is already taken.
    assert_error(http.post(url, headers=student.headers), 409, "already_enrolled")


def test_a_refusal_is_not_replayed_once_its_cause_has_passed(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), is_paid=True, price_cents=600)
    student = make.student(funds_cents=100)
    headers = {**student.headers, "Idempotency-Key": _key()}
    url = f"/api/sessions/{session.id}/enroll"

    first = http.post(url, headers=headers)
    again = http.post(url, headers=headers)
    assert_error(first, 402, "insufficient_funds")
    assert_error(again, 402, "insufficient_funds")  # still short: refused again, not replayed
    assert "idempotent-replayed" not in again.headers

    http.post("/api/wallet/topup", headers=student.headers, json={"amount_cents": 1000})
    retry = http.post(url, headers=headers)
    replay = http.post(url, headers=headers)

    assert retry.status_code == 201, retry.text
    assert (replay.status_code, replay.json()) == (201, retry.json())
    assert replay.headers["idempotent-replayed"] == "true"
    assert _purchases(server_db, student) == 1
    assert balances(server_db, student.user)[student.user.email] == 500


def test_a_retried_top_up_credits_once(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    headers = {**student.headers, "Idempotency-Key": _key()}

    answers = [
        http.post("/api/wallet/topup", headers=headers, json={"amount_cents": 1500})
        for _ in range(3)
    ]

    assert {a.status_code for a in answers} == {200}
    assert answers[1].json() == answers[2].json() == answers[0].json()
    assert balances(server_db, student.user)[student.user.email] == 1500
    assert _topups(server_db, student) == 1


def test_the_same_key_for_another_request_is_a_conflict(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    one, two = make.session(teacher), make.session(teacher)
    student = make.student(funds_cents=1000)
    key = _key()
    headers = {**student.headers, "Idempotency-Key": key}

    assert http.post(f"/api/sessions/{one.id}/enroll", headers=headers).status_code == 201
    assert_error(http.post(f"/api/sessions/{two.id}/enroll", headers=headers),
                 409, "idempotency_conflict")  # fmt: skip
    assert_error(http.post("/api/wallet/topup", headers=headers, json={"amount_cents": 500}),
                 409, "idempotency_conflict")  # fmt: skip

    topup_key = {**student.headers, "Idempotency-Key": _key()}
    assert http.post("/api/wallet/topup", headers=topup_key, json={"amount_cents": 500}).is_success
    assert_error(http.post("/api/wallet/topup", headers=topup_key, json={"amount_cents": 900}),
                 409, "idempotency_conflict")  # fmt: skip
    assert balances(server_db, student.user)[student.user.email] == 1500


def test_keys_belong_to_their_user(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher())
    key = _key()
    students = [make.student(), make.student()]
    for student in students:
        response = http.post(
            f"/api/sessions/{session.id}/enroll",
            headers={**student.headers, "Idempotency-Key": key},
        )
        assert response.status_code == 201, response.text
        assert response.json()["enrollment"]["student_id"] == student.id


def test_invalid_keys_are_refused(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    for key in ("k" * 129, "with space", "caf\xe9".encode("latin-1")):
        response = http.post(
            "/api/wallet/topup",
            headers={**student.headers, "Idempotency-Key": key},
            json={"amount_cents": 500},
        )
        assert_error(response, 422, "invalid_input")
    ok = {**student.headers, "Idempotency-Key": "k" * 128}
    assert http.post("/api/wallet/topup", headers=ok, json={"amount_cents": 500}).is_success


def test_identical_enrolls_sent_together_charge_once(served, make, server_db) -> None:  # type: ignore[no-untyped-def]
    session = make.session(make.teacher(), is_paid=True, price_cents=900)
    student = make.student(funds_cents=1000)
    headers = {**student.headers, "Idempotency-Key": _key()}
    url = f"/api/sessions/{session.id}/enroll"  # read here: threads must not touch the ORM

    answers = _together(6, lambda c: c.post(url, headers=headers), served.url)

    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 5
    assert balances(server_db, student.user)[student.user.email] == 100
    assert _purchases(server_db, student) == 1
    assert_ledger_invariants(server_db)
    assert_seat_invariants(server_db)


def test_identical_top_ups_sent_together_credit_once(served, make, server_db) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    headers = {**student.headers, "Idempotency-Key": _key()}

    answers = _together(
        6,
        lambda c: c.post("/api/wallet/topup", headers=headers, json={"amount_cents": 4200}),
        served.url,
    )

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert balances(server_db, student.user)[student.user.email] == 4200
    assert _topups(server_db, student) == 1
    assert_ledger_invariants(server_db)
