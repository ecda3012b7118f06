"""The teacher's and the student's "Sessions Visio" pages: one page of rows each."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db
from visio.i18n.formatting import format_duration, format_money, format_when
from visio.models import Role
from visio.services import catalog
from visio.services.sessions import effective_status
from visio.state.app import AppState

PAGE_SIZE = 12


class SessionCard(TypedDict):
    id: int
    title: str
    teacher: str
    when: str
    duration: str
    status: str
    status_label: str
    platform: str
    price: str
    seats: str
    tags: list[str]


class SessionListState(AppState):
    """What a sessions list page shows; `_scope` says whose sessions."""

    cards: list[SessionCard] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    loading: bool = True

    def _card(self, row: catalog.SessionRow, now) -> SessionCard:  # type: ignore[no-untyped-def]
        s = row.session
        status = effective_status(s, now).value
        if s.capacity is None and self.user_role == Role.STUDENT:
            seats = self.text("student.unlimited_seats")
        elif s.capacity is None:
            seats = self.text("teacher.enrolled", enrolled=s.enrolled_count, capacity="∞")
        elif self.user_role == Role.STUDENT:
            seats = self.text("student.seats_left", n=s.capacity - s.enrolled_count)
        else:
            seats = self.text("teacher.enrolled", enrolled=s.enrolled_count, capacity=s.capacity)
        return SessionCard(
            id=s.id or 0,
            title=s.title,
            teacher=row.teacher_name,
            when=format_when(s.starts_at, self.lang, self.viewer_tz),
            duration=format_duration(s.duration_minutes, self.lang),
            status=status,
            status_label=self.text(f"status.{status}"),
            platform=self.text(f"platform.{s.platform}"),
            price=format_money(s.price_cents, self.lang, s.currency)
            if s.is_paid
            else self.text("common.free"),
            seats=seats,
            tags=row.tags,
        )

    def _load(self, role: str):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(role)
        if user is None:
            self.cards = []
            return redirect
        now = utcnow()
        with open_db() as db:
            if role == Role.TEACHER:
                result = catalog.teacher_sessions(
                    db=db, actor=user, page=self.page, page_size=PAGE_SIZE
                )
            else:
                result = catalog.available_sessions(
                    db=db, actor=user, page=self.page, page_size=PAGE_SIZE
                )
        self.cards = [self._card(row, now) for row in result.rows]
        self.total, self.pages = result.total, result.pages
        self.loading = False
        return None


class TeacherSessionsState(SessionListState):
    @rx.event
    def on_load(self):
        self.loading = True
        self.page = 1
        return self._load(Role.TEACHER)

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(page, self.pages))
        return self._load(Role.TEACHER)


class StudentSessionsState(SessionListState):
    @rx.event
    def on_load(self):
        self.loading = True
        self.page = 1
        return self._load(Role.STUDENT)

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(page, self.pages))
        return self._load(Role.STUDENT)
