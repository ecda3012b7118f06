"""Accounts over HTTP: register, log in for a bearer token (the browser's kind), log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from visio.api.deps import DbDep, UserDep, request_token
from visio.api.errors import error_responses
from visio.api.presenters import user_out
from visio.api.schemas import LoginIn, LoginOut, RegisterIn, UserOut
from visio.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register", status_code=201, response_model=UserOut, responses=error_responses(409, 422)
)
def register(body: RegisterIn, db: DbDep) -> UserOut:
    """Create a teacher or student account (and its wallet)."""
    user = accounts.register(
        db=db,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        role=body.role,
    )
    return user_out(user)


@router.post("/login", response_model=LoginOut, responses=error_responses(401, 422, 429))
def login(body: LoginIn, db: DbDep) -> LoginOut:
    """A bearer token for the account; `invalid_credentials` whether or not the email exists."""
    found = accounts.login(db=db, email=body.email, password=body.password)
    return LoginOut(token=found.token, user=user_out(found.user))


@router.post("/logout", status_code=204, responses=error_responses(401))
def logout(db: DbDep, _: UserDep, token: Annotated[str | None, Depends(request_token)]) -> Response:
    """Revoke the token of this request: it opens nothing any more (other logins stay)."""
    accounts.logout(db=db, token=token)
    return Response(status_code=204)
