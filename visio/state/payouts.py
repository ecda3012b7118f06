"""/wallet's payout part (teachers): the withdrawal form and the history of requests.

A substate of the wallet page's state, so one page load fills both, and a withdrawal refreshes
the balance and the ledger shown beside it.
"""

from __future__ import annotations

import secrets
from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.models import Role
from visio.services import payouts
from visio.services.errors import DomainError
from visio.services.session_form import parse_money_cents
from visio.settings import settings
from visio.state.wallet import WalletState

PAGE_SIZE = 10


class PayoutItem(TypedDict):
    id: int
    amount: str
    destination: str
    status: str
    status_label: str
    at: str
    note: str  # the payment's reference when paid, the reason when refused


class PayoutState(WalletState):
    payout_amount: str = ""
    payout_kind: str = "iban"
    payout_destination: str = ""
    payout_error: str = ""
    payout_error_field: str = ""
    requesting: bool = False
    # A new value after each request: a second submit of the same form (a double click queued
    # behind the first) carries the old one and is ignored.
    payout_nonce: str = ""
    payouts: list[PayoutItem] = []
    payouts_page: int = 1
    payouts_pages: int = 1
    payouts_total: int = 0

    @rx.var
    def payout_hint(self) -> str:
        return self.text("payout.hint", min=format_money(settings.payout_min_cents, self.lang))

    @rx.var
    def payouts_page_label(self) -> str:
        return self.text("common.page_of", page=self.payouts_page, pages=self.payouts_pages)

    def _load_payouts(self) -> None:
        user = self.current_user()
        if user is None or user.role != Role.TEACHER:
            self.payouts, self.payouts_total = [], 0
            return
        with open_db() as db:
            found = payouts.my_payouts(
                db=db, actor=user, page=self.payouts_page, page_size=PAGE_SIZE
            )
        lang, tz = self.lang, self.viewer_tz
        self.payouts_total, self.payouts_pages = found.total, found.pages
        self.payouts = [
            PayoutItem(
                id=line.id,
                amount=format_money(line.amount_cents, lang, line.currency),
                destination=self.text("payout.to", destination=line.destination),
                status=line.status,
                status_label=self.text(f"payout.status.{line.status}"),
                at=format_when(line.created_at, lang, tz),
                note=self.text("payout.reference", reference=line.reference)
                if line.reference
                else self.text("payout.reason", reason=line.refusal_reason)
                if line.refusal_reason
                else "",
            )
            for line in found.items
        ]

    @rx.event
    def open_wallet(self):
        """The page's load: the wallet, then (teachers) the withdrawal form and history."""
        self.loading, self.page, self.topup_error = True, 1, ""
        self.payouts_page, self.payout_error, self.payout_error_field = 1, "", ""
        self.payout_nonce = secrets.token_urlsafe(8)
        redirect = self._load()
        if redirect is not None:
            return redirect
        self._load_payouts()
        return None

    @rx.event
    def payouts_go_to(self, page: int):
        self.payouts_page = max(1, min(int(page), self.payouts_pages))
        self._load_payouts()

    @rx.event
    def set_payout_amount(self, value: str):
        self.payout_amount, self.payout_error, self.payout_error_field = value, "", ""

    @rx.event
    def set_payout_destination(self, value: str):
        self.payout_destination, self.payout_error, self.payout_error_field = value, "", ""

    @rx.event
    def set_payout_kind(self, value: str | list[str]):
        if isinstance(value, list):
            value = value[0] if value else ""
        if value in payouts.DESTINATION_KINDS:
            self.payout_kind, self.payout_error, self.payout_error_field = value, "", ""

    @rx.event
    def request_payout(self, form: dict):
        """Ask for the withdrawal (the button shows as busy meanwhile); the service checks
        everything again."""
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            yield redirect
            return
        if self.requesting or form.get("nonce") != self.payout_nonce:
            return  # a repeated submit of a form already sent
        self.requesting = True
        yield  # the disabled button reaches the browser before the work starts
        try:
            cents = parse_money_cents(self.payout_amount, field="amount")
            with open_db() as db:
                done = payouts.request_payout(
                    db=db,
                    actor=user,
                    amount_cents=cents,
                    destination=self.payout_destination,
                    destination_kind=self.payout_kind,
                )
                amount = format_money(done.amount_cents, self.lang, done.currency)
        except DomainError as error:
            self.requesting = False
            self.payout_error, self.payout_error_field = self.message(error), error.field or ""
            return
        self.payout_nonce = secrets.token_urlsafe(8)
        self.payout_amount, self.payout_destination = "", ""
        self.requesting, self.page, self.payouts_page = False, 1, 1
        self._load()
        self._load_payouts()
        yield rx.toast.success(self.text("payout.requested", amount=amount))
