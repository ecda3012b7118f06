"""/admin/users: find accounts by name or email, a page at a time (admins only)."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.models import Role
from visio.services import admin_users
from visio.services.errors import DomainError
from visio.state.app import AppState

PAGE_SIZE = 20


class UserRow(TypedDict):
    id: int
    href: str
    name: str
    email: str
    role: str
    state: str  # active, suspended, unverified
    balance: str
    created: str


def user_state(line: admin_users.UserLine) -> str:
    if line.suspended_at is not None:
        return "suspended"
    return "active" if line.verified else "unverified"


class AdminUsersState(AppState):
    loading: bool = True
    q: str = ""
    role_filter: str = "all"
    rows: list[UserRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    error: str = ""

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    @rx.var
    def count_label(self) -> str:
        return self.text("admin.users.count", n=self.total)

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            self.rows = []
            return redirect
        lang, tz = self.lang, self.viewer_tz
        try:
            with open_db() as db:
                found = admin_users.search_users(
                    db=db,
                    actor=user,
                    q=self.q,
                    role=None if self.role_filter == "all" else self.role_filter,
                    page=self.page,
                    page_size=PAGE_SIZE,
                )
        except DomainError as error:
            self.error, self.loading = self.message(error), False
            return None
        self.rows = [
            UserRow(
                id=u.id,
                href=f"/admin/users/{u.id}",
                name=u.full_name,
                email=u.email,
                role=u.role,
                state=user_state(u),
                balance=format_money(u.balance_cents, lang),
                created=format_when(u.created_at, lang, tz),
            )
            for u in found.items
        ]
        self.total, self.pages, self.error, self.loading = found.total, found.pages, "", False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page = True, 1
        return self._load()

    @rx.event
    def set_q(self, value: str):
        self.q, self.page = value[:254], 1
        return self._load()

    @rx.event
    def set_role_filter(self, value: str):
        self.role_filter, self.page = value, 1
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()
