"""/wallet: balance, top-up, the history of movements and the purchase records."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.services import wallet_history, wallets
from visio.services.errors import DomainError
from visio.services.session_form import parse_money_cents
from visio.state.app import AppState

PAGE_SIZE = 15


class EntryItem(TypedDict):
    label: str
    session: str
    href: str
    amount: str
    positive: bool
    at: str


class PurchaseItem(TypedDict):
    session: str
    href: str
    amount: str
    status: str
    status_label: str
    at: str


class WalletState(AppState):
    loading: bool = True
    entries: list[EntryItem] = []
    purchases: list[PurchaseItem] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    amount: str = ""
    topup_error: str = ""
    topping_up: bool = False

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard()
        if user is None:
            self.entries, self.purchases = [], []
            return redirect
        lang, tz = self.lang, self.viewer_tz
        with open_db() as db:
            result = wallet_history.history(db=db, actor=user, page=self.page, page_size=PAGE_SIZE)
            bought = wallet_history.purchases(db=db, actor=user)
        self.balance_cents = result.balance_cents
        self.total, self.pages = result.total, result.pages
        self.entries = [
            EntryItem(
                label=self.text(f"wallet.kind.{e.kind}"),
                session=e.session_title or "",
                href=f"/sessions/{e.session_id}" if e.session_id else "",
                amount=("+" if e.amount_cents > 0 else "") + format_money(e.amount_cents, lang),
                positive=e.amount_cents > 0,
                at=format_when(e.at, lang, tz),
            )
            for e in result.entries
        ]
        self.purchases = [
            PurchaseItem(
                session=p.session_title,
                href=f"/sessions/{p.session_id}",
                amount=format_money(p.amount_cents, lang),
                status=p.status,
                status_label=self.text(f"wallet.purchase.{p.status}"),
                at=format_when(p.at, lang, tz),
            )
            for p in bought
        ]
        self.loading = False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page, self.topup_error = True, 1, ""
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()

    @rx.event
    def set_amount(self, value: str):
        self.amount, self.topup_error = value, ""

    @rx.event
    def top_up(self, amount: str = ""):
        user, redirect = self.guard()
        if user is None:
            return redirect
        if self.topping_up:
            return None
        self.topping_up = True
        try:
            cents = parse_money_cents(amount or self.amount, field="amount")
            with open_db() as db:
                result = wallets.top_up(db=db, actor=user, amount_cents=cents)
        except DomainError as error:
            self.topping_up = False
            self.topup_error = self.message(error)
            return None
        self.topping_up, self.amount, self.page = False, "", 1
        self._load()
        return rx.toast.success(
            self.text("wallet.topped_up", balance=format_money(result.balance_cents, self.lang))
        )
