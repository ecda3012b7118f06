"""Form fields with a label, a hint and the service's error under them."""

from __future__ import annotations

import reflex as rx


def field(
    label: rx.Var, control: rx.Component, error: rx.Var, hint: rx.Var | None = None
) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color="red", role="alert"),
            rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )


def form_alert(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            width="100%",
            id="form-error",
        ),
    )


def auth_card(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(*children, spacing="4", width="100%"),
            size="4",
            width="100%",
            max_width="440px",
        ),
        width="100%",
        padding_top=["8px", "40px"],
    )
