"""/account: the profile (language, time zone), the password, and which mails to get."""

from __future__ import annotations

import asyncio
from typing import TypedDict
from zoneinfo import available_timezones

import reflex as rx

from visio.db import open_db
from visio.models import User
from visio.services import accounts, notice_preferences
from visio.services.errors import DomainError
from visio.state.app import AppState

PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


class PreferenceRow(TypedDict):
    kind: str
    label: str
    hint: str
    on: bool


def _change_password(user: User, form: dict, keep_token: str) -> None:
    with open_db() as db:
        accounts.change_password(
            db=db,
            actor=user,
            current_password=form.get("current_password", ""),
            new_password=form.get("new_password", ""),
            keep_token=keep_token,
        )


class AccountState(AppState):
    """What the page shows: the choices per kind of mail, the zone, the password form's state."""

    pref_kinds: list[str] = []
    pref_email: dict[str, bool] = {}
    timezone_choice: str = ""
    password_errors: dict[str, str] = {}
    password_error: str = ""
    password_changed: bool = False
    changing_password: bool = False

    @rx.var
    def pref_rows(self) -> list[PreferenceRow]:
        """One row per optional kind, labelled in the viewer's language."""
        return [
            PreferenceRow(
                kind=kind,
                label=self.text(f"prefs.{kind}"),
                hint=self.text(f"prefs.{kind}.hint"),
                on=bool(self.pref_email.get(kind)),
            )
            for kind in self.pref_kinds
        ]

    @rx.var
    def timezone_hint(self) -> str:
        return self.text("account.timezone_hint", zone=self.browser_tz or "—")

    def _show_choices(self, choices: list[notice_preferences.Choice]) -> None:
        self.pref_kinds = [c.kind for c in choices]
        self.pref_email = {c.kind: c.email for c in choices}

    @rx.event
    def on_load(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        self.password_errors, self.password_error, self.password_changed = {}, "", False
        self.timezone_choice = user.timezone or ""
        with open_db() as db:
            self._show_choices(notice_preferences.email_choices(db=db, actor=user))

    @rx.event
    def set_email_choice(self, kind: str, on: bool):
        """Turn one kind of mail on or off, saved at once."""
        user, redirect = self.guard()
        if user is None:
            return redirect
        if not isinstance(kind, str) or not isinstance(on, bool):
            return
        try:
            with open_db() as db:
                choices = notice_preferences.set_email_choice(
                    db=db, actor=user, kind=kind, email=on
                )
        except DomainError as error:
            return rx.toast.error(self.message(error))
        self._show_choices(choices)
        label = self.text(f"prefs.{kind}")
        return rx.toast.success(
            self.text("account.notify_on" if on else "account.notify_off", kind=label)
        )

    @rx.event
    def set_timezone(self, zone: str):
        user, redirect = self.guard()
        if user is None:
            return redirect
        if not isinstance(zone, str) or not zone:
            return
        try:
            with open_db() as db:
                saved = accounts.update_preferences(db=db, actor=user, timezone=zone)
        except DomainError as error:
            return rx.toast.error(self.message(error))
        self.timezone_choice = saved.timezone or ""
        self._user_tz = saved.timezone
        return rx.toast.success(self.text("account.profile_saved"))

    @rx.event
    async def change_password(self, form: dict):
        """Change the password; this browser stays logged in, every other login is revoked."""
        self.password_errors, self.password_error, self.password_changed = {}, "", False
        user, redirect = self.guard()
        if user is None:
            yield redirect
            return
        if form.get("new_password", "") != form.get("confirm_password", ""):
            self.password_errors = {"confirm_password": self.text("account.password_mismatch")}
            return
        self.changing_password = True
        yield
        try:
            await asyncio.to_thread(_change_password, user, form, self.token)
        except DomainError as error:
            if error.field in PASSWORD_FIELDS:
                self.password_errors = {error.field: self.message(error)}
            else:
                self.password_error = self.message(error)
            return
        finally:
            self.changing_password = False
        self.password_changed = True
        yield [rx.set_value(name, "") for name in PASSWORD_FIELDS]
        yield rx.toast.success(self.text("account.password_changed"))
