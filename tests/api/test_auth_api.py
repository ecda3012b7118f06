"""POST /api/auth/register, /login and /logout, and bearer tokens on the other routes."""

from __future__ import annotations

import uuid

from tests.api.conftest import assert_error, bearer
from tests.factories import STRONG_PASSWORD, unique_email
from visio.services import accounts


def _register(http, **overrides):  # type: ignore[no-untyped-def]
    body = {
        "email": unique_email("api"),
        "password": STRONG_PASSWORD,
        "full_name": "Api User",
        "role": "student",
        **overrides,
    }
    return http.post("/api/auth/register", json=body)


def test_register_answers_201_with_what_was_registered(http) -> None:  # type: ignore[no-untyped-def]
    email = unique_email("new.teacher")
    response = _register(http, email=f"  {email.upper()} ", role="teacher")

    assert response.status_code == 201, response.text
    # No id: a taken email gets this same answer (see test_login_abuse_api).
    assert response.json() == {"email": email, "full_name": "Api User", "role": "teacher"}
    login = {"email": email, "password": STRONG_PASSWORD}
    assert http.post("/api/auth/login", json=login).json()["user"]["role"] == "teacher"


def test_register_refusals(http) -> None:  # type: ignore[no-untyped-def]
    email = unique_email("taken")
    assert _register(http, email=email).status_code == 201
    assert _register(http, email=email).status_code == 201  # never says the email is taken
    body = assert_error(_register(http, email="not-an-email"), 422, "email_invalid")
    assert body["field"] == "email"
    assert_error(_register(http, password="short"), 422, "password_too_short")
    assert_error(_register(http, full_name="X"), 422, "full_name_too_short")
    unknown_role = _register(http, role="admin")
    assert_error(unknown_role, 422, "invalid_input")
    assert unknown_role.json()["detail"][0]["loc"] == ["body", "role"]
    assert_error(_register(http, extra="field"), 422, "invalid_input")


def test_login_gives_a_bearer_token_that_authenticates(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    response = http.post(
        "/api/auth/login", json={"email": student.user.email, "password": STRONG_PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["id"] == student.id
    assert http.get("/api/wallet", headers=bearer(body["token"])).status_code == 200


def test_logout_revokes_only_the_token_it_is_called_with(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    credentials = {"email": student.user.email, "password": STRONG_PASSWORD}
    phone, laptop = (http.post("/api/auth/login", json=credentials).json()["token"] for _ in "ab")

    response = http.post("/api/auth/logout", headers=bearer(phone))

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_error(http.get("/api/wallet", headers=bearer(phone)), 401, "not_authenticated")
    assert_error(http.post("/api/auth/logout", headers=bearer(phone)), 401, "not_authenticated")
    assert http.get("/api/wallet", headers=bearer(laptop)).status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_401(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    wrong = http.post(
        "/api/auth/login", json={"email": student.user.email, "password": "Wrong-Pass-999"}
    )
    unknown = http.post(
        "/api/auth/login", json={"email": unique_email("ghost"), "password": "Wrong-Pass-999"}
    )

    for response in (wrong, unknown):
        assert_error(response, 401, "invalid_credentials")
    assert wrong.json() == unknown.json()


def test_repeated_failed_logins_are_throttled_with_429(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    attempt = {"email": student.user.email, "password": "Wrong-Pass-999"}
    codes = [http.post("/api/auth/login", json=attempt).status_code for _ in range(5)]
    assert codes == [401] * 5

    throttled = http.post(
        "/api/auth/login", json={"email": student.user.email, "password": STRONG_PASSWORD}
    )
    assert_error(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) > 0


def test_routes_need_a_valid_bearer_token(http, server_db, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student()
    for headers in (
        {},
        bearer("not-a-token-" + uuid.uuid4().hex),
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Authorization": "Bearer"},
    ):
        response = http.get("/api/wallet", headers=headers)
        assert_error(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"

    accounts.logout(db=server_db, token=student.token)
    assert_error(http.get("/api/wallet", headers=student.headers), 401, "not_authenticated")
