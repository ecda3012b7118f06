"""The root state: who is logged in, their language, time zone and wallet balance."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import reflex as rx

from visio.db import open_db, read_db
from visio.i18n import CATALOGS, LANGUAGES, error_message, pick_language
from visio.i18n.formatting import format_money
from visio.models import Role, User
from visio.services import accounts, inbox
from visio.services.errors import DomainError
from visio.settings import settings

TOKEN_MAX_AGE = settings.token_ttl_hours * 3600
HOME_BY_ROLE = {
    Role.TEACHER: "/teacher/video-sessions",
    Role.STUDENT: "/student/video-sessions",
    Role.ADMIN: "/admin",
}


def home_for(role: str) -> str:
    return HOME_BY_ROLE.get(role, "/")


class AppState(rx.State):
    """Shared by every page; page states are substates and see these vars."""

    # Secure over https; set by the pages' script, so not HttpOnly: the API ignores it.
    token: str = rx.Cookie(
        "",
        name="visio_token",
        max_age=TOKEN_MAX_AGE,
        same_site="strict",
        secure=settings.https,
    )
    lang_choice: str = rx.LocalStorage("", name="visio_lang")
    browser_tz: str = rx.LocalStorage("", name="visio_tz")

    user_name: str = ""
    user_email: str = ""
    user_role: str = ""
    balance_cents: int = 0
    unread_count: int = 0  # the bell's badge: loaded with the shell, and by /notifications
    # The banner about the address (True while nobody is logged in: no banner then).
    email_verified: bool = True
    email_refused: bool = False
    _user_id: int | None = None
    _user_tz: str | None = None

    @rx.var
    def lang(self) -> str:
        if self.lang_choice in LANGUAGES:
            return self.lang_choice
        return pick_language(self.router.headers.accept_language, settings.default_locale)

    @rx.var
    def logged_in(self) -> bool:
        return self.user_role != ""

    @rx.var
    def is_teacher(self) -> bool:
        return self.user_role == Role.TEACHER

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == Role.ADMIN

    @rx.var
    def home_path(self) -> str:
        return home_for(self.user_role)

    @rx.var
    def balance_label(self) -> str:
        return format_money(self.balance_cents, self.lang)

    @rx.var
    def bell_label(self) -> str:
        if self.unread_count == 1:
            return CATALOGS[self.lang]["inbox.bell_unread_one"]
        key = "inbox.bell_unread" if self.unread_count else "inbox.bell"
        return CATALOGS[self.lang][key].format(n=self.unread_count)

    @rx.var
    def account_label(self) -> str:
        """The account menu's name: starts with the name it shows (WCAG 2.5.3, label in name)."""
        return CATALOGS[self.lang]["nav.account_of"].format(name=self.user_name)

    @rx.var
    def initials(self) -> str:
        parts = self.user_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    # Helpers for substates (not events).

    @property
    def viewer_tz(self) -> str:
        """The account's zone if set, else the browser's, else the platform default."""
        return self._user_tz or self.browser_tz or settings.default_timezone

    def route_session_id(self) -> int | None:
        """The session id in the current path (/sessions/42, /sessions/42/room), if any."""
        parts = self.router.url.path.strip("/").split("/")
        numbers = [part for part in parts if part.isdigit()]
        return int(numbers[0]) if numbers else None

    def message(self, error: DomainError) -> str:
        return error_message(error.code, self.lang, error.params)

    def text(self, key: str, **params: Any) -> str:
        from visio.i18n import t

        return t(key, self.lang, **params)

    def _forget_user(self) -> None:
        self.user_name = self.user_email = self.user_role = ""
        self.balance_cents = self.unread_count = 0
        self.email_verified, self.email_refused = True, False
        self._user_id = None
        self._user_tz = None

    def _show_user(self, user: User, balance_cents: int) -> None:
        self._user_id = user.id
        self._user_tz = user.timezone
        shown = {
            "user_name": user.full_name,
            "user_email": user.email,
            "user_role": user.role,
            "balance_cents": balance_cents,
            "email_verified": user.email_verified_at is not None,
            "email_refused": user.email_refused_at is not None,
        }
        for name, value in shown.items():
            # Reflex sends every var assigned, even to the same value: every event resolves
            # the user again, and the header's figures need not travel each time.
            if getattr(self, name) != value:
                setattr(self, name, value)
        if user.locale in LANGUAGES and not self.lang_choice:
            self.lang_choice = user.locale

    def current_user(self) -> User | None:
        """Resolve the login token on the server, every time: the browser proves nothing."""
        with read_db() as db:  # every event asks: no transaction, statements stay prepared
            found = accounts.user_and_balance(db=db, token=self.token)
        if found is None:
            self._forget_user()
            return None
        user, balance_cents = found
        self._show_user(user, balance_cents)
        return user

    def guard(self, role: str | None = None) -> tuple[User | None, Any]:
        """The user if allowed here; else the redirect to send (login, or the user's home)."""
        user = self.current_user()
        if user is None:
            path = self.router.url.path or "/"
            return None, rx.redirect(f"/login?next={quote(path)}")
        if role is not None and user.role != role:
            return None, [
                rx.toast.warning(error_message("wrong_role", self.lang)),
                rx.redirect(home_for(user.role)),
            ]
        return user, None

    # Events.

    @rx.event
    def load_shell(self):
        """On every page: who is here, their unread notices, and the browser's zone for dates."""
        user = self.current_user()
        if user is not None:
            with read_db() as db:
                unread = inbox.unread_count(db, user.id)  # type: ignore[arg-type]
            if unread != self.unread_count:
                self.unread_count = unread
        if not self.browser_tz:
            return rx.call_script(
                "Intl.DateTimeFormat().resolvedOptions().timeZone",
                callback=AppState.set_browser_tz,
            )

    @rx.event
    def set_browser_tz(self, tz: str):
        from zoneinfo import available_timezones

        if isinstance(tz, str) and tz in available_timezones():
            self.browser_tz = tz

    @rx.event
    def show_language(self):
        """Tell the browser the page's language (`<html lang>`): screen readers pick their voice
        from it. Run after each page's load event, and on a switch of language."""
        return rx.call_script(f"document.documentElement.lang = {self.lang!r}")

    @rx.event
    def set_language(self, lang: str | list[str]):
        if isinstance(lang, list):
            lang = lang[0] if lang else ""
        if lang not in LANGUAGES:
            return
        self.lang_choice = lang
        if self._user_id is not None:
            with open_db() as db:
                user = db.get(User, self._user_id)
                if user is not None:
                    accounts.update_preferences(db=db, actor=user, locale=lang)
        return AppState.show_language

    @rx.event
    def logout(self):
        with open_db() as db:
            accounts.logout(db=db, token=self.token)
        self.token = ""
        self._forget_user()
        return rx.redirect("/login")
