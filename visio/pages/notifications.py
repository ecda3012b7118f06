"""/notifications: the viewer's notices, newest first, a page at a time."""

from __future__ import annotations

import reflex as rx

from visio.components.layout import page_frame, page_header
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.notifications import NoticeRow
from visio.state.notifications import NotificationsState as N

T = TEXT


# A title is wrapped, never cut: a word longer than the row (a long compound, a URL) breaks.
WRAP = {"overflow_wrap": "anywhere", "word_break": "break-word"}


def _title(item: rx.Var[NoticeRow]) -> rx.Component:
    weight = rx.cond(item["read"], "regular", "bold")
    return rx.cond(
        item["href"] != "",
        rx.link(
            item["title"],
            href=item["href"],
            on_click=N.open_item(item["id"]).prevent_default,
            weight=weight,
            size="3",
            color=rx.color("gray", 12),
            class_name="notice-open",
            **WRAP,
        ),
        rx.text(item["title"], weight=weight, size="3", **WRAP),
    )


def notice_row(item: rx.Var[NoticeRow]) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.box(
                width="8px",
                height="8px",
                min_width="8px",
                border_radius="50%",
                margin_top="8px",
                background=rx.cond(item["read"], "transparent", rx.color("accent", 9)),
                aria_hidden="true",
            ),
            rx.vstack(
                _title(item),
                rx.cond(
                    item["detail"] != "",
                    rx.text(item["detail"], size="2", color=rx.color("gray", 11), **WRAP),
                ),
                rx.hstack(
                    rx.text(item["at"], size="1", color_scheme="gray"),
                    rx.cond(
                        ~item["read"],
                        rx.badge(T["inbox.unread"], size="1", variant="soft"),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.cond(
                ~item["read"],
                rx.tooltip(
                    rx.icon_button(
                        rx.icon("check", size=16),
                        variant="ghost",
                        size="2",
                        on_click=N.mark_read(item["id"]),
                        aria_label=item["mark_label"],
                        class_name="notice-mark-read",
                    ),
                    content=T["inbox.mark_read"],
                ),
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding="14px 16px",
        background=rx.cond(item["read"], "transparent", rx.color("accent", 2)),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name=rx.cond(item["read"], "notice", "notice notice-unread"),
    )


def _empty() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("bell-off", size=32, color=rx.color("gray", 9)),
            rx.heading(T["inbox.empty"], size="4", text_align="center"),
            rx.text(T["inbox.empty_hint"], color_scheme="gray", size="2", text_align="center"),
            align="center",
            spacing="2",
            padding_y="32px",
        ),
        width="100%",
        id="notifications-empty",
    )


def _list() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.el.ul(
                rx.foreach(N.items, notice_row),
                aria_label=T["inbox.list"],
                role="list",
                list_style="none",
                margin="0",
                padding="0",
            ),
            padding="0",
            overflow="hidden",
            width="100%",
            id="notifications-list",
        ),
        pager(N.page, N.pages, N.page_label, T["common.previous"], T["common.next"], N.go_to_page),
        width="100%",
        spacing="0",
    )


def notifications_page() -> rx.Component:
    return page_frame(
        page_header(
            T["inbox.title"],
            N.unread_label,
            # Nothing to mark on an empty list: no button there.
            rx.cond(
                N.total > 0,
                rx.button(
                    rx.icon("check-check", size=16),
                    T["inbox.mark_all"],
                    variant="soft",
                    on_click=N.mark_all,
                    disabled=N.unread_count == 0,
                    id="mark-all-read",
                ),
            ),
        ),
        rx.cond(
            N.loading,
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
            rx.cond(N.total == 0, _empty(), _list()),
        ),
    )
