"""The FastAPI app of the JSON API; Reflex mounts its own app inside it (`api_transformer`).

Routes live under /api, so requests for pages, the websocket and Reflex's endpoints fall
through to the Reflex app mounted at the root.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from visio.api import errors, materials

PREFIX = "/api"


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
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    errors.install(api)
    api.include_router(_health_router(), prefix=PREFIX)
    api.include_router(materials.router, prefix=PREFIX)

    # Keep last: an unknown /api path is a JSON 404, not a page of the web app.
    @api.api_route(
        PREFIX + "/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    def unknown_route(request: Request, path: str) -> JSONResponse:
        return errors.not_found_response(request)

    return api
