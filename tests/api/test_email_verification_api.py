"""POST /api/auth/verify-email, /verify-email/resend and /api/account/email over real HTTP,
against the API alone on a database of its own (a second server runs with
VISIO_REQUIRE_VERIFIED_EMAIL=true); links are read from mails delivered to a real SMTP server."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.api.conftest import assert_error, bearer, serve_api
from tests.factories import STRONG_PASSWORD, make_student, unique_email
from tests.mailbox import Mailbox
from visio.clock import utcnow
from visio.db import make_engine
from visio.models import EmailToken, Notice, User
from visio.services import outbox
from visio.services.mail import SmtpTransport

VERIFY = "/api/auth/verify-email"


@dataclass(frozen=True)
class Api:
    url: str
    engine: Engine


@contextmanager
def _api(template: Path, work: Path, **env: str) -> Iterator[Api]:
    shutil.copy(template, work / "visio.db")
    db_url = f"sqlite:///{work / 'visio.db'}"
    engine = make_engine(db_url)
    try:
        settings = {"REFLEX_DB_URL": db_url, "VISIO_STORAGE_DIR": str(work / "files"), **env}
        with serve_api(settings, work / "api.log") as url:
            yield Api(url=url, engine=engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with _api(sqlite_template, tmp_path_factory.mktemp("verify-api")) as served:
        yield served


@pytest.fixture
def http(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client


def register(http: httpx.Client) -> tuple[str, str]:
    """A new account registered over HTTP: its email and a bearer token."""
    email = unique_email("student")
    body = {
        "email": email,
        "password": STRONG_PASSWORD,
        "full_name": "Nina Test",
        "role": "student",
    }
    assert http.post("/api/auth/register", json=body).status_code == 201
    login = http.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert login.json()["user"]["email_verified"] is False
    return email, login.json()["token"]


def deliver(api: Api, mailbox: Mailbox) -> None:
    with Session(api.engine, expire_on_commit=False) as db:
        outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=utcnow)


def delivered_token(api: Api, mailbox: Mailbox, email: str) -> str:
    """Deliver what the outbox holds, and the token of the newest link mailed to `email`."""
    deliver(api, mailbox)
    text = mailbox.to(email)[-1].get_body(("plain",)).get_content()
    found = re.search(r"/verify-email\?token=(\S+)", text)
    assert found, text
    return found.group(1)


def test_the_link_of_the_registration_mail_verifies_the_account_once(api, http, mailbox):
    email, _ = register(http)
    token = delivered_token(api, mailbox, email)

    assert http.post(VERIFY, json={"token": token}).status_code == 204

    login = http.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert login.json()["user"]["email_verified"] is True
    again = http.post(VERIFY, json={"token": token}, headers={"Accept-Language": "fr"})
    body = assert_error(again, 400, "email_token_invalid")
    assert body["detail"] == "Ce lien n'est pas valable, ou a déjà servi."


@pytest.mark.parametrize("token", ["", "guessed", "A" * 43, "x" * 200])
def test_a_guessed_token_verifies_nothing(api, http, token):
    assert_error(http.post(VERIFY, json={"token": token}), 400, "email_token_invalid")


def test_a_token_that_does_not_parse_is_refused_without_a_500(http):
    assert http.post(VERIFY, json={"token": "x" * 201}).status_code == 422
    assert http.post(VERIFY, json={"token": 5}).status_code == 422
    assert (
        http.post(VERIFY, content=b"{", headers={"content-type": "application/json"}).status_code
        == 422
    )


def test_an_expired_link_is_gone(api, http):
    with Session(api.engine, expire_on_commit=False) as db:
        user = make_student(db, clock=utcnow, verified=False)
        token, past = "expired-" + user.email, utcnow() - timedelta(hours=49)
        db.add(
            EmailToken(
                user_id=user.id,  # type: ignore[arg-type]
                email=user.email,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                created_at=past,
                expires_at=past + timedelta(hours=48),
            )
        )
        db.commit()

    assert_error(http.post(VERIFY, json={"token": token}), 410, "email_token_expired")


def test_an_attacker_cannot_move_an_account_to_someone_elses_address(api, http, mailbox):
    victim_email, _ = register(http)
    attacker_email, attacker = register(http)

    # Asking for the victim's address answers as for any address, and mails no link.
    asked = http.post(
        "/api/account/email",
        json={"email": victim_email, "password": STRONG_PASSWORD},
        headers=bearer(attacker),
    )
    assert asked.status_code == 202 and asked.json()["email"] == victim_email
    with Session(api.engine) as db:
        attacker_id = db.exec(select(User.id).where(User.email == attacker_email)).one()
        links = db.exec(select(EmailToken.email).where(EmailToken.user_id == attacker_id)).all()
    assert links == [attacker_email]

    # The victim's own link proves the victim's address, never the attacker's account.
    victim_token = delivered_token(api, mailbox, victim_email)
    assert http.post(VERIFY, json={"token": victim_token}).status_code == 204
    with Session(api.engine) as db:
        attacker_row = db.get(User, attacker_id)
        assert attacker_row is not None
        assert (attacker_row.email, attacker_row.email_verified_at) == (attacker_email, None)


def test_a_change_of_address_over_http(api, http, mailbox):
    old, token = register(http)
    new = unique_email("moved")
    path = "/api/account/email"

    wrong = http.post(
        path, json={"email": new, "password": "Not-The-One-42"}, headers=bearer(token)
    )
    assert assert_error(wrong, 403, "current_password_wrong")["field"] == "password"
    assert_error(
        http.post(path, json={"email": new, "password": STRONG_PASSWORD}), 401, "not_authenticated"
    )

    asked = http.post(path, json={"email": new, "password": STRONG_PASSWORD}, headers=bearer(token))
    assert asked.status_code == 202, asked.text
    assert new in asked.json()["detail"]
    still = http.post("/api/auth/login", json={"email": old, "password": STRONG_PASSWORD})
    assert still.status_code == 200  # nothing changes before the link is opened

    assert http.post(VERIFY, json={"token": delivered_token(api, mailbox, new)}).status_code == 204

    moved = http.post("/api/auth/login", json={"email": new, "password": STRONG_PASSWORD})
    assert moved.status_code == 200 and moved.json()["user"]["email_verified"] is True
    deliver(api, mailbox)
    told = mailbox.to(old)[-1]
    assert new in told.get_body(("plain",)).get_content()


def test_resend_needs_a_bearer_token_and_is_throttled(api, http, mailbox):
    email, token = register(http)
    path = "/api/auth/verify-email/resend"

    assert_error(http.post(path), 401, "not_authenticated")
    for _ in range(4):  # the registration's link was the first of five this hour
        sent = http.post(path, headers=bearer(token))
        assert sent.status_code == 202 and sent.json()["email"] == email
    refused = assert_error(http.post(path, headers=bearer(token)), 429, "email_link_throttled")
    assert refused["detail"]
    with Session(api.engine) as db:
        links = db.exec(select(Notice).where(Notice.email == email)).all()
    assert len(links) == 5


def test_with_verification_required_an_unverified_account_cannot_top_up(
    sqlite_template, tmp_path, mailbox
):
    env = {"VISIO_REQUIRE_VERIFIED_EMAIL": "true"}
    with _api(sqlite_template, tmp_path, **env) as api, httpx.Client(base_url=api.url) as http:
        email, token = register(http)
        topup = http.post("/api/wallet/topup", json={"amount_cents": 1000}, headers=bearer(token))
        body = assert_error(topup, 403, "email_unverified")
        assert email in body["detail"]

        assert (
            http.post(VERIFY, json={"token": delivered_token(api, mailbox, email)}).status_code
            == 204
        )
        done = http.post("/api/wallet/topup", json={"amount_cents": 1000}, headers=bearer(token))
        assert done.status_code in (200, 201), done.text
