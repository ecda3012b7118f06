"""The caller's account over HTTP: mail preferences, change of password; and the one-click
unsubscribe of a mail (RFC 8058), which needs no login: the signed link is the proof."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from visio.api.deps import DbDep, TokenDep, UserDep
from visio.api.errors import error_responses, request_language
from visio.api.schemas import Body, Boolean, Text
from visio.i18n import t
from visio.services import accounts, notice_preferences, unsubscribe

router = APIRouter(tags=["account"])


class PreferenceOut(BaseModel):
    kind: str = Field(description="The kind of notice: `session_moved`, `enrollment_confirmed`...")
    email: bool = Field(description="Whether it is mailed (it is shown in the app either way)")
    label: str
    hint: str


class PreferencesOut(BaseModel):
    """The kinds of mail the caller may turn off, and their choice (or the default)."""

    preferences: list[PreferenceOut]
    email: dict[str, bool] = Field(description="The same choices, by kind")


class PreferencesPatchIn(Body):
    email: dict[Annotated[str, Field(max_length=40)], Boolean] = Field(
        description='Kinds to turn on or off: `{"session_moved": false}`'
    )


class PasswordChangeIn(Body):
    current_password: Text
    new_password: Text


class UnsubscribedOut(BaseModel):
    kind: str
    email: bool = False
    detail: str


def _preferences_out(choices: list[notice_preferences.Choice], lang: str) -> PreferencesOut:
    return PreferencesOut(
        preferences=[
            PreferenceOut(
                kind=c.kind,
                email=c.email,
                label=t(f"prefs.{c.kind}", lang),
                hint=t(f"prefs.{c.kind}.hint", lang),
            )
            for c in choices
        ],
        email={c.kind: c.email for c in choices},
    )


@router.get("/account/preferences", response_model=PreferencesOut, responses=error_responses(401))
def preferences(db: DbDep, user: UserDep, request: Request) -> PreferencesOut:
    """The optional kinds of mail for the caller's role, each on or off. Cancellations, refunds
    and password mails are always sent and not listed."""
    choices = notice_preferences.email_choices(db=db, actor=user)
    return _preferences_out(choices, request_language(request))


@router.patch(
    "/account/preferences",
    response_model=PreferencesOut,
    responses=error_responses(401, 422, 503),
)
def change_preferences(
    body: PreferencesPatchIn, db: DbDep, user: UserDep, request: Request
) -> PreferencesOut:
    """Turn kinds of mail on or off; an unknown or mandatory kind (`notice_kind_invalid`, 422)
    changes nothing."""
    choices = notice_preferences.set_email_choices(db=db, actor=user, choices=body.email)
    return _preferences_out(choices, request_language(request))


@router.post(
    "/account/password", status_code=204, responses=error_responses(401, 403, 422, 429, 503)
)
def change_password(body: PasswordChangeIn, db: DbDep, user: UserDep, token: TokenDep) -> Response:
    """Change the password, proven by the current one (`current_password_wrong`, 403). Every
    other login of the account is revoked; this request's token stays valid."""
    accounts.change_password(
        db=db,
        actor=user,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_token=token,
    )
    return Response(status_code=204)


@router.post("/unsubscribe", response_model=UnsubscribedOut, responses=error_responses(404, 503))
def one_click_unsubscribe(
    db: DbDep,
    request: Request,
    token: Annotated[str, Query(max_length=200, description="From the mail's link")] = "",
) -> UnsubscribedOut:
    """RFC 8058 one-click unsubscribe: a mail program POSTs `List-Unsubscribe=One-Click` to the
    mail's `List-Unsubscribe` link. No login: the link's signed token names the account and the
    kind of mail, which is turned off (again is harmless). A bad link is `unsubscribe_link_invalid`
    (404). Opening the link (GET) changes nothing: the page /unsubscribe asks first."""
    target = unsubscribe.unsubscribe(db=db, token=token)
    lang = request_language(request)
    kind = t(f"prefs.{target.kind}", lang)
    return UnsubscribedOut(kind=target.kind, detail=t("unsubscribe.done", lang, kind=kind))
