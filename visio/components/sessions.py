"""Pieces that show sessions: status badge, price tag, card, empty state, pager."""

from __future__ import annotations

import reflex as rx

from visio.components.series import series_badge

STATUS_COLORS = {
    "draft": "gray",
    "scheduled": "blue",
    "ongoing": "green",
    "finished": "bronze",
    "cancelled": "red",
}


def status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.match(
        status,
        *[
            (key, rx.badge(label, color_scheme=color, variant="soft", radius="full"))
            for key, color in STATUS_COLORS.items()
        ],
        rx.badge(label, variant="soft", radius="full"),
    )


def confirmed_badge(label: rx.Var | str = "") -> rx.Component:
    """The session reached its minimum of participants: it takes place."""
    return rx.badge(
        rx.icon("circle-check", size=12),
        label,
        color_scheme="green",
        variant="soft",
        radius="full",
        class_name="confirmed-badge",
    )


def meta(icon: str, text: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=14, color=rx.color("gray", 10)),
        rx.text(text, size="2", color_scheme="gray"),
        spacing="2",
        align="center",
    )


def session_card(
    card: rx.Var, show_teacher: bool, leading: rx.Component | None = None
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                *([leading] if leading is not None else []),
                status_badge(card["status"], card["status_label"]),
                series_badge(card["series_id"].to(int)),
                rx.cond(card["confirmed"] != "", confirmed_badge(card["confirmed"])),
                rx.spacer(),
                rx.text(card["price"], weight="bold", size="3"),
                width="100%",
                align="center",
            ),
            rx.link(
                rx.heading(
                    card["title"],
                    size="4",
                    weight="bold",
                    trim="start",
                    style={"overflow_wrap": "anywhere"},
                ),
                href=card["href"],
                color=rx.color("gray", 12),
                underline="hover",
                class_name="session-link",
            ),
            *([meta("user", card["teacher"])] if show_teacher else []),
            meta("calendar", card["when"]),
            rx.hstack(
                meta("clock", card["duration"]),
                meta("video", card["platform"]),
                spacing="4",
                wrap="wrap",
            ),
            meta("users", card["seats"]),
            rx.cond(card["revenue"] != "", meta("coins", card["revenue"])),
            rx.cond(
                card["tags"].length() > 0,
                rx.hstack(
                    rx.foreach(
                        card["tags"].to(list[str]),
                        lambda tag: rx.badge(
                            "#", tag, variant="outline", radius="full", color_scheme="gray"
                        ),
                    ),
                    wrap="wrap",
                    spacing="1",
                ),
            ),
            spacing="2",
            align="start",
            width="100%",
        ),
        size="2",
        width="100%",
        class_name="session-card",
    )


def empty_state(icon: str, title: rx.Var, body: rx.Var, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28, color=rx.color("accent", 11)),
                width="64px",
                height="64px",
                border_radius="50%",
                background=rx.color("accent", 3),
            ),
            rx.heading(title, size="5", text_align="center"),
            rx.text(body, color_scheme="gray", text_align="center", max_width="420px"),
            *actions,
            align="center",
            spacing="3",
        ),
        padding_y="64px",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="16px",
        background=rx.color("gray", 1),
        width="100%",
        id="empty-state",
    )


def card_grid(items: rx.Var, render) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.grid(
        rx.foreach(items, render),
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="4",
        width="100%",
    )


def skeleton_grid() -> rx.Component:
    return rx.grid(
        *[rx.skeleton(rx.box(height="170px"), loading=True) for _ in range(3)],
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="4",
        width="100%",
    )


def pager(
    page: rx.Var, pages: rx.Var, label: rx.Var, prev_label: rx.Var, next_label: rx.Var, on_go
) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.cond(
        pages > 1,
        rx.hstack(
            rx.button(
                rx.icon("chevron-left", size=16),
                prev_label,
                variant="soft",
                disabled=page <= 1,
                on_click=on_go(page - 1),
            ),
            rx.text(label, size="2", color_scheme="gray"),
            rx.button(
                next_label,
                rx.icon("chevron-right", size=16),
                variant="soft",
                disabled=page >= pages,
                on_click=on_go(page + 1),
            ),
            justify="center",
            align="center",
            spacing="4",
            width="100%",
            margin_top="24px",
        ),
    )
