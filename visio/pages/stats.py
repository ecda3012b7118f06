"""/teacher/statistics: how the teacher's sessions are doing."""

from __future__ import annotations

import reflex as rx

from visio.components.layout import page_frame, page_header
from visio.components.sessions import empty_state, pager
from visio.components.stats import (
    attendance_chart,
    chart_card,
    chart_table,
    enrollments_chart,
    quiet_note,
    revenue_chart,
    session_table,
    stat_tile,
    status_counts,
    tile_grid,
    upcoming_list,
)
from visio.components.text import TEXT
from visio.state.stats import StatsState

S = StatsState
T = TEXT
SESSIONS_PATH = "/teacher/video-sessions"


def _section(title: rx.Var, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%")


def _tiles() -> rx.Component:
    return tile_grid(
        stat_tile(
            "users",
            T["stats.enrollments"],
            S.enrollments,
            T["stats.enrollments_hint"],
            "stat-enrollments",
        ),
        stat_tile("gauge", T["stats.fill_rate"], S.fill_rate, S.fill_hint, "stat-fill-rate"),
        stat_tile(
            "list-ordered",
            T["stats.waitlist"],
            S.waiting,
            T["stats.waitlist_hint"],
            "stat-waitlist",
        ),
        stat_tile(
            "user-check",
            T["stats.attendance_rate"],
            S.attendance_rate,
            S.attendance_hint,
            "stat-attendance-rate",
        ),
        stat_tile(
            "wallet",
            T["stats.revenue_released"],
            S.revenue_released,
            T["stats.revenue_released_hint"],
            "stat-revenue-released",
        ),
        stat_tile(
            "hourglass",
            T["stats.revenue_held"],
            S.revenue_held,
            T["stats.revenue_held_hint"],
            "stat-revenue-held",
        ),
        stat_tile(
            "undo-2",
            T["stats.revenue_refunded"],
            S.revenue_refunded,
            T["stats.revenue_refunded_hint"],
            "stat-revenue-refunded",
        ),
        stat_tile(
            "calendar-x",
            T["stats.auto_cancelled"],
            S.auto_cancelled,
            T["stats.auto_cancelled_hint"],
            "stat-auto-cancelled",
        ),
        stat_tile(
            "repeat",
            T["stats.recurring_fill"],
            S.series_fill,
            S.series_fill_hint,
            "stat-series-fill",
        ),
    )


def _charts() -> rx.Component:
    return rx.vstack(
        rx.grid(
            chart_card(
                T["stats.chart_enrollments"],
                T["stats.chart_enrollments_hint"],
                enrollments_chart(S.enrollments_by_week, T["stats.series_enrollments"]),
                chart_table(
                    T["stats.chart_enrollments"],
                    [T["a11y.week_of"], T["stats.series_enrollments"]],
                    S.enrollments_by_week,
                    ["label", "count"],
                    "chart-enrollments-table",
                ),
            ),
            chart_card(
                T["stats.chart_revenue"],
                T["stats.chart_revenue_hint"],
                revenue_chart(S.revenue_by_month, S.revenue_series_name),
                chart_table(
                    T["stats.chart_revenue"],
                    [T["a11y.month"], T["stats.col_revenue"]],
                    S.revenue_by_month,
                    ["label", "money"],
                    "chart-revenue-table",
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        chart_card(
            T["stats.chart_attendance"],
            T["stats.chart_attendance_hint"],
            rx.cond(
                S.attendance_by_session.length() > 0,
                attendance_chart(
                    S.attendance_by_session, T["stats.series_enrolled"], T["stats.series_attended"]
                ),
                quiet_note(T["stats.chart_attendance_empty"]),
            ),
            rx.cond(
                S.attendance_by_session.length() > 0,
                chart_table(
                    T["stats.chart_attendance"],
                    [
                        T["stats.col_session"],
                        T["stats.series_enrolled"],
                        T["stats.series_attended"],
                    ],
                    S.attendance_by_session,
                    ["title", "enrolled", "attended"],
                    "chart-attendance-table",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )


def _table() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(T["stats.table_title"], size="4"),
            session_table(
                S.rows,
                [
                    T["stats.col_session"],
                    T["stats.col_date"],
                    T["stats.col_status"],
                    T["stats.col_enrolled"],
                    T["stats.col_fill"],
                    T["stats.col_revenue"],
                    T["stats.col_attended"],
                ],
            ),
            pager(
                S.page,
                S.pages,
                T["common.page_of"]
                .replace("{page}", S.page.to_string())
                .replace("{pages}", S.pages.to_string()),
                T["common.previous"],
                T["common.next"],
                S.go_to_page,
            ),
            spacing="3",
            width="100%",
        ),
        size="2",
        width="100%",
    )


def _dashboard() -> rx.Component:
    return rx.vstack(
        _section(T["stats.sessions_by_status"], status_counts(S.status_counts)),
        _tiles(),
        _charts(),
        rx.card(
            _section(T["stats.upcoming"], upcoming_list(S.upcoming, T["stats.upcoming_empty"])),
            size="2",
            width="100%",
        ),
        _table(),
        spacing="6",
        width="100%",
    )


def _loading() -> rx.Component:
    return rx.vstack(
        rx.grid(
            *[rx.skeleton(rx.box(height="110px"), loading=True) for _ in range(6)],
            columns=rx.breakpoints(initial="2", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.skeleton(rx.box(height="300px"), loading=True),
        spacing="4",
        width="100%",
    )


def statistics_page() -> rx.Component:
    return page_frame(
        page_header(
            T["stats.title"],
            T["stats.subtitle"],
            rx.link(
                rx.button(rx.icon("video", size=16), T["stats.back"], variant="soft", size="3"),
                href=SESSIONS_PATH,
            ),
        ),
        rx.cond(
            S.loading,
            _loading(),
            rx.cond(
                S.total_sessions == 0,
                empty_state(
                    "chart-no-axes-column",
                    T["stats.empty_title"],
                    T["stats.empty_body"],
                    rx.link(
                        rx.button(rx.icon("plus", size=16), T["stats.empty_action"], size="3"),
                        href=SESSIONS_PATH,
                    ),
                ),
                _dashboard(),
            ),
        ),
    )
