"""/admin/users/<id>: one account, its wallet's ledger, suspend or restore, manual adjustments."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.models import Role
from visio.services import admin_money, admin_users
from visio.services.errors import DomainError
from visio.services.session_form import parse_money_cents
from visio.state.admin_users import user_state
from visio.state.app import AppState

PAGE_SIZE = 15


class LedgerRow(TypedDict):
    label: str
    detail: str
    amount: str
    positive: bool
    at: str


class AdminUserState(AppState):
    loading: bool = True
    found: bool = False
    name: str = ""
    email: str = ""
    role: str = ""
    state: str = ""
    created: str = ""
    verified: bool = False
    suspended_since: str = ""
    balance: str = ""
    logins: str = ""
    can_suspend: bool = False
    entries: list[LedgerRow] = []
    page: int = 1
    pages: int = 1
    suspend_open: bool = False
    suspend_reason: str = ""
    suspend_error: str = ""
    direction: str = "credit"
    adjust_amount: str = ""
    adjust_reason: str = ""
    adjust_error: str = ""
    adjusting: bool = False
    _target_id: int | None = None
    _wallet_id: int | None = None

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    def _target(self) -> int | None:
        parts = self.router.url.path.strip("/").split("/")
        return int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            self.entries, self.found = [], False
            return redirect
        lang, tz = self.lang, self.viewer_tz
        try:
            with open_db() as db:
                seen = admin_users.user_detail(db=db, actor=user, user_id=self._target_id or 0)
                ledger = admin_money.wallet_ledger(
                    db=db, actor=user, wallet_id=seen.wallet_id, page=self.page, page_size=PAGE_SIZE
                )
        except DomainError:
            self.found, self.loading = False, False
            return None
        line = seen.user
        self._wallet_id = seen.wallet_id
        self.found = True
        self.name, self.email, self.role = line.full_name, line.email, line.role
        self.state, self.verified = user_state(line), line.verified
        self.created = format_when(line.created_at, lang, tz)
        self.suspended_since = (
            self.text("admin.user.suspended_since", when=format_when(line.suspended_at, lang, tz))
            if line.suspended_at
            else ""
        )
        self.balance = format_money(line.balance_cents, lang)
        self.logins = self.text(
            "admin.user.logins_value", n=seen.login_count, live=seen.live_logins
        )
        self.can_suspend = line.role != Role.ADMIN and line.id != user.id
        self.pages = ledger.pages
        self.entries = [
            LedgerRow(
                label=self.text(f"wallet.kind.{e.kind}"),
                detail=e.session_title or (e.reference if e.kind == "adjustment" else "") or "",
                amount=("+" if e.amount_cents > 0 else "") + format_money(e.amount_cents, lang),
                positive=e.amount_cents > 0,
                at=format_when(e.at, lang, tz),
            )
            for e in ledger.entries
        ]
        self.loading = False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page, self._target_id = True, 1, self._target()
        self.suspend_open, self.adjust_error, self.suspend_error = False, "", ""
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()

    @rx.event
    def set_suspend_open(self, value: bool):
        self.suspend_open, self.suspend_error = bool(value), ""

    @rx.event
    def set_suspend_reason(self, value: str):
        self.suspend_reason, self.suspend_error = value[:1000], ""

    @rx.event
    def confirm_suspend(self):
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            return redirect
        try:
            with open_db() as db:
                admin_users.suspend_user(
                    db=db, actor=user, user_id=self._target_id or 0, reason=self.suspend_reason
                )
        except DomainError as error:
            self.suspend_error = self.message(error)
            return None
        self.suspend_open, self.suspend_reason = False, ""
        self._load()
        return rx.toast.success(self.text("admin.user.suspended_toast"))

    @rx.event
    def restore(self):
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            return redirect
        try:
            with open_db() as db:
                admin_users.restore_user(db=db, actor=user, user_id=self._target_id or 0)
        except DomainError as error:
            return rx.toast.error(self.message(error))
        self._load()
        return rx.toast.success(self.text("admin.user.restored_toast"))

    @rx.event
    def set_direction(self, value: str | list[str]):
        if isinstance(value, list):
            value = value[0] if value else ""
        if value in ("credit", "debit"):
            self.direction, self.adjust_error = value, ""

    @rx.event
    def set_adjust_amount(self, value: str):
        self.adjust_amount, self.adjust_error = value[:32], ""

    @rx.event
    def set_adjust_reason(self, value: str):
        self.adjust_reason, self.adjust_error = value[:1000], ""

    @rx.event
    def adjust(self):
        """Apply the form once: a second submit of the same form finds it emptied (and the
        button disabled while the first runs), so a double click never applies twice."""
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            return redirect
        if self.adjusting:
            return None
        self.adjusting = True
        try:
            cents = parse_money_cents(self.adjust_amount, field="amount")
            with open_db() as db:
                done = admin_money.adjust_wallet(
                    db=db,
                    actor=user,
                    user_id=self._target_id or 0,
                    direction=self.direction,
                    amount_cents=cents,
                    reason=self.adjust_reason,
                )
        except DomainError as error:
            self.adjusting, self.adjust_error = False, self.message(error)
            return None
        self.adjusting, self.adjust_amount, self.adjust_reason, self.page = False, "", "", 1
        self._load()
        balance = format_money(done.balance_cents, self.lang)
        return rx.toast.success(self.text("admin.adjust.done", balance=balance))
