"""Form fields with a label, a hint and the service's error under them."""

from __future__ import annotations

from typing import Any

import reflex as rx

ERROR_COLOR = rx.color("red", 11)  # CSS "red" is 4:1 on white, under WCAG AA's 4.5:1


def field_label(text: rx.Var | str, html_for: str | None = None, **props: Any) -> rx.Component:
    """A field's visible name, tied to its control's id (`<label for>`): a screen reader reads
    it on the control, and a click on it focuses the control."""
    # Reflex passes `html_for` of a Radix Text as a style: set the attribute itself.
    attrs = {"htmlFor": html_for} if html_for else {}
    props = {"size": "2", "weight": "medium", **props}
    return rx.text(text, as_="label", custom_attrs=attrs, **props)


def field(
    label: rx.Var, control: rx.Component, error: rx.Var, hint: rx.Var | None = None
) -> rx.Component:
    return rx.vstack(
        field_label(label, getattr(control, "id", None)),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color=ERROR_COLOR, role="alert"),
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
