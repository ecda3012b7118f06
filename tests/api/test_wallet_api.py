"""GET /api/wallet and POST /api/wallet/topup, through the configured payment provider."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Served, assert_error, serve_api
from tests.factories import balances
from tests.invariants import assert_ledger_invariants


def test_wallet_shows_balance_and_paginated_transactions(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student(funds_cents=3000)
    session = make.session(make.teacher(), is_paid=True, price_cents=1000, title="Paid class")
    make.enroll(student, session)

    first = http.get("/api/wallet", headers=student.headers, params={"page_size": 1})
    second = http.get("/api/wallet", headers=student.headers, params={"page_size": 1, "page": 2})

    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["balance_cents"], body["currency"], body["total"]) == (2000, "EUR", 2)
    assert (body["page"], body["page_size"]) == (1, 1)
    (purchase,) = body["transactions"]
    assert (purchase["kind"], purchase["amount_cents"], purchase["currency"]) == (
        "purchase",
        -1000,
        "EUR",
    )
    assert (purchase["session_id"], purchase["session_title"]) == (session.id, "Paid class")
    (topup,) = second.json()["transactions"]
    assert (topup["kind"], topup["amount_cents"]) == ("topup", 3000)
    assert topup["reference"].startswith("demo_")
    assert_error(http.get("/api/wallet", headers=student.headers, params={"page_size": 101}),
                 422, "invalid_input")  # fmt: skip


def test_top_up_credits_the_wallet(http, make, server_db) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()  # any account has a wallet

    response = http.post("/api/wallet/topup", headers=teacher.headers, json={"amount_cents": 2500})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["balance_cents"], body["currency"]) == (2500, "EUR")
    assert (body["transaction"]["kind"], body["transaction"]["amount_cents"]) == ("topup", 2500)
    assert balances(server_db, teacher.user)[teacher.user.email] == 2500
    assert_ledger_invariants(server_db)


def test_top_up_refusals(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    for amount in (0, 99, 100_001, -500):
        response = http.post(
            "/api/wallet/topup", headers=student.headers, json={"amount_cents": amount}
        )
        assert assert_error(response, 422, "topup_out_of_range")["field"] == "amount_cents"
    for body in ({"amount_cents": "ten"}, {}, {"amount_cents": 500, "currency": "USD"}):
        response = http.post("/api/wallet/topup", headers=student.headers, json=body)
        assert_error(response, 422, "invalid_input")
    assert_error(http.post("/api/wallet/topup", json={"amount_cents": 500}),
                 401, "not_authenticated")  # fmt: skip


# --- a provider that fails --------------------------------------------------------------------


@pytest.fixture(scope="module")
def declining_api(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API alone, on the same database, configured with the `declining` payment provider
    (VISIO_PAYMENT_PROVIDER: what production sets to name its provider)."""
    env = {"REFLEX_DB_URL": str(served.engine.url), "VISIO_PAYMENT_PROVIDER": "declining"}
    with serve_api(env, tmp_path_factory.mktemp("declining") / "api.log") as url:
        yield url


def test_a_provider_failure_is_402_and_credits_nothing(declining_api, make, server_db) -> None:  # type: ignore[no-untyped-def]
    student = make.student(funds_cents=700)
    with httpx.Client(base_url=declining_api, timeout=30) as client:
        response = client.post(
            "/api/wallet/topup",
            headers={**student.headers, "Idempotency-Key": "declined-1"},
            json={"amount_cents": 5000},
        )
        assert_error(response, 402, "payment_failed")
        wallet = client.get("/api/wallet", headers=student.headers).json()
    assert (wallet["balance_cents"], wallet["total"]) == (700, 1)
    assert balances(server_db, student.user)[student.user.email] == 700
