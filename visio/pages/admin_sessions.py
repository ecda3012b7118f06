"""/admin/sessions: every teacher's sessions; cancel one with the normal refunds."""

from __future__ import annotations

import reflex as rx

from visio.components.admin import admin_nav, list_card, row_box
from visio.components.dialogs import confirm_dialog
from visio.components.layout import page_frame, page_header
from visio.components.sessions import pager, status_badge
from visio.components.text import TEXT
from visio.state.admin_sessions import AdminSessionsState as S

T = TEXT
STATUSES = [("all", "admin.sessions.all_statuses")] + [
    (s, f"status.{s}") for s in ("draft", "scheduled", "ongoing", "finished", "cancelled")
]


def _filters() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=S.q,
            on_change=S.set_q,
            debounce_timeout=350,
            placeholder=T["admin.sessions.search"],
            aria_label=T["admin.sessions.search"],
            size="3",
            width="100%",
            id="admin-session-search",
            max_length=120,
        ),
        rx.select.root(
            rx.select.trigger(
                aria_label=T["admin.sessions.all_statuses"], id="admin-session-status"
            ),
            rx.select.content(*[rx.select.item(T[key], value=v) for v, key in STATUSES]),
            value=S.status_filter,
            on_change=S.set_status_filter,
            size="3",
        ),
        gap="3",
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
        margin_bottom="16px",
    )


def _row(row: rx.Var) -> rx.Component:
    return row_box(
        rx.vstack(
            rx.text(row["title"], weight="bold"),
            rx.text(row["teacher"], size="1", color_scheme="gray", word_break="break-all"),
            rx.text(row["when"], size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.hstack(
            status_badge(row["status"], row["status_label"]),
            rx.text(row["price"], size="2"),
            rx.text(row["enrolled"], size="2", color_scheme="gray"),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            row["cancellable"],
            rx.button(
                T["admin.sessions.cancel"],
                color_scheme="red",
                variant="soft",
                size="2",
                on_click=S.ask_cancel(row["id"]),
                class_name="admin-session-cancel",
            ),
            rx.box(width="74px"),
        ),
        class_name="admin-session-row",
    )


def _cancel_dialog() -> rx.Component:
    return confirm_dialog(
        title=T["admin.sessions.cancel_title"],
        description=rx.vstack(
            rx.text(S.cancel_title, weight="bold"),
            rx.text(T["admin.sessions.cancel_help"]),
            spacing="1",
        ),
        body=(
            rx.text_area(
                value=S.cancel_reason,
                on_change=S.set_cancel_reason,
                placeholder=T["admin.user.reason"],
                aria_label=T["admin.user.reason"],
                margin_top="12px",
                rows="3",
                id="admin-cancel-reason",
                max_length=500,
            ),
            rx.cond(
                S.cancel_error != "",
                rx.text(S.cancel_error, color=rx.color("red", 11), size="1", role="alert"),
            ),
        ),
        keep_label=T["admin.keep"],
        confirm_label=T["admin.sessions.cancel"],
        on_confirm=S.confirm_cancel,
        confirm_id="admin-confirm-cancel",
        open=S.cancel_open,
        on_open_change=S.set_cancel_open,
    )


def admin_sessions_page() -> rx.Component:
    return page_frame(
        page_header(T["admin.sessions.title"], T["admin.sessions.subtitle"]),
        admin_nav("/admin/sessions"),
        _filters(),
        rx.cond(
            S.rows.length() > 0,
            list_card(rx.foreach(S.rows, _row), id="admin-sessions"),
            rx.cond(~S.loading, rx.text(T["admin.sessions.empty"], color_scheme="gray")),
        ),
        pager(S.page, S.pages, S.page_label, T["common.previous"], T["common.next"], S.go_to_page),
        _cancel_dialog(),
    )
