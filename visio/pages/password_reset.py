"""/forgot-password and /reset-password?token=..."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import auth_card, field, form_alert
from visio.components.layout import page_frame
from visio.components.text import TEXT
from visio.state.password_reset import PasswordResetState

S = PasswordResetState
T = TEXT


def _back_to_login() -> rx.Component:
    return rx.center(
        rx.link(T["forgot.back_to_login"], href="/login", size="2", weight="medium"),
        width="100%",
    )


def forgot_password_page() -> rx.Component:
    return page_frame(
        auth_card(
            rx.cond(
                S.sent_to != "",
                rx.vstack(
                    rx.heading(T["forgot.sent_title"], size="7"),
                    rx.callout(
                        S.sent_message,
                        icon="mail-check",
                        color_scheme="green",
                        width="100%",
                        id="reset-sent",
                    ),
                    spacing="4",
                    width="100%",
                ),
                rx.vstack(
                    rx.vstack(
                        rx.heading(T["forgot.title"], size="7"),
                        rx.text(T["forgot.subtitle"], color_scheme="gray"),
                        spacing="1",
                    ),
                    form_alert(S.form_error),
                    rx.form(
                        rx.vstack(
                            field(
                                T["forgot.email"],
                                rx.input(
                                    name="email",
                                    type="email",
                                    auto_complete="email",
                                    required=True,
                                    size="3",
                                    id="email",
                                ),
                                S.errors.get("email", ""),
                            ),
                            rx.button(
                                T["forgot.submit"],
                                type="submit",
                                size="3",
                                width="100%",
                                id="forgot-submit",
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        on_submit=S.request_reset,
                        reset_on_submit=False,
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
            _back_to_login(),
        )
    )


def _password_input(name: str) -> rx.Component:
    return rx.input(
        name=name,
        type="password",
        required=True,
        auto_complete="new-password",
        size="3",
        id=name,
    )


def reset_password_page() -> rx.Component:
    return page_frame(
        auth_card(
            rx.vstack(
                rx.heading(T["reset.title"], size="7"),
                rx.text(T["reset.subtitle"], color_scheme="gray"),
                spacing="1",
            ),
            form_alert(S.form_error),
            rx.cond(
                S.form_error != "",
                rx.center(
                    rx.link(T["reset.ask_again"], href="/forgot-password", size="2"),
                    width="100%",
                ),
            ),
            rx.form(
                rx.vstack(
                    field(
                        T["reset.password"],
                        _password_input("password"),
                        S.errors.get("password", ""),
                        hint=T["register.password_hint"],
                    ),
                    field(
                        T["reset.confirm"], _password_input("confirm"), S.errors.get("confirm", "")
                    ),
                    rx.button(
                        T["reset.submit"], type="submit", size="3", width="100%", id="reset-submit"
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=S.reset_password,
                reset_on_submit=False,
                width="100%",
            ),
            _back_to_login(),
        )
    )
