"""The "forgot password?" and "choose a new password" forms."""

from __future__ import annotations

import asyncio

import reflex as rx

from visio.db import open_db
from visio.services import accounts
from visio.services.errors import DomainError
from visio.state.app import AppState


def _request(email: str, address: str) -> None:
    with open_db() as db:
        accounts.request_password_reset(db=db, email=email, address=address)


def _reset(token: str, password: str) -> None:
    with open_db() as db:
        accounts.reset_password(db=db, token=token, password=password)


class PasswordResetState(AppState):
    """What the two pages show: field errors, a form error, and whether the request went out."""

    errors: dict[str, str] = {}
    form_error: str = ""
    sent_to: str = ""

    @rx.var
    def reset_token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.var
    def sent_message(self) -> str:
        return self.text("forgot.sent", email=self.sent_to) if self.sent_to else ""

    @rx.event
    def open_page(self):
        self.errors, self.form_error, self.sent_to = {}, "", ""
        if not self.browser_tz:
            return AppState.load_shell

    def client_address(self) -> str:
        return self.router.session.client_ip or "unknown"

    @rx.event
    async def request_reset(self, form: dict):
        self.errors, self.form_error = {}, ""
        email = form.get("email", "")
        try:
            await asyncio.to_thread(_request, email, self.client_address())
        except DomainError as error:
            if error.field:
                self.errors = {error.field: self.message(error)}
            else:
                self.form_error = self.message(error)
            return
        # The same words whether or not the account exists.
        self.sent_to = accounts.normalize_email(email)

    @rx.event
    async def reset_password(self, form: dict):
        self.errors, self.form_error = {}, ""
        password = form.get("password", "")
        if password != form.get("confirm", ""):
            self.errors = {"confirm": self.text("reset.mismatch")}
            return
        try:
            await asyncio.to_thread(_reset, self.reset_token, password)
        except DomainError as error:
            if error.field == "password":
                self.errors = {"password": self.message(error)}
            else:
                self.form_error = self.message(error)
            return
        self.token = ""  # every login of the account was revoked, this browser's too
        self._forget_user()
        return [rx.toast.success(self.text("reset.done")), rx.redirect("/login")]
