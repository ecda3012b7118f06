"""The /account page's section about the account's address: the address and whether it is
proven, a warning if its mail server refuses it, and the form to move to a new address."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import form_alert
from visio.components.text import TEXT
from visio.state.account_email import AccountEmailState
from visio.state.app import AppState

S = AccountEmailState
T = TEXT


def verified_badge() -> rx.Component:
    return rx.cond(
        AppState.email_verified,
        rx.badge(
            rx.icon("circle-check", size=12),
            T["account_email.verified"],
            color_scheme="green",
            id="email-verified",
        ),
        rx.badge(
            rx.icon("circle-alert", size=12),
            T["account_email.unverified"],
            color_scheme="amber",
            id="email-unverified",
        ),
    )


def _current() -> rx.Component:
    return rx.vstack(
        rx.text(T["account_email.current"], size="2", color_scheme="gray"),
        rx.flex(
            rx.text(
                AppState.user_email, weight="medium", id="current-email", word_break="break-all"
            ),
            verified_badge(),
            rx.cond(
                ~AppState.email_verified & ~AppState.email_refused,
                rx.button(
                    T["banner.send_again"],
                    on_click=S.resend_link,
                    size="1",
                    variant="ghost",
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            AppState.email_refused,
            rx.callout(S.banner_refused, icon="mail-x", color_scheme="red", size="1", width="100%"),
        ),
        spacing="2",
        width="100%",
    )


def _field(label: rx.Var, control: rx.Component, control_id: str, error: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=control_id),
        control,
        rx.cond(error != "", rx.text(error, size="1", color=rx.color("red", 11), role="alert")),
        spacing="1",
        width="100%",
    )


def _change_form() -> rx.Component:
    return rx.vstack(
        rx.heading(T["account_email.change_title"], as_="h3", size="3"),
        rx.text(T["account_email.change_hint"], size="2", color_scheme="gray"),
        form_alert(S.change_error),
        rx.cond(
            S.change_sent_to != "",
            rx.callout(
                S.change_sent_message,
                icon="mail-check",
                color_scheme="green",
                width="100%",
                id="email-change-sent",
            ),
        ),
        rx.form(
            rx.vstack(
                _field(
                    T["account_email.new_email"],
                    rx.input(
                        name="email",
                        type="email",
                        auto_complete="email",
                        required=True,
                        id="new-email",
                        size="3",
                        width="100%",
                    ),
                    "new-email",
                    S.change_errors.get("email", ""),
                ),
                _field(
                    T["account_email.password"],
                    rx.input(
                        name="password",
                        type="password",
                        auto_complete="current-password",
                        required=True,
                        id="email-password",
                        size="3",
                        width="100%",
                    ),
                    "email-password",
                    S.change_errors.get("password", ""),
                ),
                rx.button(
                    T["account_email.submit"], type="submit", size="3", id="email-change-submit"
                ),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=S.request_change,
            reset_on_submit=True,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def email_section() -> rx.Component:
    """The account's address, its proof, and the change form (for the /account page)."""
    return rx.card(
        rx.vstack(
            rx.heading(T["account_email.title"], as_="h2", size="4", id="email-section-title"),
            _current(),
            rx.separator(size="4"),
            _change_form(),
            spacing="4",
            width="100%",
        ),
        width="100%",
        size="3",
        id="email-section",
        aria_labelledby="email-section-title",
        as_="section",
    )
