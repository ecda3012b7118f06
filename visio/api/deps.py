"""Typed request dependencies: a database session per request, the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlmodel import Session

from visio.db import open_db
from visio.models import User
from visio.services import accounts
from visio.services.errors import NotAuthenticated
from visio.settings import settings

MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number names nothing (and overflows)

# Only documents the scheme in OpenAPI; `request_token` reads the header itself.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="The token from POST /api/auth/login, as `Authorization: Bearer <token>`",
)


async def get_db() -> AsyncIterator[Session]:
    """One unit of work per request; the services commit, the rest is rolled back.

    Opened and closed on the event loop, used in the route's worker thread: opening does no
    I/O, and closing gives back the connection with a rollback, which waits on no lock. As a
    sync generator it cost two more hops to a worker thread and back per request.
    """
    with open_db() as db:
        yield db


async def request_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>`.

    Never the pages' login cookie: a browser sends it along with requests that another site's
    page makes, so it would prove nothing about who asked (downloads from the pages use links
    signed for one file instead, see visio.services.download_links).
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def client_address(request: Request) -> str:
    """The caller's address, as throttling counts it: the peer's, or the one the trusted
    reverse proxies (REFLEX_TRUSTED_PROXY_HOPS of them) put in X-Forwarded-For."""
    address = request.client.host if request.client else "unknown"
    hops = settings.trusted_proxy_hops
    if hops:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    return address


def current_user(
    db: Annotated[Session, Depends(get_db)],
    token: Annotated[str | None, Depends(request_token)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    """The caller, resolved on the server from their token; NotAuthenticated (401) otherwise."""
    return accounts.authenticate(db=db, token=token)


async def bearer_token(
    token: Annotated[str | None, Depends(request_token)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str | None:
    """The bearer token, if any: for routes that also take another proof (a download link)."""
    return token


async def required_token(token: Annotated[str | None, Depends(bearer_token)]) -> str:
    """The bearer token, for routes that resolve the caller themselves (in `in_worker`): no
    token is a 401 before any parameter is checked, as with `current_user`: nobody logged in
    learns anything from a 422."""
    if token is None:
        raise NotAuthenticated()
    return token


# Per event loop, as anyio's own default limiter (a limiter belongs to the loop it waits on).
_hot_limiters: RunVar[dict[str, CapacityLimiter]] = RunVar("visio_hot_limiters")


def _lane(name: str) -> CapacityLimiter:
    try:
        lanes = _hot_limiters.get()
    except LookupError:
        lanes = {}
        _hot_limiters.set(lanes)
    if name not in lanes:
        lanes[name] = CapacityLimiter(settings.api_hot_threads)
    return lanes[name]


async def in_worker(work: Callable[[], Response], *, lane: str) -> Response:
    """Run a hot route's whole work (open the database, authenticate, the use case, the JSON)
    in one worker thread: each sync dependency would cost a thread hop of its own.

    For work that may wait on a lock (a seat claim waits for the session's row): on the event
    loop that wait would hold up every request of the worker. A read waits on no lock and runs
    on the loop instead (`visio.api.sessions.list_sessions`).

    At most `api_hot_threads` works of a lane at once, the others queued in arrival order. The
    work is mostly Python, which runs one thread at a time: with a thread per request (up to
    40), 50 clients made each request wait its turn at the interpreter's lock again and again,
    and the pool opened connections past its 10 kept ones, new each time (bench/results.md:
    listing sessions under 50 clients on SQLite went from 151 to 349 requests per second). Each
    route has its lane: works waiting on a lock hold up no other route's.
    """
    return await to_thread.run_sync(work, limiter=_lane(lane))


def json_answer(model: BaseModel, status_code: int = 200) -> Response:
    """A body the code itself built, serialized once (not validated again by FastAPI)."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")


DbDep = Annotated[Session, Depends(get_db)]
UserDep = Annotated[User, Depends(current_user)]
AddressDep = Annotated[str, Depends(client_address)]
TokenDep = Annotated[str | None, Depends(bearer_token)]
RequiredTokenDep = Annotated[str, Depends(required_token)]
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="The session's id")]
MaterialId = Annotated[int, Path(ge=1, le=MAX_ID, description="The material's id")]
