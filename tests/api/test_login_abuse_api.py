"""Login and account abuse over real HTTP, against the API alone in a process of its own (on a
database of its own, so that its counters are this module's): parallel guessing, lockout
attempts, a class registering together, over-long and common passwords, taken emails.

Several client addresses come from binding the client to 127.0.0.x: Linux routes all of 127/8
to the loopback, so the server sees each as a different peer.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.api.conftest import assert_error, serve_api
from tests.factories import STRONG_PASSWORD, audit_actions, make_student, unique_email
from visio.clock import utcnow
from visio.db import make_engine
from visio.models import User
from visio.settings import settings

WRONG = "Wrong-Harbour-Lantern-9"


@dataclass(frozen=True)
class Api:
    url: str
    engine: Engine

    def client(self, address: str) -> httpx.Client:
        """A client whose requests come from `address` (one of 127.0.0.0/8)."""
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=self.url, transport=transport, timeout=60)

    def student(self) -> User:
        with Session(self.engine, expire_on_commit=False) as db:
            return make_student(db, clock=utcnow)


@contextmanager
def _serve(sqlite_template: Path, work: Path, env: dict[str, str]) -> Iterator[Api]:
    shutil.copy(sqlite_template, work / "visio.db")
    db_url = f"sqlite:///{work / 'visio.db'}"
    engine = make_engine(db_url)
    settings_env = {"REFLEX_DB_URL": db_url, "VISIO_STORAGE_DIR": str(work / "files"), **env}
    try:
        with serve_api(settings_env, work / "api.log") as url:
            yield Api(url=url, engine=engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API with the default limits."""
    with _serve(sqlite_template, tmp_path_factory.mktemp("abuse"), {}) as served:
        yield served


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def _register(client: httpx.Client, **overrides: str) -> httpx.Response:
    body = {
        "email": unique_email("class"),
        "password": STRONG_PASSWORD,
        "full_name": "Class Member",
        "role": "student",
        **overrides,
    }
    return client.post("/api/auth/register", json=body)


def _in_one_window() -> None:
    """The limits count in fixed windows (`rate_limits`): a test that counts attempts waits out
    the current window when it ends within WINDOW_MARGIN seconds, so that its attempts fall in
    one window (one that straddled a boundary saw the count start again: a flake on CI)."""
    seconds = settings.rate_window_minutes * 60
    left = seconds - time.time() % seconds
    if left < WINDOW_MARGIN:
        time.sleep(left + 0.5)


WINDOW_MARGIN = 90  # seconds: more than the slowest of these tests takes on a busy CI host


def _in_parallel(count: int, send) -> list[int]:  # type: ignore[no-untyped-def]
    """`count` requests released together: their statuses."""
    start = threading.Barrier(count)

    def one(_: int) -> int:
        start.wait()
        return send().status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_twenty_parallel_wrong_passwords_are_checked_only_up_to_the_limit(api: Api) -> None:
    _in_one_window()
    student = api.student()
    with api.client("127.0.0.2") as attacker:
        statuses = _in_parallel(20, lambda: _login(attacker, student.email, WRONG))
        # Five were checked (401); the others were refused before any hashing.
        assert Counter(statuses) == {401: settings.login_max_failures, 429: 15}

        throttled = _login(attacker, student.email, STRONG_PASSWORD)
        body = assert_error(throttled, 429, "too_many_attempts")
        assert 0 < int(throttled.headers["retry-after"]) <= settings.rate_window_minutes * 60
        assert "minutes" in body["detail"]

    # The attack locked out the attacker's address, not the account.
    with api.client("127.0.0.3") as owner:
        assert _login(owner, student.email, STRONG_PASSWORD).status_code == 200


def test_the_owner_gets_in_from_a_known_address_while_the_account_is_under_attack(
    api: Api,
) -> None:
    _in_one_window()
    student = api.student()
    with api.client("127.0.0.4") as home:
        assert _login(home, student.email, STRONG_PASSWORD).status_code == 200
    attackers = [f"127.0.0.{n}" for n in range(5, 9)]
    per_address = settings.login_max_per_email // len(attackers)
    for address in attackers:
        with api.client(address) as attacker:
            statuses = [_login(attacker, student.email, WRONG).status_code for _ in range(5)]
            assert statuses == [401] * per_address + [429] * (5 - per_address)

    with api.client("127.0.0.9") as elsewhere:  # a new address: the per-email limit holds
        assert_error(_login(elsewhere, student.email, STRONG_PASSWORD), 429, "too_many_attempts")
    with api.client("127.0.0.4") as home:
        assert _login(home, student.email, STRONG_PASSWORD).status_code == 200


def test_a_class_of_forty_registers_from_one_address_then_the_limit_holds(api: Api) -> None:
    _in_one_window()
    with api.client("127.0.0.10") as school:
        assert _in_parallel(40, lambda: _register(school)) == [201] * 40
        rest = settings.register_max_per_address - 40
        statuses = _in_parallel(rest + 5, lambda: _register(school))
        assert Counter(statuses) == {201: rest, 429: 5}
        assert_error(_register(school), 429, "too_many_attempts")
    with api.client("127.0.0.11") as other_school:
        assert _register(other_school).status_code == 201


def test_registering_a_taken_email_answers_as_for_a_new_one_and_changes_nothing(
    api: Api,
) -> None:
    taken = api.student()
    with api.client("127.0.0.12") as client:
        new = _register(client, email=unique_email("new"), full_name="Same Shape", role="teacher")
        again = _register(
            client,
            email=taken.email.upper(),
            full_name="Same  Shape",
            role="teacher",
            password="Another-Harbour-Lantern-7",
        )

    assert new.status_code == again.status_code == 201
    assert set(new.json()) == set(again.json()) == {"email", "full_name", "role"}
    assert again.json() == {"email": taken.email, "full_name": "Same Shape", "role": "teacher"}
    with Session(api.engine) as db:
        stored = db.exec(select(User).where(User.email == taken.email)).one()
        assert (stored.full_name, stored.role) == (taken.full_name, "student")
        assert audit_actions(db, target_id=taken.id)[-1] == "user.registration_attempted"


def test_an_over_long_password_at_login_is_a_422_not_a_500(api: Api) -> None:
    student = api.student()
    with api.client("127.0.0.13") as client:
        body = assert_error(_login(client, student.email, "x" * 5000), 422, "password_too_long")
    assert body["field"] == "password"


@pytest.mark.parametrize("password", ["Password1!", "P@ssw0rd2024", "qwertyuiop123"])
def test_common_passwords_are_refused_at_registration(api: Api, password: str) -> None:
    with api.client("127.0.0.14") as client:
        body = assert_error(_register(client, password=password), 422, "password_common")
    assert body["field"] == "password"


def test_rate_limits_off_lets_a_load_test_through(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("limits-off")
    with _serve(sqlite_template, work, {"VISIO_RATE_LIMITS": "off"}) as api:
        student = api.student()
        with api.client("127.0.0.15") as client:
            statuses = _in_parallel(20, lambda: _login(client, student.email, WRONG))
            assert statuses == [401] * 20
            assert _login(client, student.email, STRONG_PASSWORD).status_code == 200


def _five_failures_then_login(
    client: httpx.Client, email: str, forwarded_for: str
) -> httpx.Response:
    """The status of a right password after five wrong ones, each claiming `forwarded_for`."""
    _in_one_window()
    headers = {"X-Forwarded-For": forwarded_for}
    for _ in range(settings.login_max_failures):
        client.post("/api/auth/login", json={"email": email, "password": WRONG}, headers=headers)
    right = {"email": email, "password": STRONG_PASSWORD}
    return client.post("/api/auth/login", json=right, headers={"X-Forwarded-For": "192.0.2.200"})


def test_x_forwarded_for_is_ignored_without_trusted_proxies(api: Api) -> None:
    student = api.student()
    with api.client("127.0.0.16") as client:
        response = _five_failures_then_login(client, student.email, "192.0.2.100")
    assert_error(response, 429, "too_many_attempts")


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("proxied")
    with _serve(sqlite_template, work, {"REFLEX_TRUSTED_PROXY_HOPS": "1"}) as api:
        student = api.student()
        with api.client("127.0.0.17") as proxy:
            response = _five_failures_then_login(proxy, student.email, "192.0.2.100")
    assert response.status_code == 200, response.text
