"""The filter bar of the sessions lists."""

from __future__ import annotations

import reflex as rx

from visio.components.text import TEXT


def _label(text: rx.Var, control_id: str) -> rx.Component:
    """The small name above a filter, tied to it (`<label for>`) so a screen reader says it."""
    return rx.text(
        text, as_="label", size="1", color_scheme="gray", custom_attrs={"htmlFor": control_id}
    )


def search_box(state) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        value=state.q,
        on_change=lambda v: state.set_filter("q", v),
        debounce_timeout=350,
        placeholder=TEXT["filters.search"],
        aria_label=TEXT["filters.search"],
        size="3",
        width="100%",
        id="filter-q",
        max_length=100,
    )


def choice(state, name: str, options: list[tuple[str, str]], label_key: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.select.root(
        rx.select.trigger(aria_label=TEXT[label_key], id=f"filter-{name}", width="100%"),
        rx.select.content(
            *[rx.select.item(TEXT[key], value=value) for value, key in options],
        ),
        value=getattr(state, name),
        on_change=lambda v: state.set_filter(name, v),
    )


def date_input(state, name: str, label_key: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        _label(TEXT[label_key], f"filter-{name}"),
        rx.input(
            type="date",
            value=getattr(state, name),
            on_change=lambda v: state.set_filter(name, v),
            id=f"filter-{name}",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def money_input(state, name: str, label_key: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        _label(TEXT[label_key], f"filter-{name}"),
        rx.input(
            value=getattr(state, name),
            on_change=lambda v: state.set_filter(name, v),
            debounce_timeout=400,
            input_mode="decimal",
            placeholder="€",
            id=f"filter-{name}",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


PLATFORMS = [
    ("all", "filters.any_platform"),
    ("jitsi", "platform.jitsi"),
    ("zoom", "platform.zoom"),
    ("teams", "platform.teams"),
    ("custom", "platform.custom"),
]
PAID = [("all", "filters.free_or_paid"), ("free", "filters.free"), ("paid", "filters.paid")]


def filter_panel(state, columns: int, *extra: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        rx.grid(
            *extra,
            columns=rx.breakpoints(initial="2", md=str(columns)),
            spacing="3",
            align="end",
            width="100%",
        ),
        rx.cond(
            state.filter_error != "",
            rx.callout(
                state.filter_error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                width="100%",
            ),
        ),
        rx.cond(
            state.filtered,
            rx.button(
                rx.icon("x", size=14),
                TEXT["filters.clear"],
                variant="ghost",
                size="1",
                on_click=state.clear_filters,
                id="clear-filters",
            ),
        ),
        spacing="2",
        width="100%",
        align="start",
    )
