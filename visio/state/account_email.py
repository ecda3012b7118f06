"""The account's address: the banner's "send again" and the /account section's change form."""

from __future__ import annotations

import asyncio

import reflex as rx

from visio.db import open_db
from visio.models import User
from visio.services import email_verification
from visio.services.errors import DomainError
from visio.state.app import AppState


def _resend(user: User) -> str:
    with open_db() as db:
        return email_verification.resend(db=db, actor=user)


def _request_change(user: User, email: str, password: str) -> str:
    with open_db() as db:
        return email_verification.request_change(db=db, actor=user, email=email, password=password)


class AccountEmailState(AppState):
    """What the banner and the address section show: the change form's errors and outcome."""

    change_errors: dict[str, str] = {}
    change_error: str = ""
    change_sent_to: str = ""

    @rx.var
    def banner_unverified(self) -> str:
        return self.text("banner.unverified", email=self.user_email)

    @rx.var
    def banner_refused(self) -> str:
        return self.text("banner.refused", email=self.user_email)

    @rx.var
    def change_sent_message(self) -> str:
        return (
            self.text("account_email.sent", email=self.change_sent_to)
            if self.change_sent_to
            else ""
        )

    @rx.event
    async def resend_link(self):
        """The banner's "send again": a new link to the account's address."""
        user = self.current_user()
        if user is None:
            return rx.redirect("/login")
        try:
            email = await asyncio.to_thread(_resend, user)
        except DomainError as error:
            if error.code == "email_already_verified":
                self.email_verified = True
            return rx.toast.warning(self.message(error))
        return rx.toast.success(self.text("banner.sent", email=email))

    @rx.event
    async def request_change(self, form: dict):
        """Send a link to the new address (the account moves once it is opened)."""
        self.change_errors, self.change_error, self.change_sent_to = {}, "", ""
        user = self.current_user()
        if user is None:
            return rx.redirect("/login?next=/account")
        try:
            email = await asyncio.to_thread(
                _request_change, user, form.get("email", ""), form.get("password", "")
            )
        except DomainError as error:
            if error.field in ("email", "password"):
                self.change_errors = {error.field: self.message(error)}
            else:
                self.change_error = self.message(error)
            return
        self.change_sent_to = email
