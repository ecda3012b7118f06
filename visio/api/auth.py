"""Accounts over HTTP: register, log in for a bearer token (the browser's kind), log out, and
recover a forgotten password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from visio.api.deps import AddressDep, DbDep, UserDep, request_token
from visio.api.errors import error_responses, request_language
from visio.api.presenters import user_out
from visio.api.schemas import (
    LoginIn,
    LoginOut,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PasswordResetOut,
    RegisteredOut,
    RegisterIn,
)
from visio.i18n import t
from visio.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=201,
    response_model=RegisteredOut,
    responses=error_responses(422, 429, 503),
)
def register(body: RegisterIn, db: DbDep, address: AddressDep) -> RegisteredOut:
    """Create a teacher or student account (and its wallet); log in next for a token.

    An email that already has an account gets this same answer (nothing is created, and the
    account's owner can be told): registering never reveals who has an account.
    """
    done = accounts.register(
        db=db,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        role=body.role,
        address=address,
    )
    return RegisteredOut(email=done.email, full_name=done.full_name, role=done.role)


@router.post("/login", response_model=LoginOut, responses=error_responses(401, 422, 429, 503))
def login(body: LoginIn, db: DbDep, address: AddressDep) -> LoginOut:
    """A bearer token for the account; `invalid_credentials` whether or not the email exists."""
    found = accounts.login(db=db, email=body.email, password=body.password, address=address)
    return LoginOut(token=found.token, user=user_out(found.user))


@router.post("/logout", status_code=204, responses=error_responses(401))
def logout(db: DbDep, _: UserDep, token: Annotated[str | None, Depends(request_token)]) -> Response:
    """Revoke the token of this request: it opens nothing any more (other logins stay)."""
    accounts.logout(db=db, token=token)
    return Response(status_code=204)


@router.post(
    "/password-reset",
    status_code=202,
    response_model=PasswordResetOut,
    responses=error_responses(422, 429, 503),
)
def request_password_reset(
    body: PasswordResetIn, db: DbDep, address: AddressDep, request: Request
) -> PasswordResetOut:
    """Mail a reset link (single use, valid 1 hour) to the account of this email, if any.

    The same answer whether or not the email has an account; throttled per address and email.
    """
    accounts.request_password_reset(db=db, email=body.email, address=address)
    email = accounts.normalize_email(body.email)
    return PasswordResetOut(detail=t("forgot.sent", request_language(request), email=email))


@router.post("/password-reset/confirm", status_code=204, responses=error_responses(422, 503))
def confirm_password_reset(body: PasswordResetConfirmIn, db: DbDep) -> Response:
    """Set a new password with the token of a reset mail; every login of the account is revoked.

    `reset_token_invalid` (unknown or used) and `reset_token_expired` are 422 on `token`.
    """
    accounts.reset_password(db=db, token=body.token, password=body.password)
    return Response(status_code=204)
