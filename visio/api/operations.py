"""Running it: /health, /ready and /metrics at the root, and what every HTTP request leaves
behind (a request id, a log line, its counters).

- `GET /health`: the process answers (touches nothing else).
- `GET /ready`: the database answers a query and, when configured, Redis a PING, each within
  VISIO_READY_TIMEOUT_SECONDS; else 503 naming what failed.
- `GET /metrics`: Prometheus text; with VISIO_METRICS_TOKEN set, for `Authorization: Bearer
  <token>` only; without, for this machine only (a loopback peer whose request no proxy
  forwarded: behind a reverse proxy on the same host, set the token).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import math
import re
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visio import logs, metrics
from visio.api import errors
from visio.db import open_db
from visio.services import operations
from visio.settings import settings

log = logging.getLogger("visio.requests")
probe_log = logging.getLogger(__name__)

OPS_PATHS = ("/health", "/ready", "/metrics")
# An incoming X-Request-ID is kept when it looks like an id (a proxy's or a client's), else a
# new one is made: nothing a client sends reaches the logs unchecked.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{8,128}")
PAGES, UNMATCHED = "<pages>", "<unmatched>"
FORWARDING_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")

router = APIRouter(tags=["operations"])


# --- /health and /ready ----------------------------------------------------------------------


@router.get("/health")
def health_check() -> dict[str, str]:
    """The process is up (nothing else is checked: see /ready)."""
    return {"status": "ok"}


@lru_cache(maxsize=2)
def _probe_engine(url: str) -> Engine:
    """A connection of its own for each probe, with short timeouts: it proves that the database
    takes connections now, and a busy pool cannot make the app look down."""
    timeout = settings.ready_timeout_seconds
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout})
    return create_engine(
        url,
        poolclass=NullPool,
        connect_args={
            "connect_timeout": max(2, math.ceil(timeout)),  # libpq's least is 2 s
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        },
    )


def _database_answers() -> None:
    # SQLite opens files lazily: read its schema so that a missing or locked file shows.
    query = "SELECT count(*) FROM sqlite_master" if settings.is_sqlite else "SELECT 1"
    with _probe_engine(settings.db_url).connect() as conn:
        conn.execute(text(query)).scalar()


def _redis_answers() -> None:
    timeout = settings.ready_timeout_seconds
    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()


# The probe under way for each dependency, per event loop: callers that arrive meanwhile wait
# for its answer instead of starting another, so a hung database never piles up threads.
_under_way: dict[tuple[int, str], asyncio.Future[None]] = {}


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # read here, so that a late failure is not reported as unread


async def _check(name: str, probe: Callable[[], None]) -> str:
    """ "ok", or why not in one word ("timeout", "unavailable"); details go to the log only."""
    key = (id(asyncio.get_running_loop()), name)
    future = _under_way.get(key)
    if future is None or future.done():
        future = asyncio.ensure_future(asyncio.to_thread(probe))
        future.add_done_callback(_retrieve)
        _under_way[key] = future
    try:
        await asyncio.wait_for(asyncio.shield(future), settings.ready_timeout_seconds)
    except TimeoutError:
        probe_log.warning("readiness: %s did not answer in time", name)
        return "timeout"
    except Exception as error:  # noqa: BLE001 (any failure means: not ready)
        probe_log.warning("readiness: %s failed (%s)", name, type(error).__name__)
        return "unavailable"
    return "ok"


@router.get("/ready", responses={503: {"description": "A dependency does not answer"}})
async def readiness() -> JSONResponse:
    """The database (and Redis, when configured) answer: 200, else 503 naming what failed."""
    probes: dict[str, Callable[[], None]] = {"database": _database_answers}
    if settings.redis_url:
        probes["redis"] = _redis_answers
    found = await asyncio.gather(*(_check(name, probe) for name, probe in probes.items()))
    checks = dict(zip(probes, found, strict=True))
    ok = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return JSONResponse(body, 200 if ok else 503, headers={"Cache-Control": "no-store"})


# --- /metrics --------------------------------------------------------------------------------


def _refusal(request: Request) -> JSONResponse | None:
    """Why this caller may not read the metrics, as the answer to give; None if they may."""
    lang = errors.request_language(request)

    def refuse(status: int, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
        message = errors.message_for(code, lang, fallback="domain_error")
        return JSONResponse(errors.error_body(code, message), status, headers=headers)

    if settings.metrics_token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return refuse(401, "metrics_token_required", {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), settings.metrics_token.encode()):
            return refuse(403, "metrics_forbidden")
        return None
    if not _local_and_direct(request.scope):
        return refuse(403, "metrics_forbidden")
    return None


def _local_and_direct(scope: Scope) -> bool:
    """The socket's peer is this machine and no proxy says it forwarded someone else."""
    client = scope.get("client")
    try:
        local = client is not None and ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        local = False
    headers = {name for name, _ in scope.get("headers") or []}
    return local and not headers.intersection(FORWARDING_HEADERS)


def _read_figures() -> operations.Figures | None:
    try:
        with open_db() as db:
            return operations.figures(db=db)
    except Exception as error:  # noqa: BLE001 (the counters are still worth serving)
        probe_log.warning("metrics: figures not read (%s)", type(error).__name__)
        return None


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        401: {"description": "VISIO_METRICS_TOKEN is set and no token was sent"},
        403: {"description": "A wrong token, or not this machine"},
    },
)
async def metrics_text(request: Request) -> Response:
    """Requests and latency per route, business figures, outbox backlog, background lag."""
    refused = _refusal(request)
    if refused is not None:
        return refused
    try:
        figures = await asyncio.wait_for(
            asyncio.to_thread(_read_figures), settings.ready_timeout_seconds * 2
        )
    except TimeoutError:
        figures = None
    body = await asyncio.to_thread(metrics.render, figures)
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)


# --- every request ---------------------------------------------------------------------------


def route_label(scope: Scope, status: int, api_prefix: str = "") -> str:
    """The route template that answered (`/api/sessions/{session_id}`), never the raw path:
    the web app's pages and files share one label, and so does anything no route knew."""
    route: Any = scope.get("route")
    if route is None or getattr(route, "name", "") == "unknown_route":
        return UNMATCHED
    if isinstance(route, Mount):
        return PAGES if status < 400 else UNMATCHED
    template = getattr(route, "path", None)
    if not template:
        return UNMATCHED
    # A route of a router included with the prefix knows its path without it.
    inside = api_prefix and scope.get("path", "").startswith(api_prefix + "/")
    if inside and not template.startswith(api_prefix + "/"):
        return api_prefix + template
    return template


class ObserveRequests:
    """Gives each HTTP request an id (X-Request-ID, in and out), then logs one line for it and
    counts it by route. No database work: a few microseconds a request."""

    def __init__(self, app: ASGIApp, api_prefix: str = "") -> None:
        self.app = app
        self.api_prefix = api_prefix
        logs.configure()
        metrics.enable()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope, status, self.api_prefix)
            method = scope.get("method", "")
            metrics.observe_request(method, route, status, seconds)
            path = scope.get("path", "")  # never the query string: it may carry a token
            log.info(
                "%s %s %d %.1fms",
                method,
                path,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "request_id": rid,
                },
            )
            logs.request_id.reset(token)
