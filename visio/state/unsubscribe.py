"""/unsubscribe?token=...: the page of a mail's "stop these mails" link. Opening it changes
nothing (link scanners open links); the button does, without any login."""

from __future__ import annotations

import reflex as rx

from visio.db import open_db
from visio.services import unsubscribe
from visio.services.errors import DomainError
from visio.state.app import AppState


class UnsubscribeState(AppState):
    """The kind of mail the link is about, an error for a bad link, and whether it is done."""

    kind: str = ""
    link_error: str = ""
    unsubscribed: bool = False

    @rx.var
    def link_token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.var
    def kind_label(self) -> str:
        return self.text(f"prefs.{self.kind}") if self.kind else ""

    @rx.var
    def question(self) -> str:
        return self.text("unsubscribe.ask", kind=self.kind_label)

    @rx.var
    def done_message(self) -> str:
        return self.text("unsubscribe.done", kind=self.kind_label)

    def _fail(self, error: DomainError) -> None:
        self.kind, self.link_error = "", self.message(error)

    @rx.event
    def open_page(self):
        """Read the link (without using it) to name its kind of mail."""
        self.kind, self.link_error, self.unsubscribed = "", "", False
        try:
            with open_db() as db:
                self.kind = unsubscribe.check(db, token=self.link_token).kind
        except DomainError as error:
            self._fail(error)
        return AppState.load_shell

    @rx.event
    def confirm(self):
        """Turn the link's kind of mail off (again is harmless)."""
        try:
            with open_db() as db:
                self.kind = unsubscribe.unsubscribe(db=db, token=self.link_token).kind
        except DomainError as error:
            self._fail(error)
            return
        self.unsubscribed = True
