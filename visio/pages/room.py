"""/sessions/[session_id]/room: the Jitsi meeting inside Visio (see services/jitsi.py for why an
iframe), a heartbeat while it is open, and "Leave"."""

from __future__ import annotations

import reflex as rx

from visio.components.attendance import interval_timer
from visio.components.layout import top_bar
from visio.components.text import TEXT
from visio.state.room import HEARTBEAT_MS
from visio.state.room import RoomState as R

T = TEXT
MEDIA = "camera; microphone; fullscreen; display-capture; autoplay; clipboard-write"


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.link(
                rx.icon("arrow-left", size=18),
                href=R.back_href,
                aria_label=T["room.back"],
                color=rx.color("gray", 11),
                display="flex",
            ),
            rx.badge(
                rx.box(
                    width="7px", height="7px", border_radius="50%", background=rx.color("red", 9)
                ),
                T["room.live"],
                color_scheme="red",
                variant="soft",
                radius="full",
                flex_shrink="0",
                display=["none", "inline-flex"],
            ),
            rx.text(
                R.title,
                size=rx.breakpoints(initial="3", sm="4"),
                weight="bold",
                overflow="hidden",
                white_space="nowrap",
                text_overflow="ellipsis",
                min_width="0",
                title=R.title,
            ),
            align="center",
            spacing="3",
            min_width="0",
            flex="1",
        ),
        rx.hstack(
            rx.link(
                rx.button(
                    rx.icon("external-link", size=14),
                    rx.text(T["room.new_tab"], display=["none", "none", "inline"]),
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    aria_label=T["room.new_tab"],
                ),
                href=R.room_src,
                is_external=True,
            ),
            rx.button(
                rx.icon("phone-off", size=14),
                T["room.leave"],
                color_scheme="red",
                size="2",
                on_click=R.leave,
                id="room-leave",
            ),
            spacing="2",
            align="center",
            flex_shrink="0",
        ),
        align="center",
        gap="3",
        width="100%",
        padding_x=["10px", "16px"],
        padding_top="8px",
        padding_bottom="4px",
    )


def _notice() -> rx.Component:
    return rx.cond(
        R.ended,
        rx.callout(T["room.ended"], icon="info", color_scheme="amber", size="1", id="room-ended"),
        rx.text(
            T["room.tracking"],
            size="1",
            color_scheme="gray",
            padding_x=["10px", "16px"],
            padding_bottom="6px",
        ),
    )


def _frame() -> rx.Component:
    return rx.el.iframe(
        src=R.room_src,
        allow=MEDIA,
        title=T["room.frame_title"].replace("{title}", R.title),
        id="jitsi-room",
        style={
            "width": "100%",
            "flex": "1",
            "min_height": "360px",
            "border": "0",
            "background": "#1b1b1f",
        },
    )


def _room() -> rx.Component:
    return rx.flex(
        _header(),
        _notice(),
        _frame(),
        # Once the session is over nothing more is counted: the heartbeat stops.
        rx.cond(~R.ended, interval_timer(HEARTBEAT_MS, R.heartbeat, "room-heartbeat")),
        direction="column",
        width="100%",
        height="calc(100dvh - 60px)",
    )


def room_page() -> rx.Component:
    return rx.box(
        top_bar(),
        rx.cond(
            R.room_src != "",
            _room(),
            rx.center(
                rx.vstack(
                    rx.spinner(size="3"),
                    rx.text(T["room.loading"], color_scheme="gray"),
                    align="center",
                    spacing="3",
                ),
                height="calc(100dvh - 60px)",
            ),
        ),
        on_unmount=R.page_closed,
        background=rx.color("gray", 2),
        min_height="100dvh",
        # Lets browser tests wait until the page's state has arrived (as page_frame does).
        custom_attrs={"data-hydrated": rx.cond(R.is_hydrated, "true", "false")},
        lang=R.lang,
    )
