"""The banner over signed-in pages about the account's address: not proven yet (with "send
again"), or refused by its mail server (change it on /account)."""

from __future__ import annotations

import reflex as rx

from visio.components.text import TEXT
from visio.state.account_email import AccountEmailState
from visio.state.app import AppState

S = AccountEmailState
T = TEXT


def _banner(color: str, icon: str, message: rx.Var, action: rx.Component, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    """A tinted strip: icon, message (wrapping), and one action at the end of the line."""
    return rx.flex(
        rx.icon(icon, size=18, flex_shrink="0"),
        rx.text(message, size="2", flex="1", min_width="min(100%, 220px)"),
        action,
        align="center",
        spacing="3",
        wrap="wrap",
        width="100%",
        padding="10px 14px",
        border_radius="var(--radius-3)",
        background=rx.color(color, 3),
        color=rx.color(color, 11),
        **props,
    )


def _unverified() -> rx.Component:
    return _banner(
        "amber",
        "mail-warning",
        S.banner_unverified,
        rx.button(
            T["banner.send_again"],
            on_click=S.resend_link,
            size="1",
            variant="soft",
            color_scheme="amber",
            id="verify-resend",
        ),
        id="verify-banner",
    )


def _refused() -> rx.Component:
    return _banner(
        "red",
        "mail-x",
        S.banner_refused,
        rx.link(
            rx.button(T["banner.account"], size="1", variant="soft", color_scheme="red"),
            href="/account",
        ),
        role="alert",
        id="refused-banner",
    )


def email_banner() -> rx.Component:
    """Nothing for a visitor, nor for a proven address its server accepts."""
    return rx.cond(
        AppState.logged_in,
        rx.cond(
            AppState.email_refused,
            rx.box(_refused(), margin_bottom="16px", width="100%"),
            rx.cond(
                ~AppState.email_verified,
                rx.box(_unverified(), margin_bottom="16px", width="100%"),
            ),
        ),
    )
