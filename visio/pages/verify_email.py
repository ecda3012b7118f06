"""/verify-email?token=...: the outcome of a verification link, logged in or not."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import auth_card
from visio.components.layout import page_frame
from visio.components.text import TEXT
from visio.state.account_email import AccountEmailState
from visio.state.verify_email import VerifyEmailState

S = VerifyEmailState
T = TEXT


def _checking() -> rx.Component:
    return rx.hstack(
        rx.spinner(size="3"), rx.text(T["verify.checking"], color_scheme="gray"), align="center"
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.callout(
            S.done_message, icon="mail-check", color_scheme="green", width="100%", id="verify-done"
        ),
        rx.link(
            rx.button(T["verify.continue"], size="3", width="100%"),
            href=rx.cond(S.logged_in, S.home_path, "/login"),
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def _failed() -> rx.Component:
    return rx.vstack(
        rx.callout(
            S.failure,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            width="100%",
            id="verify-failed",
        ),
        rx.cond(
            S.logged_in,
            rx.cond(
                S.email_verified,
                rx.link(rx.button(T["verify.continue"], size="3", width="100%"), href=S.home_path),
                rx.button(
                    T["verify.send_new"],
                    on_click=AccountEmailState.resend_link,
                    size="3",
                    width="100%",
                    id="verify-send-new",
                ),
            ),
            rx.vstack(
                rx.text(T["verify.login_for_new"], size="2", color_scheme="gray"),
                rx.link(
                    rx.button(T["nav.login"], size="3", width="100%"), href="/login", width="100%"
                ),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def verify_email_page() -> rx.Component:
    return page_frame(
        auth_card(
            rx.heading(
                rx.match(
                    S.outcome,
                    ("done", T["verify.done_title"]),
                    ("failed", T["verify.failed_title"]),
                    T["verify.title"],
                ),
                size="7",
            ),
            rx.match(S.outcome, ("done", _done()), ("failed", _failed()), _checking()),
        )
    )
