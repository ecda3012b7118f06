"""The teacher's statistics page: figures formatted for the viewer, one page of the table."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

import reflex as rx
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from visio.db import read_db
from visio.i18n.formatting import babel_locale, format_money, format_when
from visio.models import Role
from visio.services import stats
from visio.services.errors import InvalidInput
from visio.settings import settings
from visio.state.app import AppState

PAGE_SIZE = 10


def _short(title: str, limit: int = 28) -> str:
    """A title short enough for a chart's axis."""
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


class StatusCount(TypedDict):
    status: str
    label: str
    count: str


class Bar(TypedDict):
    label: str
    value: int
    count: str  # the value as text, for the chart's table (its text alternative)


class MoneyBar(TypedDict):
    label: str
    # Major units, for the chart's axis only: every amount shown as text is formatted from cents.
    amount: float
    money: str  # the amount formatted from cents, for the chart's table


class AttendanceBar(TypedDict):
    label: str
    title: str  # in full, for the chart's table (the label is cut for the axis)
    enrolled: int
    attended: int


class UpcomingItem(TypedDict):
    title: str
    when: str
    seats: str


class TableRow(TypedDict):
    id: int
    title: str
    when: str
    status: str
    status_label: str
    seats: str
    fill: str
    revenue: str
    attended: str


class StatsState(AppState):
    """What the statistics page shows; nothing is loaded for anyone but a teacher."""

    loading: bool = True
    total_sessions: int = 0
    status_counts: list[StatusCount] = []
    enrollments: str = ""
    waiting: str = ""
    fill_rate: str = ""
    fill_hint: str = ""
    attendance_rate: str = ""
    attendance_hint: str = ""
    revenue_held: str = ""
    revenue_released: str = ""
    revenue_refunded: str = ""
    auto_cancelled: str = ""
    series_fill: str = ""
    series_fill_hint: str = ""
    revenue_series_name: str = ""
    enrollments_by_week: list[Bar] = []
    revenue_by_month: list[MoneyBar] = []
    attendance_by_session: list[AttendanceBar] = []
    upcoming: list[UpcomingItem] = []
    rows: list[TableRow] = []
    page: int = 1
    pages: int = 1

    # Formatting helpers (not events).

    def _number(self, n: int) -> str:
        return format_decimal(n, locale=babel_locale(self.lang))

    def _percent(self, rate: float | None) -> str:
        if rate is None:
            return "—"
        return format_percent(rate, locale=babel_locale(self.lang))

    def _day(self, day: date, pattern: str) -> str:
        return format_date(day, pattern, locale=babel_locale(self.lang))

    def _seats(self, enrolled: int, capacity: int | None) -> str:
        limit = "∞" if capacity is None else self._number(capacity)
        return f"{self._number(enrolled)} / {limit}"

    def _clear(self) -> None:
        self.total_sessions = 0
        self.status_counts = []
        self.enrollments = self.waiting = self.fill_rate = self.fill_hint = ""
        self.attendance_rate = self.attendance_hint = ""
        self.revenue_held = self.revenue_released = self.revenue_refunded = ""
        self.auto_cancelled = self.series_fill = self.series_fill_hint = ""
        self.revenue_series_name = ""
        self.enrollments_by_week, self.revenue_by_month, self.attendance_by_session = [], [], []
        self.upcoming, self.rows = [], []
        self.page = self.pages = 1

    def _show(self, o: stats.Overview) -> None:
        self.total_sessions = o.total_sessions
        self.status_counts = [
            StatusCount(status=s, label=self.text(f"status.{s}"), count=self._number(n))
            for s, n in o.counts.items()
        ]
        self.enrollments = self._number(o.active_enrollments)
        self.waiting = self._number(o.waiting)
        self.fill_rate = self._percent(o.fill_rate)
        self.fill_hint = (
            self.text(
                "stats.fill_hint",
                enrolled=self._number(o.fill.part),
                capacity=self._number(o.fill.whole),
            )
            if o.fill.whole
            else self.text("stats.no_capacity")
        )
        self.attendance_rate = self._percent(o.attendance_rate)
        self.attendance_hint = (
            self.text(
                "stats.attendance_hint",
                attended=self._number(o.attendance.part),
                enrolled=self._number(o.attendance.whole),
            )
            if o.attendance.whole
            else self.text("stats.no_finished")
        )
        self.revenue_held = format_money(o.revenue.held_cents, self.lang)
        self.revenue_released = format_money(o.revenue.released_cents, self.lang)
        self.revenue_refunded = format_money(o.revenue.refunded_cents, self.lang)
        self.auto_cancelled = self._number(o.auto_cancelled)
        self.series_fill = self._percent(o.series_fill.rate)
        self.series_fill_hint = (
            self.text(
                "stats.recurring_fill_hint",
                enrolled=self._number(o.series_fill.fill.part),
                capacity=self._number(o.series_fill.fill.whole),
                series=self._number(o.series_fill.series),
            )
            if o.series_fill.fill.whole
            else self.text("stats.no_recurring")
        )
        self.revenue_series_name = self.text("stats.series_revenue", currency=settings.currency)
        self.enrollments_by_week = [
            Bar(label=self._day(p.start, "d MMM"), value=p.value, count=self._number(p.value))
            for p in o.enrollments_by_week
        ]
        self.revenue_by_month = [
            MoneyBar(
                label=self._day(p.start, "MMM y"),
                amount=p.value / 100,
                money=format_money(p.value, self.lang),
            )
            for p in o.revenue_by_month
        ]
        self.attendance_by_session = [
            AttendanceBar(
                label=_short(a.title), title=a.title, enrolled=a.enrolled, attended=a.attended
            )
            for a in o.attendance_by_session
        ]
        self.upcoming = [
            UpcomingItem(
                title=u.title,
                when=format_when(u.starts_at, self.lang, self.viewer_tz),
                seats=self._seats(u.enrolled_count, u.capacity),
            )
            for u in o.upcoming
        ]
        self._show_table(o.table)

    def _show_table(self, table: stats.SessionTable) -> None:
        self.rows = [
            TableRow(
                id=r.session_id,
                title=r.title,
                when=format_when(r.starts_at, self.lang, self.viewer_tz),
                status=r.status.value,
                status_label=self.text(f"status.{r.status.value}"),
                seats=self._seats(r.enrolled, r.capacity),
                fill=self._percent(None if r.fill_percent is None else r.fill_percent / 100),
                revenue=format_money(r.revenue_cents, self.lang),
                attended=self._number(r.attended),
            )
            for r in table.rows
        ]
        self.page, self.pages = table.page, table.pages

    # Events.

    @rx.event
    def on_load(self):
        """Load every figure for the teacher; anyone else is sent away with nothing."""
        self.loading = True
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            self._clear()
            return redirect
        with read_db() as db:
            try:
                overview = stats.teacher_overview(
                    db=db, actor=user, tz=self.viewer_tz, page=1, page_size=PAGE_SIZE
                )
            except InvalidInput:  # a zone the browser's storage made up: use the platform's
                overview = stats.teacher_overview(
                    db=db, actor=user, tz=settings.default_timezone, page=1, page_size=PAGE_SIZE
                )
        self._show(overview)
        self.loading = False
        return None

    @rx.event
    def go_to_page(self, page: int):
        """Another page of the per-session table (the service keeps it within bounds)."""
        try:
            page = int(page)
        except (TypeError, ValueError):
            page = 1
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            self._clear()
            return redirect
        with read_db() as db:
            table = stats.session_table(db=db, actor=user, page=page, page_size=PAGE_SIZE)
        self._show_table(table)
        return None
