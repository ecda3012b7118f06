"""/verify-email?token=...: open the link of a verification mail, logged in or not."""

from __future__ import annotations

import asyncio

import reflex as rx

from visio.db import open_db
from visio.services import email_verification
from visio.services.errors import DomainError
from visio.state.app import AppState


def _confirm(token: str) -> str:
    with open_db() as db:
        return email_verification.confirm(db=db, token=token).email


class VerifyEmailState(AppState):
    """The outcome of the link: "" while checking, "done" or "failed" (with the reason)."""

    outcome: str = ""
    confirmed_email: str = ""
    failure: str = ""

    @rx.var
    def verify_token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.var
    def done_message(self) -> str:
        return self.text("verify.done", email=self.confirmed_email) if self.confirmed_email else ""

    @rx.event
    async def open_page(self):
        """Spend the link in the address bar, then show who is here (the banner follows)."""
        self.outcome, self.confirmed_email, self.failure = "", "", ""
        token = self.verify_token
        if not token:
            self.outcome, self.failure = "failed", self.text("verify.no_token")
        else:
            try:
                self.confirmed_email = await asyncio.to_thread(_confirm, token)
                self.outcome = "done"
            except DomainError as error:
                self.outcome, self.failure = "failed", self.message(error)
        self.current_user()
        if not self.browser_tz:
            return AppState.load_shell
