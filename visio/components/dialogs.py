"""The confirmation dialog: a question, what it will do, a way out and the confirming button."""

from __future__ import annotations

from typing import Any

import reflex as rx


def confirm_dialog(
    *,
    title: rx.Var | str,
    description: rx.Var | str | rx.Component,
    keep_label: rx.Var | str,
    confirm_label: rx.Var | str,
    on_confirm: Any,
    open: rx.Var,
    on_open_change: Any,
    confirm_id: str,
    body: tuple[rx.Component, ...] = (),
    color: str = "red",
    confirm_props: dict[str, Any] | None = None,
    description_id: str | None = None,
) -> rx.Component:
    description_props = {"id": description_id} if description_id else {}
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, **description_props),
            *body,
            rx.flex(
                rx.alert_dialog.cancel(rx.button(keep_label, variant="soft", color_scheme="gray")),
                rx.button(
                    confirm_label,
                    color_scheme=color,
                    on_click=on_confirm,
                    id=confirm_id,
                    **(confirm_props or {}),
                ),
                gap="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=open,
        on_open_change=on_open_change,
    )
