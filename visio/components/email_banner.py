"""The banner over signed-in pages about the account's address: not proven yet (with "send
again"), or refused by its mail server (change it on /account)."""

from __future__ import annotations

import reflex as rx

from visio.state.account_email import AccountEmailState
from visio.state.app import AppState

S = AccountEmailState
T = AppState.tr


def _unverified() -> rx.Component:
    return rx.callout.root(
        rx.flex(
            rx.callout.icon(rx.icon("mail-warning")),
            rx.callout.text(S.banner_unverified, flex="1", min_width="0"),
            rx.button(
                T["banner.send_again"],
                on_click=S.resend_link,
                size="1",
                variant="soft",
                id="verify-resend",
            ),
            align="center",
            gap="3",
            wrap="wrap",
        ),
        color_scheme="amber",
        size="1",
        width="100%",
        id="verify-banner",
    )


def _refused() -> rx.Component:
    return rx.callout.root(
        rx.flex(
            rx.callout.icon(rx.icon("mail-x")),
            rx.callout.text(S.banner_refused, flex="1", min_width="0"),
            rx.link(rx.button(T["banner.account"], size="1", variant="soft"), href="/account"),
            align="center",
            gap="3",
            wrap="wrap",
        ),
        color_scheme="red",
        size="1",
        width="100%",
        role="alert",
        id="refused-banner",
    )


def email_banner() -> rx.Component:
    """Nothing for a visitor or a proven, accepted address."""
    return rx.cond(
        AppState.logged_in,
        rx.vstack(
            rx.cond(AppState.email_refused, _refused()),
            rx.cond(~AppState.email_verified & ~AppState.email_refused, _unverified()),
            spacing="2",
            width="100%",
            margin_bottom=rx.cond(AppState.email_refused | ~AppState.email_verified, "16px", "0"),
        ),
    )
