"""Domain errors as HTTP responses: one table from error class to status, translated messages.

Every error body is `{"detail": message, "code": code}` (plus `field` when the error is about
one), the message in the caller's language (Accept-Language).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from visio.i18n import error_message, pick_language
from visio.services.errors import (
    Busy,
    Conflict,
    DomainError,
    Forbidden,
    InsufficientFunds,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PaymentFailed,
    Throttled,
)
from visio.settings import settings

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    InvalidCredentials: 401,
    Throttled: 429,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InsufficientFunds: 402,
    PaymentFailed: 402,
    InvalidInput: 422,
    Busy: 503,
}
DEFAULT_STATUS = 400


def status_for(error: DomainError) -> int:
    """The HTTP status of an error: its class's, or the nearest base class's, in the table."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return DEFAULT_STATUS


def request_language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"), settings.default_locale)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, str]:
    body = {"detail": message, "code": code}
    if field:
        body["field"] = field
    return body


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    """The JSON response for a refused use case."""
    status = status_for(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, Throttled) and isinstance(error.params.get("minutes"), int):
        headers["Retry-After"] = str(error.params["minutes"] * 60)
    message = error_message(error.code, request_language(request), error.params)
    return JSONResponse(error_body(error.code, message, error.field), status, headers=headers)


def not_found_response(request: Request) -> JSONResponse:
    message = error_message("not_found", request_language(request))
    return JSONResponse(error_body("not_found", message), 404)


def unexpected_error_response(request: Request, error: Exception) -> JSONResponse:
    """A bug: logged with its trace on the server, a plain message for the caller."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    message = error_message("unexpected", request_language(request))
    return JSONResponse(error_body("unexpected", message), 500)


def install(api: FastAPI) -> None:
    """Register the handlers on the API app."""

    async def on_domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return domain_error_response(request, error)

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        return unexpected_error_response(request, error)

    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(Exception, on_unexpected)
