"""The account's address over HTTP: open a verification link, ask for a new one, and move the
account to a new address (applied once the link mailed there is opened)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from visio.api.deps import DbDep, UserDep
from visio.api.errors import error_responses, request_language
from visio.api.schemas import Body, Text
from visio.i18n import t
from visio.services import email_verification

router = APIRouter()


class VerifyEmailIn(Body):
    token: Annotated[str, Field(max_length=200)]


class EmailChangeIn(Body):
    email: Text
    password: Text


class LinkSentOut(BaseModel):
    """Where the link went, and what happens next, in the caller's language."""

    email: str
    detail: str


@router.post(
    "/auth/verify-email",
    tags=["auth"],
    status_code=204,
    responses={
        400: {"description": "Unknown or already used link (`email_token_invalid`)"},
        410: {"description": "Expired link (`email_token_expired`)"},
        **error_responses(409, 503),
    },
)
def verify_email(body: VerifyEmailIn, db: DbDep) -> Response:
    """Open the link of a verification mail: the address is proven (a change of address is
    applied now; 409 `email_taken` if another account took the address meanwhile)."""
    email_verification.confirm(db=db, token=body.token)
    return Response(status_code=204)


@router.post(
    "/auth/verify-email/resend",
    tags=["auth"],
    status_code=202,
    response_model=LinkSentOut,
    responses=error_responses(401, 409, 429),
)
def resend_verification(db: DbDep, user: UserDep, request: Request) -> LinkSentOut:
    """Mail a new verification link to the account's address (at most 5 links an hour)."""
    email = email_verification.resend(db=db, actor=user)
    return LinkSentOut(email=email, detail=t("banner.sent", request_language(request), email=email))


@router.post(
    "/account/email",
    tags=["account"],
    status_code=202,
    response_model=LinkSentOut,
    responses=error_responses(401, 403, 422, 429, 503),
)
def change_email(body: EmailChangeIn, db: DbDep, user: UserDep, request: Request) -> LinkSentOut:
    """Move the account to a new address: a link goes there, and the address changes only once
    it is opened. Needs the current password (`current_password_wrong`, 403, otherwise)."""
    email = email_verification.request_change(
        db=db, actor=user, email=body.email, password=body.password
    )
    lang = request_language(request)
    return LinkSentOut(email=email, detail=t("account_email.sent", lang, email=email))
