"""The admin console's use cases: guard, users, suspension, adjustments, sessions, audit, money."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.factories import (
    STRONG_PASSWORD,
    audit_actions,
    make_admin,
    make_funded_student,
    make_session,
    make_student,
    make_teacher,
    table_counts,
)
from tests.invariants import assert_adjustment_invariants, assert_ledger_invariants
from visio.models import AuditEvent, AuthSession, EntryKind, Role, User, Wallet, WalletKind
from visio.services import (
    accounts,
    admin_audit,
    admin_money,
    admin_sessions,
    admin_users,
    download_links,
    enrollments,
    wallet_history,
    wallets,
)
from visio.services.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)


def login(db, user):
    return accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None).token


# --- the guard -------

ADMIN_CALLS = [
    lambda db, actor, target: admin_users.search_users(db=db, actor=actor),
    lambda db, actor, target: admin_users.user_detail(db=db, actor=actor, user_id=target.id),
    lambda db, actor, target: admin_users.suspend_user(
        db=db, actor=actor, user_id=target.id, reason="Spam"
    ),
    lambda db, actor, target: admin_users.restore_user(db=db, actor=actor, user_id=target.id),
    lambda db, actor, target: admin_money.adjust_wallet(
        db=db, actor=actor, user_id=target.id, direction="credit", amount_cents=100, reason="Gift"
    ),
    lambda db, actor, target: admin_money.wallet_ledger(db=db, actor=actor, wallet_id=1),
    lambda db, actor, target: admin_money.money_overview(db=db, actor=actor),
    lambda db, actor, target: admin_sessions.list_sessions(db=db, actor=actor),
    lambda db, actor, target: admin_sessions.cancel_session(
        db=db, actor=actor, video_session_id=1, reason="No"
    ),
    lambda db, actor, target: admin_audit.list_audit(
        db=db, actor=actor, filters=admin_audit.AuditFilters()
    ),
    lambda db, actor, target: admin_audit.export_csv(
        db=db, actor=actor, filters=admin_audit.AuditFilters()
    ),
]


@pytest.mark.parametrize("call", ADMIN_CALLS)
@pytest.mark.parametrize("role", [Role.TEACHER, Role.STUDENT])
def test_every_admin_use_case_refuses_teachers_and_students(db, clock, call, role):
    caller = (
        make_teacher(db, clock=clock) if role == Role.TEACHER else make_student(db, clock=clock)
    )
    target = make_student(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(Forbidden) as refused:
        call(db, caller, target)

    assert refused.value.code == "wrong_role"
    assert table_counts(db) == before


@pytest.mark.parametrize("call", ADMIN_CALLS)
def test_every_admin_use_case_refuses_nobody(db, clock, call):
    with pytest.raises(NotAuthenticated):
        call(db, None, make_student(db, clock=clock))


# --- making admins -------


def test_create_admin_makes_a_verified_admin_with_a_wallet(db, clock):
    admin = make_admin(db, clock=clock, email="Root@Example.org")

    assert (admin.role, admin.email, admin.email_verified_at) == (
        Role.ADMIN,
        "root@example.org",
        clock(),
    )
    assert wallets.balance_of(db, admin.id) == 0
    assert accounts.authenticate(db=db, token=login(db, admin)).id == admin.id
    assert audit_actions(db, target_id=admin.id)[0] == "admin.created"


def test_create_admin_with_a_taken_email_changes_nothing(db, clock):
    teacher = make_teacher(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(Conflict) as refused:
        make_admin(db, clock=clock, email=teacher.email)

    assert refused.value.code == "email_taken"
    assert table_counts(db) == before
    assert db.get(User, teacher.id).role == Role.TEACHER


def test_registration_never_makes_admins(db, clock):
    with pytest.raises(InvalidInput):
        accounts.register(
            db=db,
            full_name="Eve Root",
            email="eve@example.org",
            password=STRONG_PASSWORD,
            role="admin",
            address=None,
        )


# --- users -------


def test_search_users_by_name_or_email_case_ignored_paginated(db, clock):
    admin = make_admin(db, clock=clock)
    for n in range(3):
        make_student(db, clock=clock, full_name=f"Zoé Marchand {n}")
        clock.advance(minutes=1)
    make_teacher(db, clock=clock, email="zoe.other@school.example")

    by_name = admin_users.search_users(db=db, actor=admin, q="zoé MARCH", page_size=2)
    assert by_name.total == 3 and by_name.pages == 2
    assert [u.full_name for u in by_name.items] == ["Zoé Marchand 2", "Zoé Marchand 1"]
    by_email = admin_users.search_users(db=db, actor=admin, q="ZOE.OTHER@")
    assert [u.email for u in by_email.items] == ["zoe.other@school.example"]
    assert admin_users.search_users(db=db, actor=admin, q="100%_").total == 0
    teachers = admin_users.search_users(db=db, actor=admin, role="teacher")
    assert {u.role for u in teachers.items} == {"teacher"}


def test_user_detail_shows_balance_and_logins(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=2_500)
    login(db, student)
    token = login(db, student)
    accounts.logout(db=db, token=token)

    found = admin_users.user_detail(db=db, actor=admin, user_id=student.id, clock=clock)

    assert (found.user.balance_cents, found.login_count, found.live_logins) == (2_500, 2, 1)
    assert found.user.verified and found.user.suspended_at is None
    with pytest.raises(NotFound):
        admin_users.user_detail(db=db, actor=admin, user_id=999_999)


# --- suspension -------


def test_suspending_ends_every_login_at_once_and_blocks_new_ones(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)
    tokens = [login(db, student), login(db, student)]
    grant = download_links.sign(db=db, token=tokens[0], material_ids=[1])[1]

    admin_users.suspend_user(
        db=db, actor=admin, user_id=student.id, reason="  Fraud  ", clock=clock
    )

    for token in tokens:
        assert accounts.user_for_token(db=db, token=token) is None
        assert accounts.login_for_token(db=db, token=token) is None
        assert accounts.user_and_balance(db=db, token=token) is None
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(db=db, token=token)
    with pytest.raises(NotAuthenticated):
        download_links.user_for_grant(db=db, material_id=1, grant=grant)
    live = db.exec(
        select(AuthSession).where(
            AuthSession.user_id == student.id, AuthSession.revoked_at.is_(None)
        )
    ).all()
    assert live == []
    with pytest.raises(Forbidden) as refused:
        login(db, student)
    assert refused.value.code == "account_suspended"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "admin.user_suspended")).one()
    assert (event.actor_id, event.target_id, event.data) == (
        admin.id,
        student.id,
        {"reason": "Fraud", "logins_revoked": 2},
    )


def test_a_wrong_password_on_a_suspended_account_says_nothing_of_it(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)
    admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="Fraud")

    with pytest.raises(Exception) as refused:
        accounts.login(db=db, email=student.email, password="wrong-password", address=None)
    assert refused.value.code == "invalid_credentials"


def test_restore_lets_the_owner_log_in_again_but_old_logins_stay_ended(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)
    old = login(db, student)
    admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="Fraud")

    admin_users.restore_user(db=db, actor=admin, user_id=student.id)

    assert accounts.user_for_token(db=db, token=old) is None
    assert accounts.authenticate(db=db, token=login(db, student)).id == student.id
    assert audit_actions(db, target_id=student.id)[-2] == "admin.user_restored"
    with pytest.raises(Conflict) as refused:
        admin_users.restore_user(db=db, actor=admin, user_id=student.id)
    assert refused.value.code == "not_suspended"


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", "reason_too_short"), ("ab", "reason_too_short"), ("x" * 501, "reason_too_long")],
)
def test_suspension_needs_a_reason(db, clock, reason, code):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason=reason)

    assert refused.value.code == code
    assert table_counts(db) == before


def test_an_admin_cannot_suspend_themselves_or_another_admin(db, clock):
    admin, other = make_admin(db, clock=clock), make_admin(db, clock=clock)
    token = login(db, other)

    for target, code in ((admin, "cannot_suspend_self"), (other, "cannot_suspend_admin")):
        with pytest.raises(Forbidden) as refused:
            admin_users.suspend_user(db=db, actor=admin, user_id=target.id, reason="Because")
        assert refused.value.code == code
    assert accounts.user_for_token(db=db, token=token).id == other.id
    with pytest.raises(Conflict):
        student = make_student(db, clock=clock)
        admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="Once")
        admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="Twice")


# --- manual adjustments -------


def test_a_manual_credit_is_double_entry_with_the_platform_wallet_and_audited(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)

    done = admin_money.adjust_wallet(
        db=db,
        actor=admin,
        user_id=student.id,
        direction="credit",
        amount_cents=1_500,
        reason="Goodwill: broken session",
        clock=clock,
    )

    assert done.balance_cents == 1_500 == wallets.balance_of(db, student.id)
    platform = admin_money.platform_wallet(db)
    assert platform.balance_cents == -1_500
    history = wallet_history.history(db=db, actor=student)
    assert [(e.kind, e.amount_cents, e.reference) for e in history.entries] == [
        (EntryKind.ADJUSTMENT, 1_500, "Goodwill: broken session")
    ]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "admin.wallet_credited")).one()
    assert event.actor_id == admin.id
    assert event.data == {
        "user_id": student.id,
        "amount_cents": 1_500,
        "reason": "Goodwill: broken session",
    }
    assert_ledger_invariants(db)
    assert_adjustment_invariants(db)


def test_a_manual_debit_never_takes_a_wallet_below_zero(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=1_000)
    admin_money.adjust_wallet(
        db=db,
        actor=admin,
        user_id=student.id,
        direction="debit",
        amount_cents=400,
        reason="Chargeback",
    )
    before = table_counts(db)

    with pytest.raises(InsufficientFunds):
        admin_money.adjust_wallet(
            db=db,
            actor=admin,
            user_id=student.id,
            direction="debit",
            amount_cents=601,
            reason="Too much",
        )

    assert table_counts(db) == before
    assert wallets.balance_of(db, student.id) == 600
    assert admin_money.platform_wallet(db).balance_cents == 400
    assert_ledger_invariants(db)
    assert_adjustment_invariants(db)


@pytest.mark.parametrize(
    ("direction", "amount", "reason", "code"),
    [
        ("credit", 0, "Valid", "adjust_out_of_range"),
        ("credit", -5, "Valid", "adjust_out_of_range"),
        ("credit", admin_money.ADJUST_MAX_CENTS + 1, "Valid", "adjust_out_of_range"),
        ("credit", "12", "Valid", "amount_invalid"),
        ("gift", 100, "Valid", "direction_invalid"),
        ("credit", 100, " a ", "reason_too_short"),
        ("debit", 100, "y" * 501, "reason_too_long"),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(db, clock, direction, amount, reason, code):
    admin = make_admin(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=1_000)
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        admin_money.adjust_wallet(
            db=db,
            actor=admin,
            user_id=student.id,
            direction=direction,
            amount_cents=amount,
            reason=reason,
        )

    assert refused.value.code == code
    assert table_counts(db) == before


def test_adjusting_an_unknown_user_is_not_found(db, clock):
    admin = make_admin(db, clock=clock)
    with pytest.raises(NotFound):
        admin_money.adjust_wallet(
            db=db, actor=admin, user_id=999_999, direction="credit", amount_cents=1, reason="Who?"
        )


def test_an_admin_reads_any_wallets_ledger_newest_first(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=1_000)
    clock.advance(minutes=1)
    admin_money.adjust_wallet(
        db=db,
        actor=admin,
        user_id=student.id,
        direction="debit",
        amount_cents=100,
        reason="Fee",
        clock=clock,
    )
    wallet = wallets.wallet_of(db, student.id)

    page = admin_money.wallet_ledger(db=db, actor=admin, wallet_id=wallet.id, page_size=1)

    assert (page.total, page.balance_cents, page.entries[0].kind) == (2, 900, EntryKind.ADJUSTMENT)
    with pytest.raises(NotFound):
        admin_money.wallet_ledger(db=db, actor=admin, wallet_id=999_999)


# --- money at a glance -------


def test_money_overview_adds_up_and_is_balanced(db, clock):
    admin = make_admin(db, clock=clock)
    teacher = make_teacher(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=5_000)
    paid = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=1_200
    )
    enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=clock)
    admin_money.adjust_wallet(
        db=db, actor=admin, user_id=teacher.id, direction="credit", amount_cents=300, reason="Bonus"
    )

    seen = admin_money.money_overview(db=db, actor=admin)

    assert (seen.users_cents, seen.escrow_cents, seen.platform_cents, seen.topups_cents) == (
        5_000 - 1_200 + 300,
        1_200,
        -300,
        5_000,
    )
    assert (seen.payouts_held_cents, seen.paid_out_cents) == (0, 0)
    assert seen.balanced and seen.gaps == []
    assert {c.name: c.difference_cents for c in seen.checks} == {
        "wallets_total": 0,
        "escrow": 0,
        "payouts": 0,
    }


def test_money_overview_shows_a_wallet_whose_balance_is_not_its_ledger(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=1_000)
    wallet = wallets.wallet_of(db, student.id)
    db.execute(update(Wallet).where(Wallet.id == wallet.id).values(balance_cents=1_250))
    db.commit()

    seen = admin_money.money_overview(db=db, actor=admin)

    assert not seen.balanced
    assert [(g.wallet_id, g.balance_cents, g.ledger_cents) for g in seen.gaps] == [
        (wallet.id, 1_250, 1_000)
    ]
    assert {c.name: c.difference_cents for c in seen.checks}["wallets_total"] == 250


# --- sessions -------


def test_an_admin_lists_every_teachers_sessions_by_status_and_text(db, clock):
    admin = make_admin(db, clock=clock)
    ana, bo = make_teacher(db, clock=clock, full_name="Ana Ruiz"), make_teacher(db, clock=clock)
    make_session(db, teacher=ana, clock=clock, title="Chemistry basics")
    make_session(db, teacher=bo, clock=clock, publish=True, title="Physics lab")

    everything = admin_sessions.list_sessions(db=db, actor=admin, clock=clock)
    drafts = admin_sessions.list_sessions(db=db, actor=admin, status="draft", clock=clock)
    by_teacher = admin_sessions.list_sessions(db=db, actor=admin, q="ana ruiz", clock=clock)
    clock.advance(days=3)
    finished = admin_sessions.list_sessions(db=db, actor=admin, status="finished", clock=clock)

    assert everything.total == 2
    assert [s.title for s in drafts.items] == ["Chemistry basics"]
    assert [s.teacher_name for s in by_teacher.items] == ["Ana Ruiz"]
    assert [s.title for s in finished.items] == ["Physics lab"]
    with pytest.raises(InvalidInput):
        admin_sessions.list_sessions(db=db, actor=admin, status="lost")


def test_an_admin_cancels_any_session_with_the_normal_refunds(db, clock):
    admin = make_admin(db, clock=clock)
    teacher = make_teacher(db, clock=clock)
    student = make_funded_student(db, clock=clock, amount_cents=2_000)
    paid = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=800
    )
    enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=clock)

    done = admin_sessions.cancel_session(
        db=db, actor=admin, video_session_id=paid.id, reason="Reported content", clock=clock
    )

    assert (done.refunded_count, done.refunded_cents) == (1, 800)
    assert wallets.balance_of(db, student.id) == 2_000
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session.cancelled")).one()
    assert (event.actor_id, event.target_id) == (admin.id, paid.id)
    assert_ledger_invariants(db)
    with pytest.raises(Conflict):  # a second cancel refunds nothing twice
        admin_sessions.cancel_session(db=db, actor=admin, video_session_id=paid.id, reason="Again")
    with pytest.raises(NotFound):
        admin_sessions.cancel_session(db=db, actor=admin, video_session_id=999_999, reason="Gone")


# --- audit log -------


def test_the_audit_log_filters_and_pages_newest_first(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)
    clock.advance(hours=1)
    admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="Fraud", clock=clock)
    clock.advance(hours=1)
    admin_users.restore_user(db=db, actor=admin, user_id=student.id, clock=clock)
    F = admin_audit.AuditFilters

    mine = admin_audit.list_audit(db=db, actor=admin, filters=F(actor_email=admin.email.upper()))
    admin_only = admin_audit.list_audit(db=db, actor=admin, filters=F(action="admin."))
    on_student = admin_audit.list_audit(
        db=db, actor=admin, filters=F(target_type="user", target_id=student.id)
    )
    window = admin_audit.list_audit(
        db=db,
        actor=admin,
        filters=F(
            date_from=clock() - timedelta(minutes=90), date_to=clock() - timedelta(minutes=30)
        ),
    )

    assert [e.action for e in mine.items] == ["admin.user_restored", "admin.user_suspended"]
    assert admin_only.total == 3  # created, suspended, restored
    assert [e.action for e in on_student.items][:2] == [
        "admin.user_restored",
        "admin.user_suspended",
    ]
    assert [e.action for e in window.items] == ["admin.user_suspended"]
    assert admin_audit.list_audit(db=db, actor=admin, filters=F(), page_size=2).pages >= 2
    with pytest.raises(InvalidInput):
        admin_audit.list_audit(db=db, actor=admin, filters=F(date_from=clock(), date_to=clock()))


def test_the_audit_csv_holds_the_filtered_rows_and_no_formulas(db, clock):
    admin = make_admin(db, clock=clock)
    student = make_student(db, clock=clock)
    admin_users.suspend_user(db=db, actor=admin, user_id=student.id, reason="=HYPERLINK(1)")

    text = admin_audit.export_csv(
        db=db, actor=admin, filters=admin_audit.AuditFilters(action="admin.user_suspended")
    )

    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == admin_audit.CSV_COLUMNS
    assert len(rows) == 2
    assert rows[1][3:7] == [admin.email, "admin.user_suspended", "user", str(student.id)]
    assert '"reason": "=HYPERLINK(1)"' in rows[1][7]


def test_an_export_grant_opens_the_csv_for_its_login_only_while_it_lives(db, clock):
    admin = make_admin(db, clock=clock)
    token = login(db, admin)
    grant = admin_audit.sign_export(db=db, token=token)

    assert admin_audit.user_for_export_grant(db=db, grant=grant).id == admin.id
    login_id, expires, signature = grant.split(".")
    for forged in (f"{login_id}.{int(expires) + 60}.{signature}", "1.2", "x.y.z", grant + "A"):
        with pytest.raises(NotAuthenticated):
            admin_audit.user_for_export_grant(db=db, grant=forged)
    accounts.logout(db=db, token=token)
    with pytest.raises(NotAuthenticated):
        admin_audit.user_for_export_grant(db=db, grant=grant)


def test_the_platform_wallet_exists_once_from_the_migrations(db):
    kinds = db.exec(select(Wallet.kind).where(Wallet.user_id.is_(None))).all()
    assert sorted(kinds) == sorted([WalletKind.ESCROW, WalletKind.PAYOUTS, WalletKind.PLATFORM])
