"""Throttling counters under real threads: SQLite, PostgreSQL and Redis count every attempt once,
so parallel logins can never all pass a limit."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_student
from visio.clock import utcnow
from visio.services import accounts, passwords, rate_limits
from visio.services.errors import InvalidCredentials, Throttled
from visio.settings import settings

THREADS = 20
# A database of its own: the test suite's app server uses 13; only this one is ever flushed.
REDIS_URL = os.environ.get("VISIO_TEST_RATE_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _count_in_parallel(backend: rate_limits.Counters) -> list[int]:
    """THREADS threads add one to the same key at the same moment: the counts they got back."""
    key, start = f"test:{uuid.uuid4().hex}", threading.Barrier(THREADS)
    now = utcnow()

    def add(_: int) -> int:
        start.wait()
        return backend.add(key, 1, 1, now=now, expires_at=now + timedelta(minutes=5))

    with ThreadPoolExecutor(THREADS) as pool:
        return sorted(pool.map(add, range(THREADS)))


def test_database_counts_are_atomic_under_threads_on_sqlite(engine) -> None:  # type: ignore[no-untyped-def]
    assert _count_in_parallel(rate_limits.DatabaseCounters(engine)) == list(range(1, THREADS + 1))


@pytest.mark.postgres
def test_database_counts_are_atomic_under_threads_on_postgresql(pg_engine) -> None:  # type: ignore[no-untyped-def]
    counters = rate_limits.DatabaseCounters(pg_engine)
    assert _count_in_parallel(counters) == list(range(1, THREADS + 1))


def test_redis_counts_are_atomic_under_threads_and_expire(redis_client) -> None:  # type: ignore[no-untyped-def]
    assert _count_in_parallel(rate_limits.RedisCounters(redis_client)) == list(
        range(1, THREADS + 1)
    )
    (name,) = redis_client.keys(f"{rate_limits.REDIS_PREFIX}*")
    assert 0 < redis_client.ttl(name) <= 5 * 60


def _parallel_wrong_passwords(db_factory, email: str) -> list[type[Exception]]:  # type: ignore[no-untyped-def]
    start = threading.Barrier(THREADS)

    def attempt(_: int) -> type[Exception]:
        with db_factory() as db:
            start.wait()
            try:
                accounts.login(db=db, email=email, password="Wrong-Password-9", address="192.0.2.1")
            except (InvalidCredentials, Throttled) as error:
                return type(error)
        raise AssertionError("a wrong password logged in")

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(attempt, range(THREADS)))


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_parallel_wrong_passwords_are_hashed_only_up_to_the_limit(
    request, backend, engine, db, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    if backend == "redis":
        request.getfixturevalue("redis_client")
        monkeypatch.setattr(rate_limits, "settings", replace(settings, redis_url=REDIS_URL))
    student = make_student(db, clock=clock)
    checked = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(
        passwords, "verify_password", lambda *args: checked.append(1) or real_verify(*args)
    )

    outcomes = _parallel_wrong_passwords(lambda: Session(engine), student.email)

    assert outcomes.count(InvalidCredentials) == len(checked) == settings.login_max_failures
    assert outcomes.count(Throttled) == THREADS - settings.login_max_failures
    assert accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
