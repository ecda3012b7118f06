"""Password recovery: the same answer for every email, a hashed single-use token valid one hour,
every login revoked by a reset, and requests throttled."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import STRONG_PASSWORD, make_student, table_counts
from visio.models import AuthSession, Notice, PasswordReset
from visio.services import accounts
from visio.services.errors import InvalidCredentials, InvalidInput, Throttled

NEW_PASSWORD = "Amber-Quarry-Whistle-77"


def mailed_token(db, email: str) -> str:  # type: ignore[no-untyped-def]
    """The raw token of the newest reset mail waiting for `email` in the outbox."""
    db.rollback()
    notice = db.exec(
        select(Notice).where(Notice.email == email).order_by(Notice.id.desc())  # type: ignore[union-attr]
    ).first()
    assert notice is not None and notice.kind == "password_reset"
    return notice.data["token"]


def test_known_and_unknown_emails_get_the_same_answer(db, clock):
    student = make_student(db, clock=clock)
    before = table_counts(db) | {"rate_counters": 2}  # the request counted, nothing else

    unknown = accounts.request_password_reset(
        db=db, email="nobody@example.org", address="10.0.0.1", clock=clock
    )
    assert table_counts(db) == before  # nothing stored, nothing mailed
    known = accounts.request_password_reset(
        db=db, email=student.email.upper(), address="10.0.0.1", clock=clock
    )

    assert unknown is None and known is None
    assert db.exec(select(Notice.email)).all() == [student.email]


def test_the_token_is_stored_hashed_and_mailed_raw(db, clock):
    student = make_student(db, clock=clock)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)

    token = mailed_token(db, student.email)
    [stored] = db.exec(select(PasswordReset)).all()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.model_dump_json()
    assert stored.expires_at == clock() + timedelta(hours=1)


def test_a_reset_sets_the_password_and_revokes_every_login(db, clock):
    student = make_student(db, clock=clock)
    phone = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    laptop = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)

    accounts.reset_password(
        db=db, token=mailed_token(db, student.email), password=NEW_PASSWORD, clock=clock
    )

    assert accounts.user_for_token(db=db, token=phone.token) is None
    assert accounts.user_for_token(db=db, token=laptop.token) is None
    assert db.exec(select(AuthSession.revoked_at)).all() == [clock(), clock()]
    with pytest.raises(InvalidCredentials):
        accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    assert accounts.login(db=db, email=student.email, password=NEW_PASSWORD, address=None)


def test_a_token_works_once(db, clock):
    student = make_student(db, clock=clock)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)
    token = mailed_token(db, student.email)
    accounts.reset_password(db=db, token=token, password=NEW_PASSWORD, clock=clock)

    with pytest.raises(InvalidInput) as refused:
        accounts.reset_password(db=db, token=token, password="Other-Lighthouse-88", clock=clock)

    assert refused.value.code == "reset_token_invalid"
    assert accounts.login(db=db, email=student.email, password=NEW_PASSWORD, address=None)


def test_a_reset_spends_the_accounts_other_links(db, clock):
    student = make_student(db, clock=clock)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)
    first = mailed_token(db, student.email)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)
    accounts.reset_password(
        db=db, token=mailed_token(db, student.email), password=NEW_PASSWORD, clock=clock
    )

    with pytest.raises(InvalidInput, match="reset_token_invalid"):
        accounts.reset_password(db=db, token=first, password="Other-Lighthouse-88", clock=clock)


def test_a_token_expires_after_one_hour(db, clock):
    student = make_student(db, clock=clock)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)
    token = mailed_token(db, student.email)

    clock.advance(hours=1)
    with pytest.raises(InvalidInput) as refused:
        accounts.reset_password(db=db, token=token, password=NEW_PASSWORD, clock=clock)
    assert refused.value.code == "reset_token_expired"

    clock.advance(minutes=-1)  # a minute before: still good
    accounts.reset_password(db=db, token=token, password=NEW_PASSWORD, clock=clock)


@pytest.mark.parametrize("token", ["", "made-up", "x" * 500])
def test_an_unknown_token_is_refused(db, clock, token):
    with pytest.raises(InvalidInput) as refused:
        accounts.reset_password(db=db, token=token, password=NEW_PASSWORD, clock=clock)
    assert (refused.value.code, refused.value.field) == ("reset_token_invalid", "token")


def test_a_weak_new_password_is_refused_and_the_link_still_works(db, clock):
    student = make_student(db, clock=clock)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)
    token = mailed_token(db, student.email)

    with pytest.raises(InvalidInput) as refused:
        accounts.reset_password(db=db, token=token, password="short", clock=clock)

    assert refused.value.field == "password"
    accounts.reset_password(db=db, token=token, password=NEW_PASSWORD, clock=clock)


def test_requests_are_throttled_per_email_whether_it_has_an_account_or_not(db, clock):
    student = make_student(db, clock=clock)
    limit = accounts.settings.reset_max_per_email
    for email in (student.email, "nobody@example.org"):
        for n in range(limit):
            accounts.request_password_reset(db=db, email=email, address=f"10.0.1.{n}", clock=clock)
        with pytest.raises(Throttled):
            accounts.request_password_reset(db=db, email=email, address="10.0.2.1", clock=clock)

    assert len(db.exec(select(Notice)).all()) == limit
    clock.advance(minutes=accounts.settings.rate_window_minutes)
    accounts.request_password_reset(db=db, email=student.email, address="10.0.2.1", clock=clock)


def test_requests_are_throttled_per_address(db, clock):
    limit = accounts.settings.reset_max_per_address
    for n in range(limit):
        accounts.request_password_reset(
            db=db, email=f"someone{n}@example.org", address="10.9.9.9", clock=clock
        )
    with pytest.raises(Throttled):
        accounts.request_password_reset(
            db=db, email="another@example.org", address="10.9.9.9", clock=clock
        )


def _race_one_token(engine, token: str, clock) -> list[object]:  # type: ignore[no-untyped-def]
    """Two resets with the same token at the same moment, each in its own connection."""
    passwords_tried = [NEW_PASSWORD, "Other-Lighthouse-88"]
    barrier = threading.Barrier(len(passwords_tried))
    outcomes: list[object] = []

    def reset(password: str) -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                accounts.reset_password(db=own, token=token, password=password, clock=clock)
                outcomes.append(password)
            except Exception as error:  # the refusal is the outcome under test
                outcomes.append(error)

    threads = [threading.Thread(target=reset, args=(p,)) for p in passwords_tried]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_resets_racing_with_one_token_let_exactly_one_win(database, request, clock):
    engine = request.getfixturevalue("engine" if database == "sqlite" else "pg_engine")
    with Session(engine, expire_on_commit=False) as db:
        student = make_student(db, clock=clock)
        accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)
        token = mailed_token(db, student.email)

    outcomes = _race_one_token(engine, token, clock)

    winners = [o for o in outcomes if isinstance(o, str)]
    refusals = [o for o in outcomes if not isinstance(o, str)]
    assert len(winners) == 1, outcomes
    assert len(refusals) == 1 and getattr(refusals[0], "code", None) == "reset_token_invalid"
    with Session(engine, expire_on_commit=False) as db:
        assert accounts.login(db=db, email=student.email, password=winners[0], address=None)
