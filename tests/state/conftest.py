"""State tests: real state classes, handlers called directly, on the test's own SQLite file."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from visio import db as visio_db
from visio.clock import FrozenClock, utcnow


@pytest.fixture
def bound(engine: Engine) -> Iterator[Engine]:
    """Point the state layer's `open_db()` at this test's database."""
    visio_db.bind_engine(engine)
    yield engine
    visio_db.bind_engine(None)


@pytest.fixture
def now_clock() -> FrozenClock:
    """The state layer reads the real clock: data for it is made relative to now."""
    return FrozenClock(utcnow())


def run_async(handler_call: Coroutine[Any, Any, Any]) -> Any:
    """Run an async handler to its end, as Reflex would: on a loop of its own thread, since
    the browser tests' Playwright may hold a running loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, handler_call).result()


def new_state(cls, token: str = ""):  # type: ignore[no-untyped-def]
    state = cls(_reflex_internal_init=True)
    state.token = token
    return state


def redirect_target(result) -> str | None:  # type: ignore[no-untyped-def]
    """The path of the first redirect among the events a handler returned."""
    events = result if isinstance(result, list) else [result]
    for event in events:
        if event is not None and event.handler.fn.__qualname__ == "_redirect":
            return dict((k._js_expr, v._var_value) for k, v in event.args)["path"]
    return None


_TOAST = re.compile(r"refs\['__toast'\]\?\.\[\"(\w+)\"\]\(")


def toasts(result) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The (level, message) of every toast among the events a handler returned."""
    events = result if isinstance(result, list) else [result]
    found = []
    for event in events:
        handler = getattr(event, "handler", None)  # an EventSpec; a bare EventHandler has none
        if handler is None or handler.fn.__qualname__ != "_call_function":
            continue
        script = str(dict((k._js_expr, v) for k, v in event.args)["function"])
        match = _TOAST.search(script)
        if match:
            found.append((match.group(1), json.JSONDecoder().raw_decode(script, match.end())[0]))
    return found
