"""The admin console's pages' handlers: admins only, suspension logs an open tab out on its next
event, a double submit of an adjustment applies once, cancel with refunds, the audit export link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from reflex.istate.data import RouterData
from sqlmodel import Session, select

from tests.factories import (
    STRONG_PASSWORD,
    make_admin,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
)
from tests.invariants import assert_ledger_invariants
from tests.state.conftest import new_state, redirect_target, run_async, toasts
from visio.models import EntryKind, LedgerEntry, User
from visio.services import accounts, admin_audit, admin_users, enrollments, wallets
from visio.state.admin import AdminState
from visio.state.admin_audit import AdminAuditState
from visio.state.admin_sessions import AdminSessionsState
from visio.state.admin_user import AdminUserState
from visio.state.admin_users import AdminUsersState
from visio.state.auth import AuthState
from visio.state.wallet import WalletState


def _state(db: Session, cls, user: User, path: str, pattern: str | None = None):  # type: ignore[no-untyped-def]
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token
    state = new_state(cls, token)
    state.lang_choice = "en"
    state.router = RouterData.from_router_data({"pathname": pattern or path, "asPath": path})
    return state


def test_teachers_and_students_are_sent_home(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    for cls, path in (
        (AdminState, "/admin"),
        (AdminUsersState, "/admin/users"),
        (AdminSessionsState, "/admin/sessions"),
        (AdminAuditState, "/admin/audit"),
    ):
        teacher = _state(db, cls, make_teacher(db, clock=now_clock), path)
        result = teacher.on_load()
        assert redirect_target(result) == "/teacher/video-sessions"
        assert toasts(result)[0][0] == "warning"
        assert getattr(teacher, "rows", []) == []


def test_the_overview_shows_six_figures_and_says_balanced(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    make_funded_student(db, clock=now_clock, amount_cents=1_000)
    state = _state(db, AdminState, make_admin(db, clock=now_clock), "/admin")

    state.on_load()

    assert [t["key"] for t in state.tiles] == [
        "users",
        "escrow",
        "payouts_held",
        "paid_out",
        "platform",
        "topups",
    ]
    assert state.balanced and state.gaps == []
    assert [c["ok"] for c in state.checks] == [True, True, True]
    assert state.checks[1]["label"] == "Escrow against held purchases"


def test_users_are_found_by_name(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock, full_name="Quentin Lachaise")
    state = _state(db, AdminUsersState, make_admin(db, clock=now_clock), "/admin/users")
    state.on_load()

    state.set_q("lachaise")

    assert [r["email"] for r in state.rows] == [student.email]
    assert state.rows[0]["href"] == f"/admin/users/{student.id}"
    assert state.rows[0]["state"] == "active"


def test_suspending_logs_the_users_open_tab_out_on_its_next_event(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_funded_student(db, clock=now_clock, amount_cents=500)
    their_tab = _state(db, WalletState, student, "/wallet")
    their_tab.on_load()
    assert their_tab.user_role == "student"
    path = f"/admin/users/{student.id}"
    page = _state(
        db, AdminUserState, make_admin(db, clock=now_clock), path, "/admin/users/[user_id]"
    )
    page.on_load()
    assert (page.found, page.can_suspend, page.state) == (True, True, "active")

    page.set_suspend_open(True)
    page.set_suspend_reason("x")
    page.confirm_suspend()
    assert page.suspend_error == "Give a reason (at least 3 characters)."
    page.set_suspend_reason("Chargeback fraud")
    result = page.confirm_suspend()

    assert toasts(result) == [("success", "Account suspended.")]
    assert (page.state, page.suspend_open) == ("suspended", False)
    assert redirect_target(their_tab.go_to_page(1)) == "/login?next=/wallet"
    assert their_tab.user_role == "" and their_tab.entries == []
    page.restore()
    assert page.state == "active"


def test_a_double_submitted_adjustment_applies_once(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    path = f"/admin/users/{student.id}"
    page = _state(
        db, AdminUserState, make_admin(db, clock=now_clock), path, "/admin/users/[user_id]"
    )
    page.on_load()
    page.set_adjust_amount("12,50")
    page.set_adjust_reason("Goodwill for a broken class")

    first = page.adjust()
    second = page.adjust()  # the same form submitted again (a double click)

    assert toasts(first) == [("success", "Done: the balance is now €12.50.")]
    assert second is None and page.adjust_error  # the emptied form applies nothing
    wallet = wallets.wallet_of(db, student.id)
    entries = db.exec(select(LedgerEntry).where(LedgerEntry.wallet_id == wallet.id)).all()
    assert [(e.kind, e.amount_cents) for e in entries] == [(EntryKind.ADJUSTMENT, 1_250)]
    assert page.entries[0]["label"] == "Adjustment by the platform"
    assert page.entries[0]["detail"] == "Goodwill for a broken class"
    page.set_direction("debit")
    page.set_adjust_amount("20")
    page.set_adjust_reason("Too much")
    page.adjust()
    assert page.adjust_error.startswith("Your balance is too low")
    assert_ledger_invariants(db)


def test_an_admin_cancels_a_session_from_the_list_with_refunds(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    student = make_funded_student(db, clock=now_clock, amount_cents=2_000)
    paid = make_session(
        db,
        teacher=teacher,
        clock=now_clock,
        publish=True,
        is_paid=True,
        price_cents=900,
        title="Organic chemistry 1",
    )
    enrollments.enroll(db=db, actor=student, video_session_id=paid.id)
    page = _state(db, AdminSessionsState, make_admin(db, clock=now_clock), "/admin/sessions")
    page.on_load()
    page.set_q("organic chemistry")
    assert [r["id"] for r in page.rows] == [paid.id]

    page.ask_cancel(paid.id)
    page.confirm_cancel()
    assert page.cancel_error == "Give a reason for the cancellation."
    page.set_cancel_reason("Reported content")
    result = page.confirm_cancel()

    assert toasts(result) == [("success", "Session cancelled: 1 refunds (€9.00).")]
    assert page.rows[0]["status"] == "cancelled" and not page.rows[0]["cancellable"]
    assert wallets.balance_of(db, student.id) == 2_000


def test_the_audit_page_filters_and_links_a_signed_export(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    admin = make_admin(db, clock=now_clock)
    page = _state(db, AdminAuditState, admin, "/admin/audit")
    page.on_load()
    page.set_field("action", "admin.created")
    page.set_field("actor_email", "")
    page.apply()

    assert [r["action"] for r in page.rows][:1] == ["admin.created"]
    assert all(r["action"] == "admin.created" for r in page.rows)
    link = urlparse(page.export_href)
    query = parse_qs(link.query)
    assert link.path == "/api/admin/audit/export"
    assert query["action"] == ["admin.created"]
    assert admin_audit.user_for_export_grant(db=db, grant=query["grant"][0]).id == admin.id
    page.set_field("target_id", "abc")
    page.apply()
    assert page.error == "The target id must be a whole number."


def test_a_suspended_user_is_told_so_on_the_login_page(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    admin = make_admin(db, clock=now_clock)
    admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="Fraud")
    state = new_state(AuthState)
    state.lang_choice = "fr"
    state.router = RouterData.from_router_data({"pathname": "/login", "asPath": "/login"})

    run_async(state.login({"email": student.email, "password": STRONG_PASSWORD}))

    assert state.form_error == "Ce compte est suspendu. Contactez l'équipe de la plateforme."
    assert state.token == ""
