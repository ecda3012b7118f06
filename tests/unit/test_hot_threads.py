"""The API's seat claims run at most VISIO_API_HOT_THREADS works at once per worker and route
("lane"); the others wait their turn, and every caller still gets its own answer. A lane whose
works all wait (enrollments on a locked session) holds up no other lane. By default one at a
time on SQLite (one writer at a time), four on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial

import pytest
from fastapi import Response

from tests.settings_start import refused_start
from visio.api import deps
from visio.api.deps import in_worker
from visio.settings import Settings, settings

LIMIT = 4  # the lanes' size in the tests of how they queue, whatever the database


@pytest.fixture
def four_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps, "settings", replace(settings, api_hot_threads=LIMIT))


def _run(coroutine: Coroutine[object, object, object]) -> object:
    """Run on an event loop of its own, in a thread (Playwright's tests may hold this one's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _peak_of(calls: int, lane: str = "enrolling") -> tuple[int, list[bytes]]:
    """Start `calls` works at once; how many ran together at most, and what each answered."""
    lock = threading.Lock()
    running = 0
    peak = 0

    def work(number: int) -> Response:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)  # a database round trip's wait, long enough for the others to pile up
        with lock:
            running -= 1
        return Response(str(number))

    async def all_at_once() -> list[Response]:
        return await asyncio.gather(*(in_worker(partial(work, n), lane=lane) for n in range(calls)))

    answers: list[Response] = _run(all_at_once())  # type: ignore[assignment]
    return peak, [answer.body for answer in answers]


@pytest.mark.usefixtures("four_at_once")
def test_no_more_than_the_setting_run_at_once_and_each_caller_gets_its_answer() -> None:
    peak, bodies = _peak_of(3 * LIMIT)
    assert peak == LIMIT
    assert bodies == [str(n).encode() for n in range(3 * LIMIT)]


@pytest.mark.usefixtures("four_at_once")
def test_a_second_event_loop_gets_a_limiter_of_its_own() -> None:
    # Each test server and each worker runs its own loop: a limiter bound to an earlier, closed
    # loop would fail or hang here.
    assert _peak_of(2)[0] == 2
    assert _peak_of(2 * LIMIT)[0] == LIMIT


def test_the_running_setting_is_what_a_lane_allows() -> None:
    assert _peak_of(3 * settings.api_hot_threads)[0] == settings.api_hot_threads


@pytest.mark.usefixtures("four_at_once")
def test_a_lane_whose_works_all_wait_holds_up_no_other_lane() -> None:
    limit = LIMIT
    release = threading.Event()

    def stuck() -> Response:  # an enrollment waiting on a lock another transaction holds
        release.wait(10)
        return Response("paid")

    def other_route() -> Response:
        return Response("page")

    async def both() -> tuple[list[str], list[Response]]:
        stuck_ones = [asyncio.ensure_future(in_worker(stuck, lane="enrolling"))
                      for _ in range(limit + 2)]  # fmt: skip
        await asyncio.sleep(0.1)  # the enrolling lane is full, two more queued behind it
        pages = await asyncio.wait_for(
            asyncio.gather(*(in_worker(other_route, lane="other") for _ in range(limit * 2))), 5
        )
        release.set()
        return [page.body.decode() for page in pages], await asyncio.gather(*stuck_ones)

    pages, paid = _run(both())  # type: ignore[misc]
    assert pages == ["page"] * (limit * 2)
    assert [answer.body for answer in paid] == [b"paid"] * (limit + 2)


@pytest.mark.parametrize("raw", ["0", "-1", "41"])
def test_a_limit_below_one_or_past_the_connections_is_refused(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("VISIO_API_HOT_THREADS", raw)
    monkeypatch.delenv("VISIO_DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("VISIO_DB_MAX_OVERFLOW", raising=False)
    with pytest.raises(ValueError, match="VISIO_API_HOT_THREADS"):
        Settings()


def test_the_default_is_one_on_sqlite_and_four_on_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISIO_API_HOT_THREADS", raising=False)
    monkeypatch.setenv("REFLEX_DB_URL", "sqlite:///data/visio.db")
    assert Settings().api_hot_threads == 1
    monkeypatch.setenv("REFLEX_DB_URL", "postgresql+psycopg://visio@db.example/visio")
    assert Settings().api_hot_threads == 4
    monkeypatch.delenv("REFLEX_DB_URL")  # the embedded default
    assert Settings().api_hot_threads == 1


def test_a_value_given_is_kept_on_sqlite_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISIO_API_HOT_THREADS", "3")
    monkeypatch.setenv("REFLEX_DB_URL", "sqlite:///data/visio.db")
    assert Settings().api_hot_threads == 3


def test_a_value_that_is_no_number_stops_the_start_naming_the_setting() -> None:
    stderr = refused_start(VISIO_API_HOT_THREADS="four")
    assert "VISIO_API_HOT_THREADS must be a whole number, not 'four'" in stderr
