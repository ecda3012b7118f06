"""/admin/payouts: the admins' queue of payout requests, and the pay and refuse dialogs."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.models import PayoutStatus, Role
from visio.services import payouts
from visio.services.errors import DomainError
from visio.state.app import AppState

PAGE_SIZE = 20


class QueueItem(TypedDict):
    id: int
    teacher: str
    email: str
    amount: str
    destination: str
    status: str
    status_label: str
    requested_at: str
    decided_at: str
    note: str


class AdminPayoutsState(AppState):
    loading: bool = True
    items: list[QueueItem] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    requested_count: int = 0
    status_filter: str = "all"
    dialog: str = ""  # "", "pay" or "refuse"
    dialog_intro: str = ""
    dialog_text: str = ""
    dialog_error: str = ""
    deciding: bool = False
    _dialog_id: int | None = None

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    @rx.var
    def waiting_label(self) -> str:
        return self.text("admin_payouts.waiting", n=self.requested_count)

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            self.items = []
            return redirect
        status = None if self.status_filter == "all" else self.status_filter
        with open_db() as db:
            found = payouts.payout_queue(
                db=db, actor=user, status=status, page=self.page, page_size=PAGE_SIZE
            )
        lang, tz = self.lang, self.viewer_tz
        self.total, self.pages, self.requested_count = (
            found.total,
            found.pages,
            found.requested_count,
        )
        self.items = [
            QueueItem(
                id=line.id,
                teacher=line.user_name,
                email=line.user_email,
                amount=format_money(line.amount_cents, lang, line.currency),
                destination=line.destination,
                status=line.status,
                status_label=self.text(f"payout.status.{line.status}"),
                requested_at=self.text(
                    "admin_payouts.requested_at", when=format_when(line.created_at, lang, tz)
                ),
                decided_at=self.text(
                    "admin_payouts.decided_at", when=format_when(line.decided_at, lang, tz)
                )
                if line.decided_at
                else "",
                note=self.text("payout.reference", reference=line.reference)
                if line.reference
                else self.text("payout.reason", reason=line.refusal_reason)
                if line.refusal_reason
                else "",
            )
            for line in found.items
        ]
        self.loading = False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page, self.dialog = True, 1, ""
        return self._load()

    @rx.event
    def set_filter(self, value: str | list[str]):
        if isinstance(value, list):
            value = value[0] if value else ""
        if value == "all" or value in tuple(PayoutStatus):
            self.status_filter, self.page = value, 1
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()

    @rx.event
    def open_dialog(self, mode: str, payout_id: int):
        """Open the pay or refuse dialog of a request shown in the list."""
        item = next((i for i in self.items if i["id"] == payout_id), None)
        if item is None or mode not in ("pay", "refuse"):
            return
        self._dialog_id = payout_id
        self.dialog, self.dialog_text, self.dialog_error = mode, "", ""
        if mode == "pay":
            self.dialog_intro = self.text(
                "admin_payouts.pay_intro",
                amount=item["amount"],
                name=item["teacher"],
                destination=item["destination"],
            )
        else:
            self.dialog_intro = self.text(
                "admin_payouts.refuse_intro", amount=item["amount"], name=item["teacher"]
            )

    @rx.event
    def set_dialog_open(self, is_open: bool):
        if not is_open and not self.deciding:
            self.dialog, self._dialog_id = "", None

    @rx.event
    def set_dialog_text(self, value: str):
        self.dialog_text, self.dialog_error = value, ""

    @rx.event
    def confirm(self):
        """Pay or refuse the request of the open dialog (the button shows as busy meanwhile);
        the service checks it all again."""
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            yield redirect
            return
        if self.deciding or self._dialog_id is None or self.dialog not in ("pay", "refuse"):
            return
        self.deciding = True
        yield
        try:
            with open_db() as db:
                if self.dialog == "pay":
                    payouts.mark_paid(
                        db=db, actor=user, payout_id=self._dialog_id, reference=self.dialog_text
                    )
                else:
                    payouts.refuse(
                        db=db, actor=user, payout_id=self._dialog_id, reason=self.dialog_text
                    )
        except DomainError as error:
            self.deciding = False
            self.dialog_error = self.message(error)
            if error.code in ("payout_already_decided", "payout_not_found"):
                self._load()  # someone else decided it meanwhile: show it as it is now
            return
        done = "admin_payouts.paid_done" if self.dialog == "pay" else "admin_payouts.refused_done"
        self.deciding, self.dialog, self._dialog_id = False, "", None
        self._load()
        yield rx.toast.success(self.text(done))
