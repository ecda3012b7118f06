"""/series/[series_id]: the schedule of a recurring series and the viewer's seats."""

from __future__ import annotations

import reflex as rx

from visio.components.layout import page_frame
from visio.components.sessions import status_badge
from visio.components.text import TEXT
from visio.state.series import SeriesState as S

T = TEXT


def _line(o: rx.Var) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.link(o["when"], href=o["href"], weight="bold", class_name="occurrence-when"),
                rx.text(o["title"], size="1", color_scheme="gray", trim="both"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.hstack(
                rx.cond(
                    o["held"],
                    rx.badge(
                        rx.icon("check", size=12), T["series.seat_held"], color_scheme="green"
                    ),
                ),
                rx.cond(
                    o["full"] & ~o["held"].to(bool),
                    rx.badge(T["series.full"], color_scheme="amber"),
                ),
                status_badge(o["status"], o["status_label"]),
                spacing="2",
                wrap="wrap",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            gap="2",
            width="100%",
        ),
        width="100%",
        class_name="occurrence",
    )


def _enroll_box() -> rx.Component:
    return rx.cond(
        S.is_student,
        rx.card(
            rx.vstack(
                rx.text(S.seats_note, weight="medium", id="seats-note"),
                rx.cond(
                    S.remaining > 0,
                    rx.fragment(
                        rx.text(S.remaining_total, size="2", color_scheme="gray"),
                        rx.button(
                            T["series.enroll_all"].replace("{n}", S.remaining.to_string()),
                            on_click=S.enroll_all,
                            loading=S.busy,
                            id="enroll-series",
                        ),
                    ),
                    rx.text(T["series.nothing_left"], size="2", color_scheme="gray"),
                ),
                spacing="2",
            ),
            width="100%",
        ),
    )


def _publish_box() -> rx.Component:
    """The owner's drafts still ahead, published together."""
    return rx.cond(
        S.drafts > 0,
        rx.callout(
            rx.flex(
                rx.text(S.drafts_note),
                rx.button(
                    T["series.publish_all"].replace("{n}", S.drafts.to_string()),
                    on_click=S.publish_all,
                    loading=S.busy,
                    id="publish-series",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                gap="3",
                align=rx.breakpoints(initial="start", sm="center"),
                justify="between",
                width="100%",
            ),
            icon="eye-off",
            color_scheme="amber",
            width="100%",
        ),
    )


def _body() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(rx.icon("repeat", size=12), T["series.title"], color_scheme="violet"),
            rx.text(S.subtitle, size="2", color_scheme="gray"),
            align="center",
            wrap="wrap",
        ),
        rx.heading(S.title, size="7", style={"overflow_wrap": "anywhere"}),
        _publish_box(),
        _enroll_box(),
        rx.heading(T["series.schedule"], size="4", margin_top="8px"),
        rx.vstack(rx.foreach(S.occurrences, _line), spacing="2", width="100%", id="schedule"),
        spacing="3",
        width="100%",
    )


def series_page() -> rx.Component:
    return page_frame(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14), T["series.back"], align="center", spacing="1"
            ),
            href=S.home_path,
            size="2",
            margin_bottom="12px",
            display="inline-block",
        ),
        rx.cond(
            S.loading,
            rx.skeleton(rx.box(height="320px"), loading=True),
            rx.cond(
                S.found, _body(), rx.callout(S.error_text, icon="circle-alert", color_scheme="red")
            ),
        ),
    )
