"""The FastAPI app of the JSON API; Reflex mounts its own app inside it (`api_transformer`).

Routes live under /api, so requests for pages, the websocket and Reflex's endpoints fall
through to the Reflex app mounted at the root.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match, Mount

from visio.api import (
    account,
    account_email,
    admin,
    auth,
    bodies,
    docs,
    enrollments,
    errors,
    materials,
    notifications,
    operations,
    payouts,
    series,
    sessions,
    waitlist,
    wallet,
)
from visio.security import SecurityHeaders

PREFIX = "/api"
DESCRIPTION = """\
The same use cases as the web pages, for other programs: a mobile app, an LMS, scripts.

- Log in with `POST /api/auth/login`, then send `Authorization: Bearer <token>`;
  `POST /api/auth/logout` revokes it.
- Errors are `{"detail": message, "code": code}`; the message follows `Accept-Language`.
- Money is in `*_cents` integers with a `currency`; times are ISO 8601 with an offset.
- `POST .../enroll`, `POST /api/wallet/topup`, `POST /api/wallet/payouts` and
  `POST /api/admin/users/{id}/adjust` take an `Idempotency-Key` header.
"""
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CAUGHT = [*METHODS, "OPTIONS"]  # what the catch-all answers for (HEAD follows GET)


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    def health() -> dict[str, str]:
        """The API answers."""
        return {"status": "ok"}

    return router


def create_api() -> FastAPI:
    """A new API app: its routes, the OpenAPI spec at /api/openapi.json, docs at /api/docs."""
    api = FastAPI(
        title="Visio API",
        version="1",
        description=DESCRIPTION,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # our own page (visio.api.docs): its scripts pinned
        redoc_url=None,
        # Operation ids are the route functions' names: `enroll`, `top_up`...
        generate_unique_id_function=lambda route: route.name,
    )
    errors.install(api)
    bodies.install(api)
    # Reflex mounts the pages inside this app: its answers get the headers too.
    api.add_middleware(SecurityHeaders)
    # Outermost: a request id, a log line and the counters for every answer, pages included.
    api.add_middleware(operations.ObserveRequests, api_prefix=PREFIX)
    api.include_router(operations.router)  # /health, /ready, /metrics: at the root
    api.include_router(docs.router, prefix=PREFIX)
    api.include_router(_health_router(), prefix=PREFIX)
    api.include_router(auth.router, prefix=PREFIX)
    api.include_router(account_email.router, prefix=PREFIX)
    api.include_router(sessions.router, prefix=PREFIX)
    api.include_router(enrollments.router, prefix=PREFIX)
    api.include_router(materials.router, prefix=PREFIX)
    api.include_router(wallet.router, prefix=PREFIX)
    api.include_router(payouts.router, prefix=PREFIX)
    api.include_router(account.router, prefix=PREFIX)
    api.include_router(notifications.router, prefix=PREFIX)
    api.include_router(series.router, prefix=PREFIX)
    api.include_router(waitlist.router, prefix=PREFIX)
    api.include_router(admin.router, prefix=PREFIX)

    # Keep last: an unknown /api path is a JSON 404 (a known one with another method, a 405),
    # not a page of the web app.
    @api.api_route(PREFIX + "/{path:path}", methods=CAUGHT, include_in_schema=False)
    def unknown_route(request: Request, path: str) -> JSONResponse:
        allowed = _methods_for(api, request)
        if allowed:
            headers = {"Allow": ", ".join(sorted(allowed))}
            return errors.http_error_response(request, 405, headers)
        return errors.not_found_response(request)

    return api


def _methods_for(api: FastAPI, request: Request) -> set[str]:
    """The methods the API's own routes accept on this request's path."""
    routes = [
        r  # Reflex's app, mounted at the root, matches every path: it is not one of ours
        for r in api.router.routes
        if not isinstance(r, Mount) and getattr(r, "name", "") != "unknown_route"
    ]
    return {
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    }
