"""The teacher's and the student's "Sessions Visio" pages: filters, one page of cards, bulk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db, read_db
from visio.i18n import t
from visio.i18n.formatting import format_duration, format_money, format_when
from visio.models import Role
from visio.services import bulk, catalog, minimums
from visio.services.errors import DomainError, InvalidInput
from visio.services.session_form import parse_money_cents
from visio.services.sessions import effective_status
from visio.state.app import AppState

PAGE_SIZE = 12
FILTER_FIELDS = (
    "q",
    "status",
    "platform",
    "paid",
    "tag",
    "price_min",
    "price_max",
    "date_from",
    "date_to",
    "sort",
    "view",
)


class SessionCard(TypedDict):
    id: int
    href: str
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
    revenue: str
    note: str
    note_color: str  # green: good news (enrolled, refunded); amber: the student may act
    series_id: int  # an occurrence of a recurring series (0: a one-off session)
    confirmed: str  # "Confirmed" once a minimum of participants is reached, else ""


@dataclass(frozen=True)
class _Look:
    """What a list's cards are written in, and for whom."""

    lang: str
    tz: str | None
    student: bool
    browse: bool  # the student's catalog (not their own sessions)


class StatusCount(TypedDict):
    status: str
    label: str
    count: int


class BulkLine(TypedDict):
    title: str
    done: bool
    reason: str


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("datetime_invalid", field=field) from None


def _card(row: catalog.SessionRow, now: datetime, look: _Look) -> SessionCard:
    """A session as a card of the lists."""
    s = row.session
    status = effective_status(s, now).value
    student, lang = look.student, look.lang

    def text(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    if s.capacity is None and student:
        seats = text("student.unlimited_seats")
    elif s.capacity is None:
        seats = text("teacher.enrolled", enrolled=s.enrolled_count, capacity="∞")
    elif student:
        seats = text("student.seats_left", n=max(0, s.capacity - s.enrolled_count))
    else:
        seats = text("teacher.enrolled", enrolled=s.enrolled_count, capacity=s.capacity)
    note, note_color = "", "green"
    if student and row.enrollment_status == "active" and look.browse:
        note = text("page.you_are_enrolled")
    if row.moved and status == "scheduled":
        note, note_color = text("student.moved_note"), "amber"
    if row.refunded_cents:
        note, note_color = (
            text("page.refunded", amount=format_money(row.refunded_cents, lang)),
            "green",
        )
    return SessionCard(
        id=s.id or 0,
        series_id=s.series_id or 0,
        href=f"/sessions/{s.id}" if student else f"/teacher/video-sessions/{s.id}",
        title=s.title,
        teacher=row.teacher_name,
        when=format_when(s.starts_at, lang, look.tz),
        duration=format_duration(s.duration_minutes, lang),
        status=status,
        status_label=text(f"status.{status}"),
        platform=text(f"platform.{s.platform}"),
        price=format_money(s.price_cents, lang, s.currency) if s.is_paid else text("common.free"),
        seats=seats,
        tags=row.tags,
        revenue=text("teacher.revenue", amount=format_money(row.revenue_cents, lang))
        if s.is_paid and not student
        else "",
        note=note,
        note_color=note_color,
        confirmed=text("minimum.confirmed")
        if status in ("scheduled", "ongoing") and minimums.view(s).confirmed
        else "",
    )


class SessionListState(rx.State, mixin=True):
    """One page of session cards, and the filters that chose them.

    A mixin: each page's state gets its own copy of these vars and events (events defined on a
    shared parent state would run on the parent, not on the page's state).
    """

    cards: list[SessionCard] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    more: bool = False  # counting stopped at `total`: there are more pages than `pages`
    loading: bool = True
    filter_error: str = ""

    q: str = ""
    status: str = "all"
    platform: str = "all"
    paid: str = "all"
    tag: str = ""
    price_min: str = ""
    price_max: str = ""
    date_from: str = ""
    date_to: str = ""
    sort: str = "soonest"
    view: str = "browse"

    @rx.var
    def filtered(self) -> bool:
        typed = (self.q, self.tag, self.price_min, self.price_max, self.date_from, self.date_to)
        chosen = (self.status, self.platform, self.paid)
        return any(typed) or any(value != "all" for value in chosen)

    @rx.var
    def page_label(self) -> str:
        key = "common.page_of_more" if self.more else "common.page_of"
        return self.text(key, page=self.page, pages=self.pages)

    def _filters(self) -> catalog.SessionFilters:
        price_min = parse_money_cents(self.price_min, field="price_min") if self.price_min else None
        price_max = parse_money_cents(self.price_max, field="price_max") if self.price_max else None
        return catalog.SessionFilters(
            q=self.q,
            status=None if self.status == "all" else self.status,
            platform=None if self.platform == "all" else self.platform,
            is_paid={"all": None, "free": False, "paid": True}.get(self.paid),
            tag=self.tag.strip().lower().lstrip("#") or None,
            price_min_cents=price_min,
            price_max_cents=price_max,
            date_from=_day(self.date_from, "date_from"),
            date_to=_day(self.date_to, "date_to"),
            sort=self.sort,
        )

    def _query(self, db, user, now) -> catalog.Page:  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def _role(self) -> str:
        raise NotImplementedError

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(self._role())
        if user is None:
            self.cards, self.total = [], 0
            return redirect
        now = utcnow()
        try:
            with read_db() as db:
                result = self._query(db, user, now)
        except DomainError as error:
            self.filter_error = self.message(error)
            self.loading = False
            return None
        self.filter_error = ""
        # What every card reads from the state, read once (each state read has its cost).
        look = _Look(
            lang=self.lang,
            tz=self.viewer_tz,
            student=self.user_role == Role.STUDENT,
            browse=self.view == "browse",
        )
        self.cards = [_card(row, now, look) for row in result.rows]
        self.total, self.pages = result.total, result.pages
        # "N+" while there may be more: a capped count, and this page full (a partial one is last).
        self.more = result.capped and len(result.rows) == result.page_size
        self.loading = False
        return None

    @rx.event
    def set_filter(self, name: str, value: str):
        if name not in FILTER_FIELDS:
            return None
        setattr(self, name, value if isinstance(value, str) else str(value))
        self.page = 1
        return self._load()

    @rx.event
    def clear_filters(self):
        self.q = self.tag = self.price_min = self.price_max = self.date_from = self.date_to = ""
        self.status = self.platform = self.paid = "all"
        self.page = 1
        return self._load()

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        return self._load()


class TeacherSessionsState(SessionListState, AppState):
    counts: list[StatusCount] = []
    selected: list[int] = []
    bulk_action: str = ""
    bulk_reason: str = ""
    bulk_error: str = ""
    bulk_results: list[BulkLine] = []
    results_open: bool = False

    def _role(self) -> str:
        return Role.TEACHER

    def _query(self, db, user, now) -> catalog.Page:  # type: ignore[no-untyped-def]
        counts = catalog.count_by_status(db=db, actor=user, clock=lambda: now)
        self.counts = [
            StatusCount(status=key, label=self.text(f"status.{key}"), count=counts.get(key, 0))
            for key in catalog.STATUSES
        ]
        return catalog.teacher_sessions(
            db=db,
            actor=user,
            filters=self._filters(),
            page=self.page,
            page_size=PAGE_SIZE,
            clock=lambda: now,
            tz=self.viewer_tz,
        )

    @rx.var
    def all_count(self) -> int:
        return sum(c["count"] for c in self.counts)

    @rx.var
    def page_selected(self) -> bool:
        return bool(self.cards) and all(c["id"] in self.selected for c in self.cards)

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.event
    def on_load(self):
        self.loading, self.page, self.selected = True, 1, []
        return self._load()

    @rx.event
    def toggle_selected(self, session_id: int):
        sid = int(session_id)
        self.selected = (
            [s for s in self.selected if s != sid]
            if sid in self.selected
            else [*self.selected, sid]
        )

    @rx.event
    def select_page(self, checked: bool):
        page_ids = [c["id"] for c in self.cards]
        if checked:
            self.selected = list(dict.fromkeys([*self.selected, *page_ids]))
        else:
            self.selected = [s for s in self.selected if s not in page_ids]

    @rx.event
    def clear_selection(self):
        self.selected = []

    @rx.event
    def ask_bulk(self, action: str):
        self.bulk_action, self.bulk_reason, self.bulk_error = action, "", ""

    @rx.event
    def set_bulk_reason(self, value: str):
        self.bulk_reason = value

    @rx.event
    def close_bulk(self):
        self.bulk_action = ""

    @rx.event
    def set_results_open(self, is_open: bool):
        self.results_open = is_open

    @rx.event
    def run_bulk(self):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        try:
            with open_db() as db:
                outcomes = bulk.bulk_action(
                    db=db,
                    actor=user,
                    action=self.bulk_action,
                    video_session_ids=list(self.selected),
                    reason=self.bulk_reason,
                )
        except DomainError as error:
            self.bulk_error = self.message(error)
            return None
        self.bulk_results = [
            BulkLine(
                title=o.title or f"#{o.session_id}",
                done=o.done,
                reason="" if o.done else self.message(DomainError(o.code, **o.params)),
            )
            for o in outcomes
        ]
        done = sum(1 for o in outcomes if o.done)
        self.bulk_action, self.selected, self.results_open = "", [], True
        self._load()
        return rx.toast.info(self.text("bulk.summary", done=done, skipped=len(outcomes) - done))


class StudentSessionsState(SessionListState, AppState):
    def _role(self) -> str:
        return Role.STUDENT

    def _query(self, db, user, now) -> catalog.Page:  # type: ignore[no-untyped-def]
        if self.view != "browse":
            return catalog.my_enrollments(
                db=db,
                actor=user,
                view=self.view,
                page=self.page,
                page_size=PAGE_SIZE,
                clock=lambda: now,
            )
        return catalog.available_sessions(
            db=db,
            actor=user,
            filters=self._filters(),
            page=self.page,
            page_size=PAGE_SIZE,
            clock=lambda: now,
            tz=self.viewer_tz,
        )

    @rx.event
    def on_load(self):
        self.loading, self.page = True, 1
        self.view = self.router.url.query_parameters.get("view", "browse")
        if self.view not in ("browse", *catalog.ENROLLMENT_VIEWS):
            self.view = "browse"
        return self._load()
