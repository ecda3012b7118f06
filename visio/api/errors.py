"""Errors as HTTP responses: one table from error to status, translated messages.

Every error body is `{"detail": message, "code": code}` (plus `field` when the error is about
one), the message in the caller's language (Accept-Language). Request validation keeps FastAPI's
shape (`detail` is the list of problems) and adds `"code": "invalid_input"`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from visio.api.schemas import ErrorOut
from visio.i18n import CATALOGS, error_message, pick_language
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
# A code means one status whatever the class that carried it (unenroll calls a missing seat a
# conflict; the contract says "not enrolled" is 403 everywhere).
STATUS_BY_CODE: dict[str, int] = {
    "not_enrolled": 403,
    # A verification link: unknown or used, or expired (gone for good: ask for a new one).
    "email_token_invalid": 400,
    "email_token_expired": 410,
}
DEFAULT_STATUS = 400

# The API's names for the fields the services name after their forms.
API_FIELDS = {"duration_minutes": "duration", "price": "price_cents", "amount": "amount_cents"}

# Codes of errors the HTTP layer itself answers (unknown path, wrong method, body type...).
CODE_BY_STATUS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}

DESCRIPTIONS = {
    401: "No token, or an invalid, expired or revoked one (`not_authenticated`)",
    402: "Not enough money in the wallet, or the payment provider refused",
    403: "Wrong role, not the session's owner, or not enrolled",
    404: "Unknown session or material",
    405: "Method not allowed on this path",
    409: "The current state refuses it (`session_full`, `already_enrolled`, `deadline_passed`, "
    "`join_not_open`, `invalid_status`, `idempotency_conflict`...)",
    413: "The request is too large",
    415: "Unsupported request body type",
    422: "Invalid input: a field breaks a rule (`detail` is a message and `field` names it) "
    "or the request does not parse (`detail` lists the problems)",
    429: "Too many attempts (logins, registrations) from this address or for this email: "
    "wait (see Retry-After)",
    503: "The server is busy (a database lock, or password checks queued): try again",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route may answer with."""
    return {status: {"model": ErrorOut, "description": DESCRIPTIONS[status]} for status in statuses}


def status_for(error: DomainError) -> int:
    """The HTTP status of an error: its code's, its class's, or the nearest base class's."""
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return DEFAULT_STATUS


def request_language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"), settings.default_locale)


def message_for(
    code: str, lang: str, params: dict[str, Any] | None = None, *, fallback: str
) -> str:
    """The translated message of `code`, or of `fallback` while the catalog has none for it."""
    known = f"error.{code}" in CATALOGS.get(lang, {})
    return error_message(code if known else fallback, lang, params)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, str]:
    body = {"detail": message, "code": code}
    if field:
        body["field"] = API_FIELDS.get(field, field)
    return body


def domain_error_parts(
    request: Request, error: DomainError
) -> tuple[int, dict[str, str], dict[str, str]]:
    """Status, body and headers of the response to a refused use case."""
    status = status_for(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, Throttled) and isinstance(error.params.get("minutes"), int):
        headers["Retry-After"] = str(error.params["minutes"] * 60)
    lang, fallback = request_language(request), type(error).default_code
    message = message_for(error.code, lang, error.params, fallback=fallback)
    return status, error_body(error.code, message, error.field), headers


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    """The JSON response for a refused use case."""
    status, body, headers = domain_error_parts(request, error)
    return JSONResponse(body, status, headers=headers)


def http_error_response(
    request: Request, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error for what the HTTP layer refuses by itself (unknown path, wrong method...)."""
    code = CODE_BY_STATUS.get(status, "domain_error" if status < 500 else "unexpected")
    fallback = "not_found" if status == 404 else "domain_error" if status < 500 else "unexpected"
    message = message_for(code, request_language(request), fallback=fallback)
    return JSONResponse(error_body(code, message), status, headers=headers)


def not_found_response(request: Request) -> JSONResponse:
    return http_error_response(request, 404)


def validation_error_response(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 shape, with a code, and without echoing the input (it may be a password)."""
    problems = [
        {k: _plain(v) for k, v in problem.items() if k not in ("input", "url")}
        for problem in error.errors()
    ]
    body = {"detail": jsonable_encoder(problems), "code": "invalid_input"}
    return JSONResponse(body, 422)


def _plain(value: Any) -> Any:
    """A validation problem's detail as JSON can carry it (the exception of a validator as text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return str(value) if isinstance(value, BaseException) else value


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

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_error_response(request, error)

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400:  # a body FastAPI could not even decode: invalid input too
            problem = {"type": "body_invalid", "loc": ("body",), "msg": str(error.detail)}
            return validation_error_response(request, RequestValidationError([problem]))
        return http_error_response(request, error.status_code, error.headers)

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        return unexpected_error_response(request, error)

    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(RequestValidationError, on_validation_error)
    api.add_exception_handler(StarletteHTTPException, on_http_error)
    api.add_exception_handler(Exception, on_unexpected)
