"""The account routes over real HTTP, against the API alone on a database of its own: mail
preferences (GET/PATCH), the one-click unsubscribe of a mail without any login, and the change
of password that revokes every other login."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.api.conftest import assert_error, bearer, serve_api
from tests.factories import STRONG_PASSWORD, make_student, make_teacher
from visio.clock import utcnow
from visio.db import make_engine
from visio.models import NoticeStatus, User
from visio.services import accounts, outbox, unsubscribe

NEW_PASSWORD = "Amber-Quarry-Whistle-77"
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Api:
    url: str
    engine: Engine


@pytest.fixture(scope="module")
def api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    work = tmp_path_factory.mktemp("account-api")
    shutil.copy(sqlite_template, work / "visio.db")
    db_url = f"sqlite:///{work / 'visio.db'}"
    engine = make_engine(db_url)
    env = {"REFLEX_DB_URL": db_url, "VISIO_STORAGE_DIR": str(work / "files")}
    try:
        with serve_api(env, work / "api.log") as url:
            yield Api(url=url, engine=engine)
    finally:
        engine.dispose()


@pytest.fixture
def http(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client


@pytest.fixture
def db(api: Api) -> Iterator[Session]:
    with Session(api.engine, expire_on_commit=False) as session:
        yield session


def logged_in(db: Session, role: str = "student") -> tuple[User, str]:
    make = make_student if role == "student" else make_teacher
    user = make(db, clock=utcnow)
    login = accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None)
    return user, login.token


def test_preferences_list_the_optional_kinds_of_the_callers_role(db, http) -> None:
    _, token = logged_in(db)

    answer = http.get(
        "/api/account/preferences", headers={**bearer(token), "Accept-Language": "en"}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["email"]["session_moved"] is True
    assert body["email"]["enrollment_confirmed"] is True
    assert "session_cancelled" not in body["email"] and "password_reset" not in body["email"]
    moved = next(p for p in body["preferences"] if p["kind"] == "session_moved")
    assert moved["label"] == "Session moved" and moved["hint"]


def test_a_patch_turns_a_kind_off_and_a_later_notice_is_kept_unsent(db, http) -> None:
    student, token = logged_in(db)

    answer = http.patch(
        "/api/account/preferences",
        json={"email": {"session_moved": False}},
        headers=bearer(token),
    )

    assert answer.status_code == 200, answer.text
    chosen = answer.json()["email"]
    assert (chosen["session_moved"], chosen["enrollment_confirmed"]) == (False, True)
    again = http.get("/api/account/preferences", headers=bearer(token)).json()
    assert again["email"]["session_moved"] is False
    notice = outbox.enqueue(db, kind="session_moved", user=student, data={}, at=utcnow())
    db.commit()
    assert notice.status == NoticeStatus.SKIPPED


@pytest.mark.parametrize(
    "email",
    [
        {"session_moved": False, "no_such_kind": False},
        {"session_moved": False, "session_cancelled": False},
        {"password_reset": False},
    ],
)
def test_an_unknown_or_mandatory_kind_is_422_and_changes_nothing(db, http, email) -> None:
    _, token = logged_in(db)

    answer = http.patch("/api/account/preferences", json={"email": email}, headers=bearer(token))

    assert_error(answer, 422, "notice_kind_invalid")
    after = http.get("/api/account/preferences", headers=bearer(token)).json()
    assert after["email"]["session_moved"] is True


@pytest.mark.parametrize(
    "body", [{"email": {"session_moved": "no"}}, {"email": []}, {}, {"email": {}, "x": 1}]
)
def test_a_malformed_patch_is_422(db, http, body) -> None:
    _, token = logged_in(db)

    answer = http.patch("/api/account/preferences", json=body, headers=bearer(token))

    assert_error(answer, 422, "invalid_input")


def test_a_teacher_cannot_choose_about_a_students_kind(db, http) -> None:
    _, token = logged_in(db, "teacher")

    answer = http.patch(
        "/api/account/preferences",
        json={"email": {"enrollment_confirmed": False}},
        headers=bearer(token),
    )

    assert_error(answer, 422, "notice_kind_invalid")


def test_preferences_need_a_bearer_token(http) -> None:
    assert_error(http.get("/api/account/preferences"), 401, "not_authenticated")
    answer = http.patch("/api/account/preferences", json={"email": {"session_moved": False}})
    assert_error(answer, 401, "not_authenticated")


def test_one_click_unsubscribe_works_without_login_and_twice(db, http) -> None:
    student, _ = logged_in(db)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")

    answers = [
        http.post(
            "/api/unsubscribe",
            params={"token": token},
            content="List-Unsubscribe=One-Click",
            headers={**ONE_CLICK, "Accept-Language": "fr"},
        )
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert answers[0].json()["kind"] == "session_moved"
    assert "Session déplacée" in answers[0].json()["detail"]
    assert "set-cookie" not in answers[0].headers
    notice = outbox.enqueue(db, kind="session_moved", user=student, data={}, at=utcnow())
    db.commit()
    assert notice.status == NoticeStatus.SKIPPED
    kept = outbox.enqueue(db, kind="enrollment_confirmed", user=student, data={}, at=utcnow())
    db.commit()
    assert kept.status == NoticeStatus.PENDING


def test_opening_the_link_unsubscribes_nobody(db, http) -> None:
    student, _ = logged_in(db)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")

    answer = http.get("/api/unsubscribe", params={"token": token})

    assert answer.status_code == 405
    db.rollback()
    notice = outbox.enqueue(db, kind="session_moved", user=student, data={}, at=utcnow())
    assert notice.status == NoticeStatus.PENDING
    db.rollback()


def test_a_tampered_or_foreign_token_is_refused_without_a_500(db, http) -> None:
    student, _ = logged_in(db)
    other, _ = logged_in(db)
    token = unsubscribe.token_for(db, user_id=student.id, kind="session_moved")
    unsubscribe.token_for(db, user_id=other.id, kind="session_moved")
    _, kind, signature = token.split(".")

    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        f"{other.id}.{kind}.{signature}",
        f"{student.id}.enrollment_confirmed.{signature}",
        f"{student.id}.session_cancelled.{signature}",
        "99999999999999999999.session_moved.x",
        "",
        "%00",
    ):
        answer = http.post(
            "/api/unsubscribe",
            params={"token": bad},
            content="List-Unsubscribe=One-Click",
            headers=ONE_CLICK,
        )
        assert_error(answer, 404, "unsubscribe_link_invalid")
    assert http.post("/api/unsubscribe", headers=ONE_CLICK).status_code == 404
    too_long = http.post("/api/unsubscribe", params={"token": "x" * 500}, headers=ONE_CLICK)
    assert too_long.status_code == 422

    db.rollback()
    for user in (student, other):
        notice = outbox.enqueue(db, kind="session_moved", user=user, data={}, at=utcnow())
        assert notice.status == NoticeStatus.PENDING
    db.rollback()


def test_a_password_change_keeps_this_login_and_revokes_the_others(db, http) -> None:
    student, token = logged_in(db)
    elsewhere = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)

    answer = http.post(
        "/api/account/password",
        json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(token),
    )

    assert answer.status_code == 204, answer.text
    assert http.get("/api/wallet", headers=bearer(token)).status_code == 200
    assert_error(http.get("/api/wallet", headers=bearer(elsewhere.token)), 401, "not_authenticated")
    old = http.post("/api/auth/login", json={"email": student.email, "password": STRONG_PASSWORD})
    assert_error(old, 401, "invalid_credentials")
    new = http.post("/api/auth/login", json={"email": student.email, "password": NEW_PASSWORD})
    assert new.status_code == 200


def test_a_wrong_current_password_is_403_translated_and_changes_nothing(db, http) -> None:
    student, token = logged_in(db)

    answer = http.post(
        "/api/account/password",
        json={"current_password": "Not-The-Password-1", "new_password": NEW_PASSWORD},
        headers={**bearer(token), "Accept-Language": "fr"},
    )

    body = assert_error(answer, 403, "current_password_wrong")
    assert body["detail"] == "Le mot de passe actuel est incorrect."
    assert body["field"] == "current_password"
    login = http.post("/api/auth/login", json={"email": student.email, "password": STRONG_PASSWORD})
    assert login.status_code == 200


def test_a_weak_new_password_is_422_with_the_rules_message(db, http) -> None:
    _, token = logged_in(db)

    answer = http.post(
        "/api/account/password",
        json={"current_password": STRONG_PASSWORD, "new_password": "short"},
        headers={**bearer(token), "Accept-Language": "en"},
    )

    body = assert_error(answer, 422, "password_too_short")
    assert body["detail"] == "The password needs at least 10 characters."
    assert body["field"] == "new_password"


def test_one_users_change_leaves_another_user_alone(db, http) -> None:
    one, token = logged_in(db)
    other, other_token = logged_in(db)

    http.patch(
        "/api/account/preferences",
        json={"email": {"session_moved": False}},
        headers=bearer(token),
    )
    http.post(
        "/api/account/password",
        json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(token),
    )

    theirs = http.get("/api/account/preferences", headers=bearer(other_token))
    assert theirs.status_code == 200 and theirs.json()["email"]["session_moved"] is True
    login = http.post("/api/auth/login", json={"email": other.email, "password": STRONG_PASSWORD})
    assert login.status_code == 200
    assert one.id != other.id
