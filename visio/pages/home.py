"""/: what Visio is, for a visitor; a logged-in user is sent to their sessions."""

from __future__ import annotations

import reflex as rx

from visio.components.layout import page_frame
from visio.components.text import TEXT

T = TEXT


def feature(icon: str, text: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.icon(icon, size=18, color=rx.color("accent", 11)),
            width="36px",
            height="36px",
            border_radius="10px",
            background=rx.color("accent", 3),
            flex_shrink="0",
        ),
        rx.text(text, size="3"),
        spacing="3",
        align="center",
    )


def home_page() -> rx.Component:
    return page_frame(
        rx.flex(
            rx.vstack(
                rx.badge(T["app.tagline"], size="2", radius="full", variant="soft"),
                rx.heading(
                    T["home.title"],
                    size=rx.breakpoints(initial="8", md="9"),
                    weight="bold",
                    line_height="1.1",
                ),
                rx.text(T["home.lead"], size="4", color_scheme="gray"),
                rx.flex(
                    rx.link(
                        rx.button(T["home.cta_register"], size="4", width="100%"), href="/register"
                    ),
                    rx.link(
                        rx.button(T["home.cta_login"], size="4", variant="outline", width="100%"),
                        href="/login",
                    ),
                    direction=rx.breakpoints(initial="column", sm="row"),
                    gap="3",
                ),
                spacing="5",
                flex="3",
                align="start",
            ),
            rx.card(
                rx.vstack(
                    feature("video", T["home.feature_create"]),
                    feature("wallet", T["home.feature_pay"]),
                    feature("chart-column", T["home.feature_attend"]),
                    spacing="5",
                ),
                size="4",
                flex="2",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="8",
            align="center",
            padding_y=["16px", "48px"],
        )
    )
