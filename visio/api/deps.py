"""Typed request dependencies: a database session per request, the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from visio.db import open_db
from visio.models import User
from visio.services import accounts

TOKEN_COOKIE = "visio_token"  # the pages' login cookie (see visio.state.app.AppState.token)


def get_db() -> Iterator[Session]:
    """One unit of work per request; the services commit, the rest is rolled back."""
    with open_db() as db:
        yield db


def request_token(request: Request) -> str | None:
    """`Authorization: Bearer <token>` if the header is sent, else the browser's login cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return request.cookies.get(TOKEN_COOKIE) or None


def current_user(
    db: Annotated[Session, Depends(get_db)],
    token: Annotated[str | None, Depends(request_token)],
) -> User:
    """The caller, resolved on the server from their token; NotAuthenticated (401) otherwise."""
    return accounts.authenticate(db=db, token=token)


DbDep = Annotated[Session, Depends(get_db)]
UserDep = Annotated[User, Depends(current_user)]
