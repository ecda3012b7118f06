"""Accounts over HTTP: register, log in for a bearer token (the browser's kind), log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from visio.api.deps import AddressDep, DbDep, UserDep, request_token
from visio.api.errors import error_responses
from visio.api.presenters import user_out
from visio.api.schemas import LoginIn, LoginOut, RegisteredOut, RegisterIn
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
