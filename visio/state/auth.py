"""Login and registration forms."""

from __future__ import annotations

import asyncio

import reflex as rx

from visio.db import open_db
from visio.services import accounts
from visio.services.errors import DomainError
from visio.services.links import safe_next_path
from visio.state.app import AppState, home_for


def _login(email: str, password: str, address: str) -> accounts.Login:
    with open_db() as db:
        return accounts.login(db=db, email=email, password=password, address=address)


def _register(
    form: dict[str, str], *, role: str, locale: str, timezone: str, address: str
) -> accounts.Login:
    """Register, then log in with what was typed.

    The answer is the same for a taken email: the login says whether it was this person's (the
    right password) or a failed login like any other.
    """
    with open_db() as db:
        done = accounts.register(
            db=db,
            full_name=form["full_name"],
            email=form["email"],
            password=form["password"],
            role=role,
            locale=locale,
            address=address,
        )
        result = accounts.login(db=db, email=done.email, password=form["password"], address=address)
        if done.user is not None and timezone:
            accounts.update_preferences(db=db, actor=result.user, timezone=timezone)
    return result


class AuthState(AppState):
    """Form errors and the pending flag of the login and register pages."""

    errors: dict[str, str] = {}
    form_error: str = ""
    pending: bool = False
    role_choice: str = "student"

    @rx.var
    def next_path(self) -> str:
        return self.router.url.query_parameters.get("next", "")

    @rx.event
    def open_login(self):
        self.errors, self.form_error, self.pending = {}, "", False
        if self.current_user() is not None:
            return rx.redirect(safe_next_path(self.next_path, home_for(self.user_role)))
        if not self.browser_tz:
            return AppState.load_shell

    @rx.event
    def open_register(self):
        return AuthState.open_login

    @rx.event
    def set_role_choice(self, role: str):
        if role in ("teacher", "student"):
            self.role_choice = role

    def client_address(self) -> str:
        """The browser's address, as throttling counts it (REFLEX_TRUSTED_PROXY_HOPS applies)."""
        return self.router.session.client_ip or "unknown"

    @rx.event
    async def login(self, form: dict):
        self.errors, self.form_error = {}, ""
        try:
            # Off the event loop: a password hash (or a wait for a hashing slot) must not stall
            # every other page of this worker.
            result = await asyncio.to_thread(
                _login, form.get("email", ""), form.get("password", ""), self.client_address()
            )
        except DomainError as error:
            self.form_error = self.message(error)
            return
        self.token = result.token
        self.current_user()
        return rx.redirect(safe_next_path(self.next_path, home_for(result.user.role)))

    @rx.event
    async def register(self, form: dict):
        self.errors, self.form_error = {}, ""
        try:
            result = await asyncio.to_thread(
                _register,
                {k: form.get(k, "") for k in ("full_name", "email", "password")},
                role=self.role_choice,
                locale=self.lang,
                timezone=self.browser_tz,
                address=self.client_address(),
            )
        except DomainError as error:
            if error.field:
                self.errors = {error.field: self.message(error)}
            else:
                self.form_error = self.message(error)
            return
        self.token = result.token
        self.current_user()
        return [
            rx.toast.success(self.text("register.welcome", name=result.user.full_name)),
            rx.redirect(safe_next_path(self.next_path, home_for(result.user.role))),
        ]
