"""Who may call what: every route of the API, called by each kind of caller.

The callers: nobody logged in, a student, a student enrolled in the session, another teacher,
and the session's owner (see `Cast`). Each cell is the exact status, and the error code of a
refusal; a route missing from the table fails `test_the_matrix_covers_every_route`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import Cast, Make
from tests.factories import STRONG_PASSWORD, make_admin, session_input
from tests.payouts_support import IBAN, make_funded_teacher
from visio.services import payouts, series

CALLERS = ("anonymous", "student", "enrolled", "other_teacher", "owner")
ANON = "401 not_authenticated"
ROLE = "403 wrong_role"
OWNER = "403 not_owner"
ENROLLED = "403 not_enrolled"
FUNDS = "402 insufficient_funds"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {session}: published, starting in 5 minutes; {draft}; {pdf}: a file of {session}
    expected: tuple[str, ...]  # anonymous, student, enrolled, other, owner (admin: see below)
    body: Callable[[Cast], dict[str, Any]] | None = None
    query: str = ""


def _new_session(cast: Cast) -> dict[str, Any]:
    starts = cast.session.starts_at.isoformat()
    return {"title": "Matrix session", "starts_at": starts, "duration": 30}


def _new_series(cast: Cast) -> dict[str, Any]:
    return {**_new_session(cast), "repeat": {"every_days": 7, "count": 2}}


def _series_of(cast: Cast, make: Make) -> int:
    """A published weekly series of the owner's, `enrolled` holding every seat of it."""
    made = series.create_series(
        db=make.db,
        actor=cast.owner.user,
        data=session_input(make.clock),
        repeat=series.Repeat(every_days=7, count=2),
        publish=True,
    )
    series.enroll_series(db=make.db, actor=cast.enrolled.user, series_id=made.series.id)
    return made.series.id  # type: ignore[return-value]


def _payout_of(make: Make) -> int:
    """A waiting payout request of a teacher with money to withdraw."""
    teacher = make_funded_teacher(make.db, clock=make.clock, amount_cents=5000)
    made = payouts.request_payout(db=make.db, actor=teacher, amount_cents=2000, destination=IBAN)
    return made.id  # type: ignore[return-value]


def _registration(cast: Cast) -> dict[str, Any]:
    return {
        "email": f"matrix-{uuid.uuid4().hex[:10]}@example.org",
        "password": STRONG_PASSWORD,
        "full_name": "Matrix Person",
        "role": "student",
    }


ROUTES = [
    Route("GET", "/api/health", ("200",) * 5),
    # Operations, at the root: /metrics from this machine (the tests') without a token set.
    Route("GET", "/health", ("200",) * 5),
    Route("GET", "/ready", ("200",) * 5),
    Route("GET", "/metrics", ("200",) * 5),
    Route("POST", "/api/auth/register", ("201",) * 5, body=_registration),
    Route("POST", "/api/auth/login", ("200",) * 5,
          body=lambda c: {"email": c.student.user.email, "password": STRONG_PASSWORD}),
    Route("POST", "/api/auth/logout", (ANON, "204", "204", "204", "204")),
    # Anyone may ask for a reset link, and gets the same answer; a link nobody was sent opens
    # nothing, whoever presents it.
    Route("POST", "/api/auth/password-reset", ("202",) * 5,
          body=lambda c: {"email": f"matrix-{uuid.uuid4().hex[:10]}@example.org"}),
    Route("POST", "/api/auth/password-reset/confirm", ("422 reset_token_invalid",) * 5,
          body=lambda c: {"token": uuid.uuid4().hex, "password": STRONG_PASSWORD}),
    # A verification link nobody was sent proves nothing, whoever presents it; the cast's
    # accounts are verified already; a change of address needs the login and the password.
    Route("POST", "/api/auth/verify-email", ("400 email_token_invalid",) * 5,
          body=lambda c: {"token": uuid.uuid4().hex}),
    Route("POST", "/api/auth/verify-email/resend", (ANON, *("409 email_already_verified",) * 4)),
    Route("POST", "/api/account/email", (ANON, "202", "202", "202", "202"),
          body=lambda c: {"email": f"matrix-{uuid.uuid4().hex[:10]}@example.org",
                          "password": STRONG_PASSWORD}),
    Route("POST", "/api/sessions", (ANON, ROLE, ROLE, "201", "201"), body=_new_session),
    Route("GET", "/api/sessions", (ANON, "200", "200", "200", "200")),
    Route("GET", "/api/sessions", (ANON, "200", "200", ROLE, ROLE), query="scope=available"),
    Route("GET", "/api/sessions/{session}", (ANON, "200", "200", "200", "200")),
    Route("GET", "/api/sessions/{draft}",
          (ANON, "404 session_not_found", "404 session_not_found", "404 session_not_found",
           "200")),
    Route("PATCH", "/api/sessions/{session}", (ANON, ROLE, ROLE, OWNER, "200"),
          body=lambda c: {"title": "Renamed by the matrix"}),
    Route("PATCH", "/api/sessions/{draft}/publish", (ANON, ROLE, ROLE, OWNER, "200")),
    Route("POST", "/api/sessions/{session}/cancel", (ANON, ROLE, ROLE, OWNER, "200"),
          body=lambda c: {"reason": "Matrix"}),
    Route("DELETE", "/api/sessions/{draft}", (ANON, ROLE, ROLE, OWNER, "204")),
    Route("POST", "/api/sessions/{session}/enroll",
          (ANON, "201", "409 already_enrolled", ROLE, "403 own_session")),
    Route("DELETE", "/api/sessions/{session}/enroll",
          (ANON, ENROLLED, "200", ENROLLED, ENROLLED)),
    Route("POST", "/api/sessions/{session}/join", (ANON, ENROLLED, "200", ENROLLED, "200")),
    Route("GET", "/api/sessions/{session}/materials", (ANON, ENROLLED, "200", OWNER, "200")),
    Route("POST", "/api/sessions/{session}/materials", (ANON, ROLE, ROLE, OWNER, "201"),
          body=lambda c: {"kind": "link", "title": "Matrix", "url": "https://example.org"}),
    Route("GET", "/api/materials/{pdf}/download", (ANON, ENROLLED, "200", OWNER, "200")),
    Route("GET", "/api/sessions/stats/overview", (ANON, ROLE, ROLE, "200", "200")),
    Route("GET", "/api/wallet", (ANON, "200", "200", "200", "200")),
    Route("POST", "/api/wallet/topup", (ANON, "200", "200", "200", "200"),
          body=lambda c: {"amount_cents": 1000}),
    Route("GET", "/api/account/preferences", (ANON, "200", "200", "200", "200")),
    Route("PATCH", "/api/account/preferences", (ANON, "200", "200", "200", "200"),
          body=lambda c: {"email": {}}),
    Route("POST", "/api/account/password", (ANON,) + ("403 current_password_wrong",) * 4,
          body=lambda c: {"current_password": "not-the-password", "new_password": "x"}),
    Route("POST", "/api/unsubscribe", ("404 unsubscribe_link_invalid",) * 5,
          query="token=1.session_moved.forged"),
    # Anyone signed in reads and marks their own notices (others' ids are ignored: see
    # test_notifications_api).
    Route("GET", "/api/notifications", (ANON, "200", "200", "200", "200")),
    Route("POST", "/api/notifications/read", (ANON, "200", "200", "200", "200"),
          body=lambda c: {"all": True}),
    # Recurring series: {series} is the owner's, published, `enrolled` holds all its seats.
    Route("POST", "/api/series", (ANON, ROLE, ROLE, "201", "201"), body=_new_series),
    Route("GET", "/api/series/{series}", (ANON, "200", "200", "200", "200")),
    Route("POST", "/api/series/{series}/publish", (ANON, ROLE, ROLE, OWNER, "200")),
    Route("POST", "/api/series/{series}/enroll",
          (ANON, "201", "409 already_enrolled", ROLE, "403 own_session")),
    Route("POST", "/api/series/{series}/cancel", (ANON, ROLE, ROLE, OWNER, "200"),
          body=lambda c: {"reason": "Matrix"}),
    # The cast's session has free seats: nobody may join its waiting list; its owner sees it.
    Route("POST", "/api/sessions/{session}/waitlist",
          (ANON, "409 seats_available", "409 already_enrolled", ROLE, ROLE)),
    Route("DELETE", "/api/sessions/{session}/waitlist",
          (ANON, "409 not_waiting", "409 not_waiting", ROLE, ROLE)),
    Route("GET", "/api/sessions/{session}/waitlist", (ANON, "200", "200", OWNER, "200")),
    # Payouts: teachers withdraw (the cast's teachers have nothing to withdraw: 402 shows the
    # role passed); only admins decide ({payout}: a waiting request of another teacher).
    Route("POST", "/api/wallet/payouts", (ANON, ROLE, ROLE, FUNDS, FUNDS),
          body=lambda c: {"amount_cents": 2000, "destination": IBAN}),
    Route("GET", "/api/wallet/payouts", (ANON, ROLE, ROLE, "200", "200")),
    Route("GET", "/api/admin/payouts", (ANON, ROLE, ROLE, ROLE, ROLE)),
    Route("POST", "/api/admin/payouts/{payout}/paid", (ANON, ROLE, ROLE, ROLE, ROLE),
          body=lambda c: {"reference": "VIR-MATRIX"}),
    Route("POST", "/api/admin/payouts/{payout}/refuse", (ANON, ROLE, ROLE, ROLE, ROLE),
          body=lambda c: {"reason": "Matrix"}),
]  # fmt: skip

CASES = [
    pytest.param(route, caller, expected, id=f"{route.method} {route.path}{route.query}-{caller}")
    for route in ROUTES
    for caller, expected in zip(CALLERS, route.expected, strict=True)
]


@pytest.mark.parametrize(("route", "caller", "expected"), CASES)
def test_authorization_matrix(http, cast, make, route, caller, expected) -> None:  # type: ignore[no-untyped-def]
    targets = {"session": cast.session.id, "draft": cast.draft.id}
    if "{pdf}" in route.path:
        targets["pdf"] = make.pdf(cast.owner, cast.session).id
    if "{series}" in route.path:
        targets["series"] = _series_of(cast, make)
    if "{payout}" in route.path:
        targets["payout"] = _payout_of(make)
    url = route.path.format(**targets) + (f"?{route.query}" if route.query else "")
    headers = {} if caller == "anonymous" else getattr(cast, caller).headers

    response = http.request(
        route.method, url, headers=headers, json=route.body(cast) if route.body else None
    )

    status, _, code = expected.partition(" ")
    assert response.status_code == int(status), response.text
    if code:
        assert response.json()["code"] == code
    if status == "401":
        assert response.headers["www-authenticate"] == "Bearer"
    if response.status_code < 300 and caller in ("student", "other_teacher"):
        assert cast.session.link not in response.text  # never the link to a non-participant


# --- /api/admin: admins only -------------------------------------------------------------------
# The callers: nobody, a student, a teacher, an admin; {user} is a fresh student with 20.00 in
# their wallet, {wallet} that wallet, {session} a published session of the teacher's.

ADMIN_CALLERS = ("anonymous", "student", "teacher", "admin")
ADMIN_ONLY = (ANON, ROLE, ROLE)
ADMIN_ROUTES = [
    Route("GET", "/api/admin/users", (*ADMIN_ONLY, "200")),
    Route("GET", "/api/admin/users/{user}", (*ADMIN_ONLY, "200")),
    Route("POST", "/api/admin/users/{user}/suspend", (*ADMIN_ONLY, "200"),
          body=lambda c: {"reason": "Matrix"}),
    Route("POST", "/api/admin/users/{user}/restore",
          (*ADMIN_ONLY, "409 not_suspended")),
    Route("POST", "/api/admin/users/{user}/adjust", (*ADMIN_ONLY, "200"),
          body=lambda c: {"direction": "debit", "amount_cents": 500, "reason": "Matrix"}),
    Route("GET", "/api/admin/wallets/{wallet}/ledger", (*ADMIN_ONLY, "200")),
    Route("GET", "/api/admin/sessions", (*ADMIN_ONLY, "200")),
    Route("POST", "/api/admin/sessions/{session}/cancel", (*ADMIN_ONLY, "200"),
          body=lambda c: {"reason": "Matrix"}),
    Route("GET", "/api/admin/audit", (*ADMIN_ONLY, "200")),
    Route("GET", "/api/admin/audit/export", (*ADMIN_ONLY, "200")),
    Route("GET", "/api/admin/money", (*ADMIN_ONLY, "200")),
]  # fmt: skip

ADMIN_CASES = [
    pytest.param(route, caller, expected, id=f"{route.method} {route.path}-{caller}")
    for route in ADMIN_ROUTES
    for caller, expected in zip(ADMIN_CALLERS, route.expected, strict=True)
]


@pytest.mark.parametrize(("route", "caller", "expected"), ADMIN_CASES)
def test_admin_authorization_matrix(http, make, route, caller, expected) -> None:  # type: ignore[no-untyped-def]
    from visio.services import wallets

    teacher = make.teacher()
    target = make.student(funds_cents=2000)
    callers = {"student": make.student(), "teacher": teacher, "admin": make.admin()}
    targets = {
        "user": target.id,
        "wallet": wallets.wallet_of(make.db, target.id).id,
        "session": make.session(teacher).id,
    }
    headers = {} if caller == "anonymous" else callers[caller].headers

    response = http.request(
        route.method,
        route.path.format(**targets),
        headers=headers,
        json=route.body(None) if route.body else None,  # type: ignore[arg-type]
    )

    status, _, code = expected.partition(" ")
    assert response.status_code == int(status), response.text
    if code:
        assert response.json()["code"] == code
    if status == "401":
        assert response.headers["www-authenticate"] == "Bearer"
    if caller != "admin":  # refused: nothing happened
        assert wallets.balance_of(make.db, target.id) == 2000


def test_the_matrix_covers_every_route(http) -> None:  # type: ignore[no-untyped-def]
    spec = http.get("/api/openapi.json").json()
    documented = {
        (method.upper(), re.sub(r"{\w+}", "{}", path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    tested = {(r.method, re.sub(r"{\w+}", "{}", r.path)) for r in ROUTES + ADMIN_ROUTES}
    assert documented == tested


# The admin caller, on the payout admin routes (the cast's five are all refused above).
PAYOUT_ADMIN_ROUTES = [route for route in ROUTES if route.path.startswith("/api/admin/payouts")]


@pytest.mark.parametrize("route", PAYOUT_ADMIN_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_an_admin_may_call_the_admin_routes(http, make, cast, route) -> None:  # type: ignore[no-untyped-def]
    admin = make.person(make_admin(make.db, clock=make.clock))
    url = route.path.format(payout=_payout_of(make))

    response = http.request(
        route.method, url, headers=admin.headers, json=route.body(cast) if route.body else None
    )

    assert response.status_code == 200, response.text
