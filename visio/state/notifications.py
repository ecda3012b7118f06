"""/notifications: one page of the viewer's notices, marking them read, opening their page."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.db import open_db
from visio.i18n.formatting import format_when
from visio.services import inbox
from visio.state.app import AppState

PAGE_SIZE = 20


class NoticeRow(TypedDict):
    id: int
    title: str
    detail: str
    at: str
    read: bool
    href: str
    mark_label: str  # the per-item button's accessible name: "Mark as read: <title>"


def _id(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


class NotificationsState(AppState):
    loading: bool = True
    items: list[NoticeRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0

    @rx.var
    def page_label(self) -> str:
        return self.text("common.page_of", page=self.page, pages=self.pages)

    @rx.var
    def unread_label(self) -> str:
        if not self.total:
            return self.text("inbox.subtitle")
        if not self.unread_count:
            return self.text("inbox.all_read")
        return self.text("inbox.unread_count", n=self.unread_count)

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard()
        if user is None:
            self.items = []
            return redirect
        lang, tz = self.lang, self.viewer_tz
        with open_db() as db:
            found = inbox.inbox_page(
                db=db, actor=user, page=self.page, page_size=PAGE_SIZE, lang=lang, tz=tz
            )
            if not found.items and found.total and self.page > found.pages:
                self.page = found.pages  # the last page emptied meanwhile: show the one before
                found = inbox.inbox_page(
                    db=db, actor=user, page=self.page, page_size=PAGE_SIZE, lang=lang, tz=tz
                )
        self.total, self.pages, self.unread_count = found.total, found.pages, found.unread
        self.items = [
            NoticeRow(
                id=item.id,
                title=item.title,
                detail=item.detail,
                at=format_when(item.created_at, lang, tz),
                read=item.read,
                href=item.path or "",
                mark_label=self.text("inbox.mark_read_of", title=item.title),
            )
            for item in found.items
        ]
        self.loading = False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.page = True, 1
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        wanted = _id(page)
        self.page = max(1, min(wanted or 1, self.pages))
        return self._load()

    @rx.event
    def mark_read(self, notice_id: int):
        """Mark one of the viewer's notices read (another's id changes nothing)."""
        user, redirect = self.guard()
        if user is None:
            return redirect
        wanted = _id(notice_id)
        if wanted is not None:
            with open_db() as db:
                inbox.mark_read(db=db, actor=user, ids=[wanted])
        return self._load()

    @rx.event
    def open_item(self, notice_id: int):
        """Mark it read and open the page it is about (the path comes from the server's rows)."""
        user, redirect = self.guard()
        if user is None:
            return redirect
        wanted = _id(notice_id)
        row = next((row for row in self.items if row["id"] == wanted), None)
        if row is None:
            return None
        with open_db() as db:
            self.unread_count = inbox.mark_read(db=db, actor=user, ids=[row["id"]])
        self.items = [{**r, "read": True} if r is row else r for r in self.items]  # type: ignore[misc]
        return rx.redirect(row["href"]) if row["href"] else self._load()

    @rx.event
    def mark_all(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        with open_db() as db:
            inbox.mark_all_read(db=db, actor=user)
        self._load()
        return rx.toast.success(self.text("inbox.all_read"))
