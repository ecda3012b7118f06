"""Accounts: registration rules, login and its throttling, tokens, preferences, roles."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
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
from visio.models import (
    AuditEvent,
    AuthSession,
    KnownAddress,
    RateCounter,
    Role,
    User,
    Wallet,
    WalletKind,
)
from visio.services import accounts, passwords, rate_limits, wallets
from visio.services.errors import (
    Busy,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    Throttled,
)
from visio.settings import Settings, settings

ADDRESS = "203.0.113.7"  # the client's address, as the API and the pages pass it


def register(db, clock, **overrides):
    """A new account (the `user` of the registration)."""
    values = {
        "full_name": "Ada Lovelace",
        "email": unique_email("ada"),
        "password": STRONG_PASSWORD,
        "role": Role.STUDENT,
        "address": ADDRESS,
    }
    values.update(overrides)
    return accounts.register(db=db, clock=clock, **values).user


def login(db, clock, email, password=STRONG_PASSWORD, address=ADDRESS):
    return accounts.login(db=db, email=email, password=password, address=address, clock=clock)


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


def test_register_with_a_taken_email_answers_as_for_a_new_one_and_creates_nothing(db, clock):
    owner = register(db, clock, email="Grace@Example.org", full_name="Grace Hopper")
    before = table_counts(db)

    again = accounts.register(
        db=db,
        full_name=" Grace  Again ",
        email="  grace@EXAMPLE.ORG",
        password="Another-Harbour-Lantern-7",
        role=Role.TEACHER,
        address=ADDRESS,
        clock=clock,
    )
    new = accounts.register(
        db=db,
        full_name="Grace Again",
        email="grace.new@example.org",
        password="Another-Harbour-Lantern-7",
        role=Role.TEACHER,
        address=ADDRESS,
        clock=clock,
    )

    # What a caller can see is the same shape, made of what was typed, never of the account.
    assert (again.email, again.full_name, again.role) == (
        "grace@example.org",
        "Grace Again",
        "teacher",
    )
    assert again.user is None and new.user is not None
    after = table_counts(db)
    assert after["users"] == before["users"] + 1  # only the new email made an account
    stored = db.get(User, owner.id)
    assert (stored.full_name, stored.role) == ("Grace Hopper", "student")
    assert passwords.verify_password(STRONG_PASSWORD, stored.password_hash)
    # The owner's account keeps a trace of the attempt, for the mail that will tell them.
    assert audit_actions(db, target_id=owner.id, target_type="user")[-1] == (
        "user.registration_attempted"
    )


def test_register_with_a_taken_email_costs_a_password_hash_too(db, clock, monkeypatch):
    taken = register(db, clock).email
    hashed = []
    real_hash = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda pw: hashed.append(pw) or real_hash(pw))

    register(db, clock, email=taken, password="Another-Harbour-Lantern-7")
    register(db, clock, password="Another-Harbour-Lantern-7")

    assert hashed == ["Another-Harbour-Lantern-7"] * 2


def test_registrations_are_throttled_per_client_address(db, clock, monkeypatch):
    monkeypatch.setattr(accounts, "settings", replace(settings, register_max_per_address=3))
    for _ in range(3):
        register(db, clock)
    before = table_counts(db)

    with pytest.raises(Throttled) as throttled:
        register(db, clock)

    assert throttled.value.code == "too_many_attempts"
    assert 1 <= throttled.value.params["minutes"] <= settings.rate_window_minutes
    assert table_counts(db) == before
    assert register(db, clock, address="198.51.100.2") is not None  # another school
    clock.advance(minutes=settings.rate_window_minutes)
    assert register(db, clock) is not None


@pytest.mark.parametrize(
    "password",
    ["Password1!", "P@ssw0rd2024", "Summer2024!", "!!Football!!", "Azerty123456", "M0nkey!!2024"],
)
def test_register_refuses_common_passwords_dressed_up_with_case_digits_and_leetspeak(
    db, clock, password
):
    with pytest.raises(InvalidInput) as refused:
        register(db, clock, password=password)
    assert (refused.value.code, refused.value.field) == ("password_common", "password")


def test_register_refuses_passwords_easy_to_guess_that_no_list_holds(db, clock):
    with pytest.raises(InvalidInput) as refused:
        register(db, clock, password="zxcvbnmasdfg")  # a keyboard walk
    assert (refused.value.code, refused.value.field) == ("password_weak", "password")


@pytest.mark.parametrize(
    "password", [STRONG_PASSWORD, "visio-demo-2026", "Tr0ub4dor&3-Horse", "k" + "Qz7-" * 60]
)
def test_register_accepts_strong_passwords_long_ones_included(db, clock, password):
    assert register(db, clock, password=password) is not None


# --- login ----------------------------------------------------------------------------------


def test_login_returns_a_token_stored_only_as_its_sha256(db, clock):
    user = register(db, clock, email="linus@example.org")

    result = login(db, clock, " LINUS@example.org")

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
    assert login(db, clock, user.email).token != login(db, clock, user.email).token


def test_login_with_wrong_password_or_unknown_email_gives_the_same_error(db, clock):
    user = register(db, clock)

    with pytest.raises(InvalidCredentials) as wrong_password:
        login(db, clock, user.email, "Not-The-Password-1")
    with pytest.raises(InvalidCredentials) as unknown_email:
        login(db, clock, unique_email())

    assert wrong_password.value.code == unknown_email.value.code == "invalid_credentials"
    assert wrong_password.value.params == unknown_email.value.params == {}
    assert wrong_password.value.field == unknown_email.value.field is None
    assert db.exec(select(AuthSession)).all() == []


def test_login_with_an_over_long_password_is_refused_before_any_work(db, clock, monkeypatch):
    user = register(db, clock)
    monkeypatch.setattr(passwords, "verify_password", lambda *_: pytest.fail("hashed"))
    before = table_counts(db)

    with pytest.raises(InvalidInput) as refused:
        login(db, clock, user.email, "x" * 5000)

    assert (refused.value.code, refused.value.field) == ("password_too_long", "password")
    assert refused.value.params == {"max": passwords.MAX_LENGTH}
    assert table_counts(db) == before  # not even counted as an attempt


def test_login_is_throttled_after_too_many_failures_then_works_after_the_window(db, clock):
    user = register(db, clock)
    for _ in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            login(db, clock, user.email, "Wrong-Password-9")
        clock.advance(seconds=10)

    # From the same address, even the right password is refused while the failures are recent.
    with pytest.raises(Throttled) as throttled:
        login(db, clock, user.email.upper())
    assert throttled.value.code == "too_many_attempts"
    assert 1 <= throttled.value.params["minutes"] <= settings.rate_window_minutes
    assert db.exec(select(AuthSession)).all() == []

    clock.advance(minutes=settings.rate_window_minutes)
    assert login(db, clock, user.email).token


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(db, clock):
    user = register(db, clock)
    for _ in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            login(db, clock, user.email, "Wrong-Password-9", address="192.0.2.66")
    with pytest.raises(Throttled):
        login(db, clock, user.email, address="192.0.2.66")

    assert login(db, clock, user.email, address="198.51.100.9").token


def test_a_success_forgets_the_failures_of_its_address_and_email(db, clock):
    user = register(db, clock)
    for _ in range(3):
        for _ in range(settings.login_max_failures - 1):
            with pytest.raises(InvalidCredentials):
                login(db, clock, user.email, "Wrong-Password-9")
        assert login(db, clock, user.email).token


def test_failures_below_the_limit_and_successes_do_not_throttle(db, clock, monkeypatch):
    monkeypatch.setattr(accounts, "settings", replace(settings, login_max_per_address=3))
    user = register(db, clock)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            login(db, clock, user.email, "Wrong-Password-9")
    for _ in range(10):  # a class logging in from one address: successes cost nothing
        assert login(db, clock, user.email).token


def test_one_address_failing_on_many_emails_is_throttled(db, clock, monkeypatch):
    monkeypatch.setattr(accounts, "settings", replace(settings, login_max_per_address=3))
    user = register(db, clock)
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            login(db, clock, unique_email("guess"), "Wrong-Password-9")

    with pytest.raises(Throttled):
        login(db, clock, user.email)
    assert login(db, clock, user.email, address="198.51.100.9").token


def test_the_per_email_limit_refuses_new_addresses_but_never_the_owners_known_one(db, clock):
    user = register(db, clock)
    assert login(db, clock, user.email, address="198.51.100.1").token  # the owner, at home
    attackers = [f"192.0.2.{n}" for n in range(1, 5)]
    per_address = settings.login_max_per_email // len(attackers)
    assert per_address <= settings.login_max_failures
    for attacker in attackers:
        for _ in range(per_address):
            with pytest.raises(InvalidCredentials):
                login(db, clock, user.email, "Wrong-Password-9", address=attacker)

    with pytest.raises(Throttled):  # even the right password, from an address never used
        login(db, clock, user.email, address="192.0.2.99")
    with pytest.raises(Throttled):  # an unknown email behaves the same: nothing is revealed
        login(db, clock, user.email, "Wrong-Password-9", address="192.0.2.98")
    assert login(db, clock, user.email, address="198.51.100.1").token


def test_throttling_one_email_leaves_other_emails_alone(db, clock):
    victim, other = register(db, clock), register(db, clock)
    for _ in range(settings.login_max_failures):
        with pytest.raises(InvalidCredentials):
            login(db, clock, victim.email, "Wrong-Password-9")
    with pytest.raises(Throttled):
        login(db, clock, victim.email)
    assert login(db, clock, other.email).token


def test_rate_limits_off_lets_every_attempt_through(db, clock, monkeypatch):
    monkeypatch.setattr(rate_limits, "settings", replace(settings, rate_limits="off"))
    user = register(db, clock)
    for _ in range(settings.login_max_failures * 2):
        with pytest.raises(InvalidCredentials):
            login(db, clock, user.email, "Wrong-Password-9")
    assert login(db, clock, user.email).token
    assert db.exec(select(RateCounter)).all() == []


def test_production_refuses_rate_limits_off(monkeypatch):
    monkeypatch.setenv("VISIO_RATE_LIMITS", "off")
    assert not Settings().rate_limits_on  # a load test, in development
    monkeypatch.setenv("VISIO_ENV", "production")
    with pytest.raises(ValueError, match="VISIO_RATE_LIMITS=off"):
        Settings()
    monkeypatch.setenv("VISIO_RATE_LIMITS", "no")
    with pytest.raises(ValueError, match="on or off"):
        Settings()


def test_purging_drops_ended_windows_and_addresses_not_seen_for_long(db, clock):
    user = register(db, clock)
    assert login(db, clock, user.email, address="198.51.100.1").token
    with pytest.raises(InvalidCredentials):
        login(db, clock, user.email, "Wrong-Password-9")
    assert rate_limits.purge(db=db, clock=clock) == 0
    assert accounts.forget_old_addresses(db=db, clock=clock) == 0

    clock.advance(minutes=2 * settings.rate_window_minutes, seconds=1)  # a window later
    assert login(db, clock, user.email, address="198.51.100.2").token  # seen later
    assert rate_limits.purge(db=db, clock=clock) > 0
    assert {row.window_index for row in db.exec(select(RateCounter)).all()} == {
        int(clock().timestamp()) // (settings.rate_window_minutes * 60)
    }
    clock.advance(days=settings.known_address_days, seconds=-1)
    assert accounts.forget_old_addresses(db=db, clock=clock) == 1
    assert len(db.exec(select(KnownAddress)).all()) == 1


def test_hashing_waits_for_a_free_slot_and_answers_busy_when_none_frees(monkeypatch):
    monkeypatch.setattr(passwords, "settings", replace(settings, hash_wait_seconds=0))
    monkeypatch.setattr(passwords, "_hashing_slots", threading.BoundedSemaphore(1))
    passwords._hashing_slots.acquire()  # another request is hashing
    try:
        with pytest.raises(Busy):
            passwords.hash_password(STRONG_PASSWORD)
    finally:
        passwords._hashing_slots.release()
    assert passwords.verify_password(STRONG_PASSWORD, passwords.hash_password(STRONG_PASSWORD))


# --- tokens ---------------------------------------------------------------------------------


def test_user_for_token_is_none_once_the_token_expired(db, clock):
    user = register(db, clock)
    token = login(db, clock, user.email).token

    clock.advance(hours=settings.token_ttl_hours, seconds=-1)
    assert accounts.user_for_token(db=db, token=token, clock=clock).id == user.id
    clock.advance(seconds=1)
    assert accounts.user_for_token(db=db, token=token, clock=clock) is None


def test_user_for_token_is_none_after_logout(db, clock):
    user = register(db, clock)
    token = login(db, clock, user.email).token

    accounts.logout(db=db, token=token, clock=clock)

    assert accounts.user_for_token(db=db, token=token, clock=clock) is None
    stored = db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
    assert stored.revoked_at == clock()
    assert audit_actions(db, actor_id=user.id)[-1] == "user.logged_out"
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(db=db, token=token, clock=clock)


def test_user_and_balance_reads_both_for_a_live_token_only(db, clock):
    user = register(db, clock)
    token = login(db, clock, user.email).token
    wallets.top_up(db=db, actor=user, amount_cents=2_500, clock=clock)

    found, balance = accounts.user_and_balance(db=db, token=token, clock=clock)
    assert (found.id, balance) == (user.id, 2_500)
    assert accounts.user_and_balance(db=db, token="not-a-token", clock=clock) is None
    assert accounts.user_and_balance(db=db, token="", clock=clock) is None
    accounts.logout(db=db, token=token, clock=clock)
    assert accounts.user_and_balance(db=db, token=token, clock=clock) is None


def test_logout_revokes_only_its_own_token(db, clock):
    user = register(db, clock)
    kept = login(db, clock, user.email).token
    dropped = login(db, clock, user.email).token

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
