"""/api/admin over HTTP: suspension ends a token at once, adjustments apply once per key,
the audit CSV, the money overview, and bad input answered with a clear message."""

from __future__ import annotations

import csv
import io
import uuid

from sqlmodel import select

from tests.api.conftest import assert_error, bearer
from tests.factories import STRONG_PASSWORD, fresh
from tests.invariants import assert_adjustment_invariants, assert_ledger_invariants
from visio.models import EntryKind, LedgerEntry, User
from visio.services import admin_audit, wallets


def test_a_suspended_users_token_is_refused_at_once_and_they_cannot_log_in(http, make) -> None:  # type: ignore[no-untyped-def]
    admin, student = make.admin(), make.student()
    assert http.get("/api/wallet", headers=student.headers).status_code == 200

    suspended = http.post(
        f"/api/admin/users/{student.id}/suspend",
        headers=admin.headers,
        json={"reason": "Abusive messages"},
    )

    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended_at"] is not None
    assert suspended.json()["live_logins"] == 0
    assert_error(http.get("/api/wallet", headers=student.headers), 401, "not_authenticated")
    login = http.post(
        "/api/auth/login", json={"email": student.user.email, "password": STRONG_PASSWORD}
    )
    assert_error(login, 403, "account_suspended")
    restored = http.post(f"/api/admin/users/{student.id}/restore", headers=admin.headers)
    assert restored.status_code == 200 and restored.json()["suspended_at"] is None
    again = http.post(
        "/api/auth/login", json={"email": student.user.email, "password": STRONG_PASSWORD}
    )
    assert again.status_code == 200
    assert_error(http.get("/api/wallet", headers=student.headers), 401, "not_authenticated")


def test_a_teacher_cannot_suspend_credit_or_read_through_the_admin_api(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make.teacher(), make.student(funds_cents=1000)
    attacks = [
        ("POST", f"/api/admin/users/{student.id}/suspend", {"reason": "Mine now"}),
        (
            "POST",
            f"/api/admin/users/{teacher.id}/adjust",
            {"direction": "credit", "amount_cents": 100_000, "reason": "Free money"},
        ),
        ("GET", "/api/admin/audit/export", None),
        ("GET", "/api/admin/money", None),
    ]
    for method, path, body in attacks:
        assert_error(
            http.request(method, path, headers=teacher.headers, json=body), 403, "wrong_role"
        )
    assert http.get("/api/wallet", headers=student.headers).status_code == 200
    assert wallets.balance_of(make.db, teacher.id) == 0
    assert fresh(make.db, User, student.id)["suspended_at"] is None


def test_an_adjustment_applies_once_per_idempotency_key(http, make) -> None:  # type: ignore[no-untyped-def]
    admin, student = make.admin(), make.student()
    headers = {**admin.headers, "Idempotency-Key": f"adjust-{uuid.uuid4()}"}
    body = {"direction": "credit", "amount_cents": 750, "reason": "Refund of a broken class"}

    first = http.post(f"/api/admin/users/{student.id}/adjust", headers=headers, json=body)
    second = http.post(f"/api/admin/users/{student.id}/adjust", headers=headers, json=body)
    other = http.post(
        f"/api/admin/users/{student.id}/adjust", headers=headers, json={**body, "amount_cents": 1}
    )

    assert first.status_code == second.status_code == 200, first.text
    assert second.headers.get("idempotent-replayed") == "true"
    assert first.json() == second.json()
    assert first.json()["transaction"]["kind"] == "adjustment"
    assert_error(other, 409, "idempotency_conflict")
    make.db.rollback()
    wallet = wallets.wallet_of(make.db, student.id)
    entries = make.db.exec(select(LedgerEntry).where(LedgerEntry.wallet_id == wallet.id)).all()
    assert [(e.kind, e.amount_cents) for e in entries] == [(EntryKind.ADJUSTMENT, 750)]
    seen = http.get("/api/wallet", headers=student.headers).json()
    assert seen["balance_cents"] == 750
    assert seen["transactions"][0]["kind"] == "adjustment"
    assert_ledger_invariants(make.db)
    assert_adjustment_invariants(make.db)


def test_bad_adjustments_get_clear_messages(http, make) -> None:  # type: ignore[no-untyped-def]
    admin, student = make.admin(), make.student(funds_cents=500)
    url = f"/api/admin/users/{student.id}/adjust"
    fr = {**admin.headers, "Accept-Language": "fr"}

    short = http.post(url, headers=fr, json={"direction": "debit", "amount_cents": 5, "reason": ""})
    over = http.post(
        url,
        headers=admin.headers,
        json={"direction": "debit", "amount_cents": 501, "reason": "Too much"},
    )
    typed = http.post(
        url,
        headers=admin.headers,
        json={"direction": "debit", "amount_cents": "5", "reason": "Typo"},
    )
    unknown = http.post(
        "/api/admin/users/2147483000/adjust",
        headers=admin.headers,
        json={"direction": "credit", "amount_cents": 5, "reason": "Nobody"},
    )

    assert "raison" in assert_error(short, 422, "reason_too_short")["detail"]
    assert_error(over, 402, "insufficient_funds")
    assert typed.status_code == 422 and typed.json()["code"] == "invalid_input"
    assert_error(unknown, 404, "user_not_found")
    assert wallets.balance_of(make.db, student.id) == 500


def test_the_audit_export_is_csv_of_the_filtered_rows_by_token_or_grant(http, make) -> None:  # type: ignore[no-untyped-def]
    admin, student = make.admin(), make.student()
    http.post(
        f"/api/admin/users/{student.id}/suspend",
        headers=admin.headers,
        json={"reason": "CSV check"},
    )
    query = {"action": "admin.user_suspended", "target_type": "user", "target_id": student.id}

    by_token = http.get("/api/admin/audit/export", headers=admin.headers, params=query)
    grant = admin_audit.sign_export(db=make.db, token=admin.token)
    by_grant = http.get("/api/admin/audit/export", params={**query, "grant": grant})
    forged = http.get("/api/admin/audit/export", params={**query, "grant": grant[:-2] + "xx"})
    listed = http.get("/api/admin/audit", headers=admin.headers, params=query)

    assert by_token.status_code == 200, by_token.text
    assert by_token.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_token.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(by_token.text)))
    assert rows[0][:5] == ["id", "created_at", "actor_id", "actor_email", "action"]
    assert [r[4] for r in rows[1:]] == ["admin.user_suspended"]
    assert rows[1][3] == admin.user.email
    assert by_grant.text == by_token.text
    assert_error(forged, 401, "download_link_invalid")
    assert [e["action"] for e in listed.json()["items"]] == ["admin.user_suspended"]
    teacher_grant = admin_audit.sign_export(db=make.db, token=make.teacher().token)
    assert_error(
        http.get("/api/admin/audit/export", params={"grant": teacher_grant}), 403, "wrong_role"
    )


def test_money_at_a_glance_is_balanced(http, make) -> None:  # type: ignore[no-untyped-def]
    admin, student = make.admin(), make.student(funds_cents=1500)
    http.post(
        f"/api/admin/users/{student.id}/adjust",
        headers=admin.headers,
        json={"direction": "debit", "amount_cents": 200, "reason": "Fee"},
    )

    seen = http.get("/api/admin/money", headers=bearer(admin.token)).json()

    assert seen["balanced"] is True, seen
    assert seen["wallet_gaps"] == []
    assert {c["name"] for c in seen["checks"]} == {"wallets_total", "escrow", "payouts"}
    assert seen["topups_cents"] >= 1500
