"""Accounts: registration rules, login and its throttling, tokens, preferences, roles."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.factories import (
    STRONG_PASSWORD,
    audit_actions,
    make_student,
    make_teacher,
    table_counts,
    unique_email,
)
from visio.models import AuditEvent, AuthSession, LoginFailure, Role, User, Wallet, WalletKind
from visio.services import accounts, passwords, wallets
from visio.services.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    Throttled,
)
from visio.settings import settings


def register(db, clock, **overrides):
    values = {
        "full_name": "Ada Lovelace",
        "email": unique_email("ada"),
        "password": STRONG_PASSWORD,
        "role": Role.STUDENT,
    }
    values.update(overrides)
    return accounts.register(db=db, clock=clock, **values)


# --- register -------------------------------------------------------------------------------


def test_register_creates_the_user_an_empty_wallet_and_an_audit_event(db, clock):
    user = register(db, clock, full_name="  Ada   Lovelace ", email="  Ada@Example.ORG ")

    stored = db.get(User, user.id)
    assert stored.email == "ada@example.org"
    assert stored.full_name == "Ada Lovelace"
    assert stored.role == Role.STUDENT
    assert stored.created_at == clock()
    assert stored.password_hash != STRONG_PASSWORD
    assert passwords.verify_password(STRONG_PASSWORD, stored.password_hash)

    wallet = wallets.wallet_of(db, user.id)
    assert (wallet.kind, wallet.balance_cents, wallet.currency) == (
        WalletKind.USER,
        0,
        settings.currency,
    )
    event = db.exec(select(AuditEvent).where(AuditEvent.actor_id == user.id)).one()
    assert (event.action, event.target_type, event.target_id) == (
        "user.registered",
        "user",
        user.id,
    )
    assert event.data == {"role": "student"}


def test_register_a_teacher_keeps_the_teacher_role(db, clock):
    user = register(db, clock, role=Role.TEACHER)
    assert db.get(User, user.id).role == Role.TEACHER


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"full_name": "A"}, "full_name_too_short", "full_name"),
        ({"full_name": "   A   "}, "full_name_too_short", "full_name"),
        ({"full_name": "x" * 121}, "full_name_too_long", "full_name"),
        ({"email": "no-at-sign.example.org"}, "email_invalid", "email"),
        ({"email": "ada@localhost"}, "email_invalid", "email"),
        ({"email": "ada lovelace@example.org"}, "email_invalid", "email"),
        ({"email": "ada@example.c"}, "email_invalid", "email"),
        ({"email": ""}, "email_invalid", "email"),
        ({"email": "a" * 250 + "@example.org"}, "email_invalid", "email"),
        ({"role": "admin"}, "role_invalid", "role"),
        ({"role": ""}, "role_invalid", "role"),
        ({"password": "Sh0rt-pw!"}, "password_too_short", "password"),
        ({"password": "x" * 257 + "Y1"}, "password_too_long", "password"),
        ({"password": "1234567890"}, "password_common", "password"),
        ({"password": "abababababab"}, "password_common", "password"),
        (
            {"email": "grace.hopper@example.org", "password": "Grace.Hopper@Example.org"},
            "password_like_identity",
            "password",
        ),
        (
            {"email": "grace.hopper@example.org", "password": "grace.hopper"},
            "password_like_identity",
            "password",
        ),
    ],
)
def test_register_with_bad_input_is_refused_and_writes_nothing(db, clock, overrides, code, field):
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        register(db, clock, **overrides)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert table_counts(db) == before


def test_register_accepts_names_of_exactly_two_and_120_characters(db, clock):
    assert register(db, clock, full_name="Al").full_name == "Al"
    assert register(db, clock, full_name="x" * 120).full_name == "x" * 120


def test_register_with_duplicate_email_is_refused_whatever_its_case(db, clock):
    register(db, clock, email="Grace@Example.org")
    before = table_counts(db)

    with pytest.raises(Conflict) as refused:
        register(db, clock, email="  grace@EXAMPLE.ORG", full_name="Grace Again")

    assert (refused.value.code, refused.value.field) == ("email_taken", "email")
    assert table_counts(db) == before


# --- login ----------------------------------------------------------------------------------


def test_login_returns_a_token_stored_only_as_its_sha256(db, clock):
    user = register(db, clock, email="linus@example.org")

    result = accounts.login(
        db=db, email=" LINUS@example.org", password=STRONG_PASSWORD, clock=clock
    )

    assert result.user.id == user.id
    stored = db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
    assert stored.token_hash == hashlib.sha256(result.token.encode()).hexdigest()
    assert result.token not in {row.token_hash for row in db.exec(select(AuthSession)).all()}
    assert stored.expires_at == clock() + timedelta(hours=settings.token_ttl_hours)
    assert stored.revoked_at is None
    assert audit_actions(db, actor_id=user.id) == ["user.registered", "user.logged_in"]
    assert accounts.user_for_token(db=db, token=result.token, clock=clock).id == user.id


def test_login_twice_gives_two_different_tokens(db, clock):
    user = register(db, clock)
    first = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock)
    second = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock)
    assert first.token != second.token


def test_login_with_wrong_password_or_unknown_email_gives_the_same_error(db, clock):
    user = register(db, clock)

    with pytest.raises(InvalidCredentials) as wrong_password:
        accounts.login(db=db, email=user.email, password="Not-The-Password-1", clock=clock)
    with pytest.raises(InvalidCredentials) as unknown_email:
        accounts.login(db=db, email=unique_email(), password=STRONG_PASSWORD, clock=clock)

    assert wrong_password.value.code == unknown_email.value.code == "invalid_credentials"
    assert wrong_password.value.params == unknown_email.value.params == {}
    assert wrong_password.value.field == unknown_email.value.field is None
    assert db.exec(select(AuthSession)).all() == []


def test_login_is_throttled_after_too_many_failures_then_works_after_the_window(db, clock):
    user = register(db, clock)
    for _ in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            accounts.login(db=db, email=user.email, password="Wrong-Password-9", clock=clock)
        clock.advance(seconds=10)

    # Even the right password is refused while the failures are recent.
    with pytest.raises(Throttled) as throttled:
        accounts.login(db=db, email=user.email.upper(), password=STRONG_PASSWORD, clock=clock)
    assert throttled.value.code == "too_many_attempts"
    assert throttled.value.params == {"minutes": settings.login_window_minutes}
    assert db.exec(select(AuthSession)).all() == []

    clock.advance(minutes=settings.login_window_minutes)
    assert accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token
    # A success forgets the failures of that email.
    assert db.exec(select(LoginFailure).where(LoginFailure.email == user.email)).all() == []


def test_login_failures_below_the_limit_do_not_throttle(db, clock):
    user = register(db, clock)
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(InvalidCredentials):
            accounts.login(db=db, email=user.email, password="Wrong-Password-9", clock=clock)
    assert accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token


def test_throttling_one_email_leaves_other_emails_alone(db, clock):
    victim, other = register(db, clock), register(db, clock)
    for _ in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            accounts.login(db=db, email=victim.email, password="Wrong-Password-9", clock=clock)
    with pytest.raises(Throttled):
        accounts.login(db=db, email=victim.email, password=STRONG_PASSWORD, clock=clock)
    assert accounts.login(db=db, email=other.email, password=STRONG_PASSWORD, clock=clock).token


# --- tokens ---------------------------------------------------------------------------------


def test_user_for_token_is_none_once_the_token_expired(db, clock):
    user = register(db, clock)
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token

    clock.advance(hours=settings.token_ttl_hours, seconds=-1)
    assert accounts.user_for_token(db=db, token=token, clock=clock).id == user.id
    clock.advance(seconds=1)
    assert accounts.user_for_token(db=db, token=token, clock=clock) is None


def test_user_for_token_is_none_after_logout(db, clock):
    user = register(db, clock)
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token

    accounts.logout(db=db, token=token, clock=clock)

    assert accounts.user_for_token(db=db, token=token, clock=clock) is None
    stored = db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
    assert stored.revoked_at == clock()
    assert audit_actions(db, actor_id=user.id)[-1] == "user.logged_out"
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(db=db, token=token, clock=clock)


def test_user_and_balance_reads_both_for_a_live_token_only(db, clock):
    user = register(db, clock)
    token = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token
    wallets.top_up(db=db, actor=user, amount_cents=2_500, clock=clock)

    found, balance = accounts.user_and_balance(db=db, token=token, clock=clock)
    assert (found.id, balance) == (user.id, 2_500)
    assert accounts.user_and_balance(db=db, token="not-a-token", clock=clock) is None
    assert accounts.user_and_balance(db=db, token="", clock=clock) is None
    accounts.logout(db=db, token=token, clock=clock)
    assert accounts.user_and_balance(db=db, token=token, clock=clock) is None


def test_logout_revokes_only_its_own_token(db, clock):
    user = register(db, clock)
    kept = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token
    dropped = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, clock=clock).token

    accounts.logout(db=db, token=dropped, clock=clock)

    assert accounts.user_for_token(db=db, token=kept, clock=clock).id == user.id


@pytest.mark.parametrize("token", [None, "", "not-a-token-anyone-was-given"])
def test_user_for_token_is_none_for_a_missing_or_unknown_token(db, clock, token):
    register(db, clock)
    assert accounts.user_for_token(db=db, token=token, clock=clock) is None
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(db=db, token=token, clock=clock)


def test_logout_of_an_unknown_token_changes_nothing(db, clock):
    register(db, clock)
    before = table_counts(db)
    accounts.logout(db=db, token="never-issued", clock=clock)
    assert table_counts(db) == before


# --- preferences and roles ------------------------------------------------------------------


def test_update_preferences_stores_locale_and_timezone(db, clock):
    user = register(db, clock)

    accounts.update_preferences(
        db=db, actor=user, locale="en", timezone="America/Montreal", clock=clock
    )

    stored = db.get(User, user.id)
    assert (stored.locale, stored.timezone) == ("en", "America/Montreal")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.preferences_changed")).one()
    assert event.data == {"locale": "en", "timezone": "America/Montreal"}


def test_update_preferences_with_none_leaves_values_as_they_were(db, clock):
    user = register(db, clock)
    accounts.update_preferences(
        db=db, actor=user, locale="fr", timezone="Europe/Paris", clock=clock
    )

    accounts.update_preferences(db=db, actor=user, locale=None, timezone=None, clock=clock)

    stored = db.get(User, user.id)
    assert (stored.locale, stored.timezone) == ("fr", "Europe/Paris")
    assert audit_actions(db).count("user.preferences_changed") == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"locale": "de"}, "locale_invalid"),
        ({"locale": ""}, "locale_invalid"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone_invalid"),
        ({"timezone": "../../etc/passwd"}, "timezone_invalid"),
        ({"locale": "en", "timezone": "Nowhere"}, "timezone_invalid"),
    ],
)
def test_update_preferences_with_bad_values_is_refused_and_changes_nothing(
    db, clock, changes, code
):
    user = register(db, clock)
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        accounts.update_preferences(db=db, actor=user, clock=clock, **changes)

    assert refused.value.code == code
    assert table_counts(db) == before
    db.expire_all()
    stored = db.get(User, user.id)
    assert (stored.locale, stored.timezone) == (None, None)


def test_require_role_accepts_the_right_role_and_refuses_others(db, clock):
    teacher, student = make_teacher(db, clock=clock), make_student(db, clock=clock)

    assert accounts.require_role(teacher, Role.TEACHER) is teacher
    assert accounts.require_role(student, Role.STUDENT) is student
    with pytest.raises(Forbidden) as refused:
        accounts.require_role(student, Role.TEACHER)
    assert (refused.value.code, refused.value.params) == ("wrong_role", {"role": Role.TEACHER})
    with pytest.raises(NotAuthenticated):
        accounts.require_role(None, Role.STUDENT)


def test_every_account_has_exactly_one_wallet_and_the_escrow_exists(db, clock):
    users = [make_teacher(db, clock=clock), make_student(db, clock=clock)]
    owners = db.exec(select(Wallet.user_id).where(Wallet.kind == WalletKind.USER)).all()
    assert sorted(owners) == sorted(u.id for u in users)
    assert len(db.exec(select(Wallet).where(Wallet.kind == WalletKind.ESCROW)).all()) == 1
