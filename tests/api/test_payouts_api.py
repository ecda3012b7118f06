"""Payouts over real HTTP: a teacher withdraws, an admin pays or refuses; the attacks a caller
may try (a student withdrawing, a teacher paying their own request, paying twice, a retried
request) change nothing they should not."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import httpx
from sqlmodel import select

from tests.api.conftest import Make, Person, assert_error
from tests.factories import balances, make_admin, table_counts
from tests.invariants import assert_ledger_invariants
from tests.payouts_support import IBAN, IBAN_SPACED, make_funded_teacher
from visio.models import Notice, PayoutRequest


def funded_teacher(make: Make, cents: int = 5_000) -> Person:
    return make.person(make_funded_teacher(make.db, clock=make.clock, amount_cents=cents))


def admin(make: Make) -> Person:
    return make.person(make_admin(make.db, clock=make.clock))


def withdraw(http, person: Person, amount: int = 2_000, destination: str = IBAN_SPACED, **kw):  # type: ignore[no-untyped-def]
    body = {"amount_cents": amount, "destination": destination}
    return http.post("/api/wallet/payouts", headers={**person.headers, **kw}, json=body)


def test_a_teacher_withdraws_and_an_admin_pays(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher, boss = funded_teacher(make), admin(make)

    asked = withdraw(http, teacher)

    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert (body["status"], body["amount_cents"], body["destination"]) == (
        "requested",
        2_000,
        "••••0189",
    )
    queue = http.get("/api/admin/payouts?status=requested&page_size=100", headers=boss.headers)
    mine = [i for i in queue.json()["items"] if i["id"] == body["id"]]
    assert mine[0]["destination"] == IBAN
    assert mine[0]["user_email"] == teacher.user.email

    paid = http.post(
        f"/api/admin/payouts/{body['id']}/paid", headers=boss.headers, json={"reference": "VIR-9"}
    )

    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["reference"]) == ("paid", "VIR-9")
    listed = http.get("/api/wallet/payouts", headers=teacher.headers).json()
    assert [(i["status"], i["reference"]) for i in listed["items"]] == [("paid", "VIR-9")]
    wallet = http.get("/api/wallet", headers=teacher.headers).json()
    assert wallet["balance_cents"] == 3_000
    assert wallet["transactions"][0]["kind"] == "payout_hold"
    server_db.rollback()
    notice = server_db.exec(
        select(Notice).where(Notice.user_id == teacher.id, Notice.kind == "payout_paid")
    ).one()
    assert notice.data["reference"] == "VIR-9"
    assert_ledger_invariants(server_db)


def test_a_refused_request_returns_the_money(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher, boss = funded_teacher(make), admin(make)
    payout_id = withdraw(http, teacher, 5_000, "PayPal ana@example.org").json()["id"]
    assert http.get("/api/wallet", headers=teacher.headers).json()["balance_cents"] == 0

    refused = http.post(
        f"/api/admin/payouts/{payout_id}/refuse", headers=boss.headers, json={"reason": "No"}
    )

    assert (refused.status_code, refused.json()["refusal_reason"]) == (200, "No")
    assert http.get("/api/wallet", headers=teacher.headers).json()["balance_cents"] == 5_000
    assert_ledger_invariants(server_db)


def test_a_student_cannot_withdraw(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    student = make.student(funds_cents=5_000)
    before = table_counts(server_db)

    assert_error(withdraw(http, student), 403, "wrong_role")

    assert table_counts(server_db) == before
    assert balances(server_db, student.user)[student.user.email] == 5_000


def test_a_teacher_cannot_pay_or_refuse_their_own_request(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = funded_teacher(make)
    payout_id = withdraw(http, teacher).json()["id"]
    before = table_counts(server_db)

    paid = http.post(
        f"/api/admin/payouts/{payout_id}/paid", headers=teacher.headers, json={"reference": "X"}
    )
    refused = http.post(
        f"/api/admin/payouts/{payout_id}/refuse", headers=teacher.headers, json={"reason": "X"}
    )

    assert_error(paid, 403, "wrong_role")
    assert_error(refused, 403, "wrong_role")
    assert table_counts(server_db) == before
    server_db.rollback()
    assert server_db.get(PayoutRequest, payout_id).status == "requested"


def test_paying_twice_is_refused_and_changes_nothing(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher, boss = funded_teacher(make), admin(make)
    payout_id = withdraw(http, teacher).json()["id"]
    url = f"/api/admin/payouts/{payout_id}/paid"
    assert http.post(url, headers=boss.headers, json={"reference": "VIR-1"}).status_code == 200
    before = table_counts(server_db)

    again = http.post(url, headers=boss.headers, json={"reference": "VIR-2"})
    late_refusal = http.post(
        f"/api/admin/payouts/{payout_id}/refuse", headers=boss.headers, json={"reason": "Late"}
    )

    assert_error(again, 409, "payout_already_decided")
    assert_error(late_refusal, 409, "payout_already_decided")
    assert table_counts(server_db) == before
    assert_ledger_invariants(server_db)


def test_a_payment_and_a_refusal_sent_together_resolve_once(served, http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher, first, second = funded_teacher(make), admin(make), admin(make)
    payout_id = withdraw(http, teacher).json()["id"]
    calls = [
        (f"/api/admin/payouts/{payout_id}/paid", first.headers, {"reference": "VIR-1"}),
        (f"/api/admin/payouts/{payout_id}/refuse", second.headers, {"reason": "No"}),
        (f"/api/admin/payouts/{payout_id}/paid", second.headers, {"reference": "VIR-2"}),
    ]
    barrier, answers = threading.Barrier(len(calls)), {}

    def send(index: int) -> None:
        url, headers, body = calls[index]
        with httpx.Client(base_url=served.url, timeout=60) as client:
            barrier.wait()
            answers[index] = client.post(url, headers=headers, json=body)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    outcomes = Counter(r.status_code for r in answers.values())
    assert outcomes == {200: 1, 409: 2}, [r.text for r in answers.values()]
    assert_ledger_invariants(server_db)


def test_a_retried_request_with_its_key_withdraws_once(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = funded_teacher(make)
    key = f"payout-{uuid.uuid4()}"

    first = withdraw(http, teacher, **{"Idempotency-Key": key})
    retry = withdraw(http, teacher, **{"Idempotency-Key": key})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert http.get("/api/wallet", headers=teacher.headers).json()["balance_cents"] == 3_000


def test_bad_input_gets_a_translated_message(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = funded_teacher(make)
    fr = {"Accept-Language": "fr"}

    wrong_iban = withdraw(http, teacher, destination="FR76 3000 6000 0112 3456 7890 188", **fr)
    too_little = withdraw(http, teacher, amount=500)
    too_much = withdraw(http, teacher, amount=5_001)
    no_destination = withdraw(http, teacher, destination="  ")

    body = assert_error(wrong_iban, 422, "iban_checksum")
    assert body["field"] == "destination" and "clé de contrôle" in body["detail"]
    assert assert_error(too_little, 422, "payout_below_minimum")["field"] == "amount_cents"
    assert_error(too_much, 402, "insufficient_funds")
    assert_error(no_destination, 422, "destination_required")
    assert http.get("/api/wallet/payouts", headers=teacher.headers).json()["total"] == 0
    boss = admin(make)
    assert http.get("/api/admin/payouts?status=lost", headers=boss.headers).status_code == 422
    assert_error(
        http.post(
            "/api/admin/payouts/2147483647/paid", headers=boss.headers, json={"reference": "R"}
        ),
        404,
        "payout_not_found",
    )
