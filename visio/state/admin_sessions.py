"""/admin/sessions: every teacher's sessions; cancel one with the normal refunds (admins only)."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.models import Role
from visio.services import admin_sessions
from visio.services.errors import DomainError
from visio.state.app import AppState

PAGE_SIZE = 20
CANCELLABLE = ("draft", "scheduled", "ongoing")


class SessionRow(TypedDict):
    id: int
    title: str
    teacher: str
    when: str
    status: str
    status_label: str
    price: str
    enrolled: str
    cancellable: bool


class AdminSessionsState(AppState):
    loading: bool = True
    q: str = ""
    status_filter: str = "all"
    rows: list[SessionRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    cancel_open: bool = False
    cancel_title: str = ""
    cancel_reason: str = ""
    cancel_error: str = ""
    _cancel_id: int | None = None

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            self.rows = []
            return redirect
        lang, tz = self.lang, self.viewer_tz
        with open_db() as db:
            found = admin_sessions.list_sessions(
                db=db,
                actor=user,
                q=self.q,
                status=None if self.status_filter == "all" else self.status_filter,
                page=self.page,
                page_size=PAGE_SIZE,
            )
        self.rows = [
            SessionRow(
                id=s.id,
                title=s.title,
                teacher=f"{s.teacher_name} · {s.teacher_email}",
                when=format_when(s.starts_at, lang, tz),
                status=s.status,
                status_label=self.text(f"status.{s.status}"),
                price=format_money(s.price_cents, lang) if s.is_paid else self.text("common.free"),
                enrolled=self.text("admin.sessions.enrolled", n=s.enrolled_count),
                cancellable=s.status in CANCELLABLE,
            )
            for s in found.items
        ]
        self.total, self.pages, self.loading = found.total, found.pages, False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page, self.cancel_open = True, 1, False
        return self._load()

    @rx.event
    def set_q(self, value: str):
        self.q, self.page = value[:120], 1
        return self._load()

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter, self.page = value, 1
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()

    @rx.event
    def ask_cancel(self, session_id: int):
        row = next((r for r in self.rows if r["id"] == session_id), None)
        if row is None:
            return
        self._cancel_id, self.cancel_title = row["id"], row["title"]
        self.cancel_reason, self.cancel_error, self.cancel_open = "", "", True

    @rx.event
    def set_cancel_open(self, value: bool):
        self.cancel_open = bool(value)

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason, self.cancel_error = value[:1000], ""

    @rx.event
    def confirm_cancel(self):
        user, redirect = self.guard(Role.ADMIN)
        if user is None:
            return redirect
        try:
            with open_db() as db:
                done = admin_sessions.cancel_session(
                    db=db,
                    actor=user,
                    video_session_id=self._cancel_id or 0,
                    reason=self.cancel_reason,
                )
        except DomainError as error:
            self.cancel_error = self.message(error)
            return None
        self.cancel_open, self._cancel_id = False, None
        self._load()
        amount = format_money(done.refunded_cents, self.lang)
        return rx.toast.success(
            self.text("admin.sessions.cancelled_toast", count=done.refunded_count, amount=amount)
        )
