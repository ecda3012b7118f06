"""/login and /register."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import auth_card, field, form_alert
from visio.components.layout import page_frame
from visio.components.text import TEXT
from visio.state.auth import AuthState

T = TEXT


def login_page() -> rx.Component:
    return page_frame(
        auth_card(
            rx.vstack(
                rx.heading(T["login.title"], size="7"),
                rx.text(
                    rx.cond(
                        AuthState.next_path != "", T["login.redirect_notice"], T["login.subtitle"]
                    ),
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            form_alert(AuthState.form_error),
            rx.form(
                rx.vstack(
                    field(
                        T["login.email"],
                        rx.input(
                            name="email",
                            type="email",
                            auto_complete="email",
                            required=True,
                            size="3",
                            id="email",
                        ),
                        "",
                    ),
                    field(
                        T["login.password"],
                        rx.input(
                            name="password",
                            type="password",
                            required=True,
                            auto_complete="current-password",
                            size="3",
                            id="password",
                        ),
                        "",
                    ),
                    rx.link(
                        T["login.forgot"],
                        href="/forgot-password",
                        size="2",
                        align="right",
                        width="100%",
                        id="forgot-password",
                    ),
                    rx.button(
                        T["login.submit"], type="submit", size="3", width="100%", id="login-submit"
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=AuthState.login,
                reset_on_submit=False,
                width="100%",
            ),
            rx.hstack(
                rx.text(T["login.no_account"], size="2", color_scheme="gray"),
                rx.link(T["login.to_register"], href="/register", size="2", weight="medium"),
                spacing="2",
                justify="center",
                width="100%",
            ),
        )
    )


def role_option(value: str, label: rx.Var, icon: str) -> rx.Component:
    selected = AuthState.role_choice == value
    # A button: it takes the keyboard's focus, and Enter or Space chooses it.
    return rx.el.button(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="2", weight="medium"),
            spacing="2",
            align="center",
        ),
        on_click=AuthState.set_role_choice(value),
        padding="12px",
        border_radius="10px",
        cursor="pointer",
        border=rx.cond(
            selected, f"2px solid {rx.color('accent', 9)}", f"2px solid {rx.color('gray', 5)}"
        ),
        background=rx.cond(selected, rx.color("accent", 3), "transparent"),
        width="100%",
        color="inherit",
        font="inherit",
        text_align="start",
        type="button",
        role="radio",
        aria_checked=rx.cond(selected, "true", "false"),
        id=f"role-{value}",
    )


def register_page() -> rx.Component:
    errors = AuthState.errors
    return page_frame(
        auth_card(
            rx.vstack(
                rx.heading(T["register.title"], size="7"),
                rx.text(T["register.subtitle"], color_scheme="gray"),
                spacing="1",
            ),
            form_alert(AuthState.form_error),
            rx.form(
                rx.vstack(
                    rx.vstack(
                        rx.text(T["register.role"], size="2", weight="medium"),
                        rx.flex(
                            role_option("teacher", T["register.role_teacher"], "presentation"),
                            role_option("student", T["register.role_student"], "graduation-cap"),
                            direction=rx.breakpoints(initial="column", sm="row"),
                            gap="2",
                            width="100%",
                        ),
                        spacing="1",
                        width="100%",
                        role="radiogroup",
                        aria_label=T["register.role"],
                    ),
                    field(
                        T["register.full_name"],
                        rx.input(name="full_name", auto_complete="name", size="3", id="full_name"),
                        errors.get("full_name", ""),
                    ),
                    field(
                        T["register.email"],
                        rx.input(
                            name="email", type="email", auto_complete="email", size="3", id="email"
                        ),
                        errors.get("email", ""),
                    ),
                    field(
                        T["register.password"],
                        rx.input(
                            name="password",
                            type="password",
                            size="3",
                            auto_complete="new-password",
                            id="password",
                        ),
                        errors.get("password", ""),
                        hint=T["register.password_hint"],
                    ),
                    rx.button(
                        T["register.submit"],
                        type="submit",
                        size="3",
                        width="100%",
                        id="register-submit",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=AuthState.register,
                reset_on_submit=False,
                width="100%",
            ),
            rx.hstack(
                rx.text(T["register.have_account"], size="2", color_scheme="gray"),
                rx.link(T["register.to_login"], href="/login", size="2", weight="medium"),
                spacing="2",
                justify="center",
                width="100%",
            ),
        )
    )
