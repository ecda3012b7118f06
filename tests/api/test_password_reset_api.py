"""POST /api/auth/password-reset and /confirm over real HTTP, against the API alone on a database
of its own; the reset mail is delivered by the outbox to a real SMTP server and read from there."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.api.conftest import assert_error, bearer, serve_api
from tests.factories import STRONG_PASSWORD, make_student, unique_email
from tests.mailbox import Mailbox
from visio.clock import utcnow
from visio.db import make_engine
from visio.models import User
from visio.services import outbox
from visio.services.mail import SmtpTransport

NEW_PASSWORD = "Amber-Quarry-Whistle-77"


@dataclass(frozen=True)
class Api:
    url: str
    engine: Engine


@pytest.fixture(scope="module")
def api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    work = tmp_path_factory.mktemp("reset-api")
    shutil.copy(sqlite_template, work / "visio.db")
    db_url = f"sqlite:///{work / 'visio.db'}"
    engine = make_engine(db_url)
    env = {
        "REFLEX_DB_URL": db_url,
        "VISIO_STORAGE_DIR": str(work / "files"),
    }
    try:
        with serve_api(env, work / "api.log") as url:
            yield Api(url=url, engine=engine)
    finally:
        engine.dispose()


@pytest.fixture
def http(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client


def student(api: Api) -> User:
    with Session(api.engine, expire_on_commit=False) as db:
        return make_student(db, clock=utcnow)


def delivered_token(api: Api, mailbox: Mailbox, email: str) -> str:
    """Deliver what the outbox holds, and the token of the link in the mail to `email`."""
    with Session(api.engine, expire_on_commit=False) as db:
        outbox.deliver_due(db=db, transport=SmtpTransport(mailbox.url), clock=utcnow)
    [message] = mailbox.to(email)
    text = message.get_body(("plain",)).get_content()
    found = re.search(r"/reset-password\?token=(\S+)", text)
    assert found, text
    return found.group(1)


def test_the_same_answer_for_an_unknown_and_a_known_email(api, http, mailbox):
    known = student(api)

    emails = (unique_email("ghost"), known.email)
    answers = [http.post("/api/auth/password-reset", json={"email": e}) for e in emails]

    assert [a.status_code for a in answers] == [202, 202]
    assert [a.headers["content-type"] for a in answers] == ["application/json"] * 2
    ghost, owner = (a.json() for a in answers)
    assert ghost["detail"].replace(emails[0], "X") == owner["detail"].replace(emails[1], "X")
    delivered_token(api, mailbox, known.email)  # the known one, and only it, got a mail
    assert len(mailbox.messages) == 1


def test_a_reset_over_http_changes_the_password_and_logs_every_device_out(api, http, mailbox):
    user = student(api)
    credentials = {"email": user.email, "password": STRONG_PASSWORD}
    token = http.post("/api/auth/login", json=credentials).json()["token"]
    assert http.post("/api/auth/password-reset", json={"email": user.email}).status_code == 202
    reset_token = delivered_token(api, mailbox, user.email)

    done = http.post(
        "/api/auth/password-reset/confirm", json={"token": reset_token, "password": NEW_PASSWORD}
    )

    assert done.status_code == 204, done.text
    assert_error(http.get("/api/wallet", headers=bearer(token)), 401, "not_authenticated")
    assert_error(http.post("/api/auth/login", json=credentials), 401, "invalid_credentials")
    fresh = http.post("/api/auth/login", json={"email": user.email, "password": NEW_PASSWORD})
    assert fresh.status_code == 200
    again = http.post(
        "/api/auth/password-reset/confirm",
        json={"token": reset_token, "password": "Other-Lighthouse-88"},
    )
    assert assert_error(again, 422, "reset_token_invalid")["field"] == "token"


def test_confirm_refusals(api, http, mailbox):
    user = student(api)
    http.post("/api/auth/password-reset", json={"email": user.email})
    token = delivered_token(api, mailbox, user.email)
    confirm = "/api/auth/password-reset/confirm"

    assert_error(
        http.post(confirm, json={"token": "nope", "password": NEW_PASSWORD}),
        422,
        "reset_token_invalid",
    )
    weak = http.post(confirm, json={"token": token, "password": "short"})
    assert assert_error(weak, 422, "password_too_short")["field"] == "password"
    assert http.post(confirm, json={"token": token}).json()["code"] == "invalid_input"
    french = http.post(
        confirm, json={"token": "nope", "password": NEW_PASSWORD}, headers={"Accept-Language": "fr"}
    )
    assert "lien" in french.json()["detail"]


def test_requests_for_one_email_are_throttled(api, http):
    email = unique_email("ghost")
    for _ in range(3):  # VISIO_RESET_MAX_PER_EMAIL
        assert http.post("/api/auth/password-reset", json={"email": email}).status_code == 202
    refused = http.post("/api/auth/password-reset", json={"email": email})
    assert_error(refused, 429, "too_many_attempts")
    assert int(refused.headers["Retry-After"]) > 0
