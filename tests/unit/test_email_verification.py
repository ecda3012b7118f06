"""Proving an address: the link mailed at registration (hashed, single use, 48 h), the change of
address applied only once the new address is proven, the note to the owner of an address someone
tried to register again, and VISIO_REQUIRE_VERIFIED_EMAIL."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import (
    STRONG_PASSWORD,
    make_session,
    make_student,
    make_teacher,
    table_counts,
    top_up,
)
from visio.models import EmailToken, Notice, User
from visio.services import accounts, email_verification, enrollments, mail
from visio.services.errors import Conflict, Forbidden, InvalidInput, Throttled
from visio.settings import settings

NEW_EMAIL = "new.address@example.org"
NEW_PW = "Quiet-Meadow-Lamp-77"


def newest_notice(db: Session, email: str, kind: str = "verify_email") -> Notice:
    db.rollback()
    notice = db.exec(
        select(Notice).where(Notice.email == email, Notice.kind == kind).order_by(Notice.id.desc())  # type: ignore[union-attr]
    ).first()
    assert notice is not None, f"no {kind} notice to {email}"
    return notice


def link_token(db: Session, email: str) -> str:
    """The raw token of the newest verification link waiting for `email` in the outbox."""
    return newest_notice(db, email).data["token"]


def unverified(db: Session, clock) -> User:  # type: ignore[no-untyped-def]
    return make_student(db, clock=clock, verified=False)


def reload(db: Session, user: User) -> User:
    db.rollback()
    found = db.get(User, user.id, populate_existing=True)
    assert found is not None
    return found


@pytest.fixture
def require_verified(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        email_verification, "settings", replace(settings, require_verified_email=True)
    )


def test_registration_starts_unverified_and_mails_a_hashed_link(db, clock):
    student = unverified(db, clock)

    assert student.email_verified_at is None
    notice = newest_notice(db, student.email)
    [stored] = db.exec(select(EmailToken)).all()
    assert stored.token_hash == hashlib.sha256(notice.data["token"].encode()).hexdigest()
    assert notice.data["token"] not in stored.model_dump_json()
    assert stored.email == student.email
    assert stored.expires_at == clock() + timedelta(hours=48)
    message = mail.build_message(
        kind="verify_email", to=notice.email, locale="en", data=notice.data
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/verify-email?token={notice.data['token']}" in text


def test_accounts_made_verified_get_no_link(db, clock):
    student = make_student(db, clock=clock)
    assert student.email_verified_at == clock()
    assert db.exec(select(Notice)).all() == []


def test_opening_the_link_verifies_the_address_once(db, clock):
    student = unverified(db, clock)
    token = link_token(db, student.email)

    confirmed = email_verification.confirm(db=db, token=token, clock=clock)

    assert confirmed.id == student.id
    assert reload(db, student).email_verified_at == clock()
    with pytest.raises(InvalidInput) as error:
        email_verification.confirm(db=db, token=token, clock=clock)
    assert error.value.code == "email_token_invalid"


def test_a_link_expires_after_48_hours(db, clock):
    student = unverified(db, clock)
    token = link_token(db, student.email)
    clock.advance(hours=48)

    with pytest.raises(InvalidInput) as error:
        email_verification.confirm(db=db, token=token, clock=clock)

    assert error.value.code == "email_token_expired"
    assert reload(db, student).email_verified_at is None


@pytest.mark.parametrize("token", ["", "guessed-token", "x" * 5000])
def test_an_unknown_token_is_refused(db, clock, token):
    unverified(db, clock)
    with pytest.raises(InvalidInput) as error:
        email_verification.confirm(db=db, token=token, clock=clock)
    assert error.value.code == "email_token_invalid"


def test_resend_mails_a_new_link_and_is_throttled(db, clock):
    student = unverified(db, clock)  # the registration's link counts too

    for _ in range(email_verification.LINKS_PER_HOUR - 1):
        email_verification.resend(db=db, actor=student, clock=clock)
    before = table_counts(db)
    with pytest.raises(Throttled) as error:
        email_verification.resend(db=db, actor=student, clock=clock)

    assert error.value.code == "email_link_throttled"
    assert table_counts(db) == before
    clock.advance(hours=1, seconds=1)
    assert email_verification.resend(db=db, actor=student, clock=clock) == student.email


def test_a_verified_account_is_not_sent_another_link(db, clock):
    student = make_student(db, clock=clock)
    with pytest.raises(Conflict) as error:
        email_verification.resend(db=db, actor=student, clock=clock)
    assert error.value.code == "email_already_verified"


def test_a_change_of_address_applies_only_when_the_new_address_is_proven(db, clock):
    student = make_student(db, clock=clock)
    old = student.email

    answer = email_verification.request_change(
        db=db,
        actor=student,
        email=" New.Address@Example.org ",
        password=STRONG_PASSWORD,
        clock=clock,
    )

    assert answer == NEW_EMAIL
    assert reload(db, student).email == old  # not yet
    notice = newest_notice(db, NEW_EMAIL)
    assert notice.user_id == student.id and notice.data["change"] is True

    clock.advance(minutes=5)
    email_verification.confirm(db=db, token=notice.data["token"], clock=clock)

    moved = reload(db, student)
    assert moved.email == NEW_EMAIL and moved.email_verified_at == clock()
    told = newest_notice(db, old, kind="email_changed")
    assert told.user_id == student.id and told.data == {"new_email": NEW_EMAIL}
    assert mail.KINDS["email_changed"].optional is False
    assert accounts.login(db=db, email=NEW_EMAIL, password=STRONG_PASSWORD, address=None)


def test_a_change_clears_a_refused_address_and_spends_the_other_links(db, clock):
    student = unverified(db, clock)
    first_link = link_token(db, student.email)
    db.get(User, student.id).email_refused_at = clock()  # type: ignore[union-attr]
    db.commit()
    email_verification.request_change(
        db=db, actor=student, email=NEW_EMAIL, password=STRONG_PASSWORD, clock=clock
    )
    email_verification.confirm(db=db, token=link_token(db, NEW_EMAIL), clock=clock)

    moved = reload(db, student)
    assert moved.email_refused_at is None and moved.email_verified_at == clock()
    with pytest.raises(InvalidInput):  # the old address's link is spent: it proves nothing now
        email_verification.confirm(db=db, token=first_link, clock=clock)


def test_a_change_needs_the_current_password_and_a_new_valid_address(db, clock):
    student = make_student(db, clock=clock)
    before = table_counts(db)

    with pytest.raises(Forbidden) as refused:
        email_verification.request_change(
            db=db, actor=student, email=NEW_EMAIL, password="Wrong-Password-123", clock=clock
        )
    assert (refused.value.code, refused.value.field) == ("current_password_wrong", "password")
    for email, password, code in [
        ("not-an-address", STRONG_PASSWORD, "email_invalid"),
        (student.email.upper(), STRONG_PASSWORD, "email_unchanged"),
    ]:
        with pytest.raises(InvalidInput) as error:
            email_verification.request_change(
                db=db, actor=student, email=email, password=password, clock=clock
            )
        assert error.value.code == code

    assert table_counts(db) | {"rate_counters": 0} == before | {"rate_counters": 0}


def test_a_change_to_an_address_with_an_account_mails_nothing_and_says_the_same(db, clock):
    student = make_student(db, clock=clock)
    other = make_student(db, clock=clock)

    answer = email_verification.request_change(
        db=db, actor=student, email=other.email, password=STRONG_PASSWORD, clock=clock
    )

    assert answer == other.email
    assert db.exec(select(Notice)).all() == [] and db.exec(select(EmailToken)).all() == []


def test_a_change_is_refused_if_another_account_took_the_address_meanwhile(db, clock):
    student = make_student(db, clock=clock)
    email_verification.request_change(
        db=db, actor=student, email=NEW_EMAIL, password=STRONG_PASSWORD, clock=clock
    )
    token = link_token(db, NEW_EMAIL)
    make_student(db, clock=clock, email=NEW_EMAIL)  # registered before the link was opened

    with pytest.raises(Conflict) as error:
        email_verification.confirm(db=db, token=token, clock=clock)

    assert error.value.code == "email_taken"
    assert reload(db, student).email != NEW_EMAIL
    assert db.exec(select(Notice).where(Notice.kind == "email_changed")).all() == []


def test_a_taken_email_at_registration_tells_its_owner_once_a_day(db, clock):
    owner = make_student(db, clock=clock)

    for _ in range(3):
        again = accounts.register(
            db=db,
            full_name="Someone Else",
            email=owner.email,
            password=STRONG_PASSWORD,
            role="student",
            address=None,
            clock=clock,
        )
        assert again.user is None
    clock.advance(days=1)
    accounts.register(
        db=db,
        full_name="Someone Else",
        email=owner.email,
        password=STRONG_PASSWORD,
        role="student",
        address=None,
        clock=clock,
    )

    notices = db.exec(select(Notice).where(Notice.kind == "registration_attempted")).all()
    assert [n.email for n in notices] == [owner.email, owner.email]
    assert not mail.KINDS["registration_attempted"].optional
    assert not mail.KINDS["registration_attempted"].in_app
    message = mail.build_message(
        kind="registration_attempted", to=owner.email, locale="en", data={}
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/login" in text and "/forgot-password" in text


def _race(engine, token: str, clock) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def confirm() -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                outcomes.append(email_verification.confirm(db=own, token=token, clock=clock))
            except Exception as error:  # the refusal is the outcome under test
                outcomes.append(error)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_confirms_racing_with_one_link_let_exactly_one_win(database, request, clock):
    engine = request.getfixturevalue("engine" if database == "sqlite" else "pg_engine")
    with Session(engine, expire_on_commit=False) as db:
        student = make_student(db, clock=clock)
        email_verification.request_change(
            db=db, actor=student, email=NEW_EMAIL, password=STRONG_PASSWORD, clock=clock
        )
        token = link_token(db, NEW_EMAIL)

    outcomes = _race(engine, token, clock)

    winners = [o for o in outcomes if isinstance(o, User)]
    refusals = [o for o in outcomes if not isinstance(o, User)]
    assert len(winners) == 1, outcomes
    assert len(refusals) == 1 and getattr(refusals[0], "code", None) == "email_token_invalid"
    with Session(engine) as db:
        changed = db.exec(select(Notice).where(Notice.kind == "email_changed")).all()
        assert len(changed) == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_accounts_racing_for_one_new_address_let_one_have_it(database, request, clock):
    engine = request.getfixturevalue("engine" if database == "sqlite" else "pg_engine")
    tokens = []
    with Session(engine, expire_on_commit=False) as db:
        for _ in range(2):
            student = make_student(db, clock=clock)
            email_verification.request_change(
                db=db, actor=student, email=NEW_EMAIL, password=STRONG_PASSWORD, clock=clock
            )
            tokens.append(link_token(db, NEW_EMAIL))

    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def confirm(token: str) -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                outcomes.append(email_verification.confirm(db=own, token=token, clock=clock))
            except Exception as error:  # the refusal is the outcome under test
                outcomes.append(error)

    threads = [threading.Thread(target=confirm, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len([o for o in outcomes if isinstance(o, User)]) == 1, outcomes
    [refusal] = [o for o in outcomes if not isinstance(o, User)]
    assert getattr(refusal, "code", None) in ("email_taken", "busy"), refusal
    with Session(engine) as db:
        assert len(db.exec(select(User).where(User.email == NEW_EMAIL)).all()) == 1


def test_required_verification_blocks_paid_enroll_and_top_up_but_not_free_enroll(
    db, clock, require_verified
):
    teacher = make_teacher(db, clock=clock)
    student = unverified(db, clock)
    paid = make_session(
        db, teacher=teacher, clock=clock, publish=True, is_paid=True, price_cents=500
    )
    free = make_session(db, teacher=teacher, clock=clock, publish=True)
    before = table_counts(db)

    with pytest.raises(Forbidden) as error:
        top_up(db, user=student, amount_cents=1000, clock=clock)
    assert error.value.code == "email_unverified"
    with pytest.raises(Forbidden) as error:
        enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=clock)
    assert error.value.code == "email_unverified"
    assert table_counts(db) == before

    assert enrollments.enroll(db=db, actor=student, video_session_id=free.id, clock=clock)
    email_verification.confirm(db=db, token=link_token(db, student.email), clock=clock)
    student = reload(db, student)
    top_up(db, user=student, amount_cents=1000, clock=clock)
    assert enrollments.enroll(db=db, actor=student, video_session_id=paid.id, clock=clock)


def test_without_the_setting_an_unverified_account_may_pay(db, clock):
    student = unverified(db, clock)
    assert top_up(db, user=student, amount_cents=1000, clock=clock)


def test_demo_accounts_and_operators_accounts_are_verified_and_get_no_link(engine, db, clock):
    from visio import demo, users
    from visio.db import bind_engine

    assert demo.load(db, now=clock())
    bind_engine(engine)
    try:
        users.create(role="teacher", email="ana@school.example", name="Ana Ruiz", password=NEW_PW)
    finally:
        bind_engine(None)

    db.rollback()
    assert db.exec(select(User).where(User.email_verified_at.is_(None))).all() == []  # type: ignore[union-attr]
    assert db.exec(select(Notice).where(Notice.kind == "verify_email")).all() == []


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        (
            "verify_email",
            {"token": "tok123", "email": "a@example.org", "change": False},
            "/verify-email?token=tok123",
        ),
        (
            "verify_email",
            {"token": "tok123", "email": "b@example.org", "change": True},
            "b@example.org",
        ),
        ("email_changed", {"new_email": "b@example.org"}, "/forgot-password"),
        ("registration_attempted", {}, "/forgot-password"),
    ],
)
def test_the_account_mails_render_in_both_parts_and_languages(lang, kind, data, expected):
    message = mail.build_message(kind=kind, to="a@example.org", locale=lang, data=data)

    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert expected in text and expected in html
    assert message["Content-Language"] == lang
    assert message["Subject"] == mail.t(mail.KINDS[kind].subject_key, lang)
    assert "{" not in text  # every placeholder filled
