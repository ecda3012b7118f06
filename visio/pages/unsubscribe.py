"""/unsubscribe?token=...: names the kind of mail and asks; the button unsubscribes."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import auth_card
from visio.components.layout import page_frame
from visio.components.text import TEXT
from visio.state.unsubscribe import UnsubscribeState

S = UnsubscribeState
T = TEXT


def _manage_link() -> rx.Component:
    return rx.center(
        rx.link(T["unsubscribe.manage"], href="/account", size="2", weight="medium", id="manage"),
        width="100%",
    )


def unsubscribe_page() -> rx.Component:
    return page_frame(
        auth_card(
            rx.heading(T["unsubscribe.title"], size="7"),
            rx.cond(
                S.link_error != "",
                rx.callout(
                    S.link_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    width="100%",
                    id="unsubscribe-error",
                ),
                rx.cond(
                    S.unsubscribed,
                    rx.callout(
                        S.done_message,
                        icon="mail-x",
                        color_scheme="green",
                        role="status",
                        width="100%",
                        id="unsubscribe-done",
                    ),
                    rx.cond(
                        S.kind != "",
                        rx.vstack(
                            rx.text(S.question, size="4", weight="medium", id="unsubscribe-kind"),
                            rx.text(T["unsubscribe.explain"], size="2", color_scheme="gray"),
                            rx.button(
                                T["unsubscribe.button"],
                                on_click=S.confirm,
                                size="3",
                                width="100%",
                                id="unsubscribe-confirm",
                            ),
                            spacing="3",
                            width="100%",
                        ),
                        rx.center(rx.spinner(), width="100%"),
                    ),
                ),
            ),
            _manage_link(),
        )
    )
