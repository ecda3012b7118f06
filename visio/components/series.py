"""Pieces about recurring series: the badge that leads to a series, the scope of an action."""

from __future__ import annotations

import reflex as rx

from visio.components.text import TEXT

T = TEXT


def series_badge(series_id: rx.Var) -> rx.Component:
    """A "Series" badge linking to the series' page (nothing for a one-off session)."""
    return rx.cond(
        series_id,
        rx.link(
            rx.badge(
                rx.icon("repeat", size=12),
                T["series.badge"],
                color_scheme="violet",
                variant="soft",
                radius="full",
            ),
            href="/series/" + series_id.to_string(),
            class_name="series-badge",
        ),
    )


def scope_choice(value: rx.Var, on_change, name: str) -> rx.Component:  # type: ignore[no-untyped-def]
    """This occurrence, or it and all the later ones."""
    return rx.vstack(
        rx.text(T["series.scope"], size="2", weight="medium"),
        rx.radio_group.root(
            rx.flex(
                *[
                    rx.text(
                        rx.flex(
                            rx.radio_group.item(value=v, id=f"{name}-{v}"), T[key], spacing="2"
                        ),
                        as_="label",
                        size="2",
                    )
                    for v, key in (("one", "series.scope_one"), ("future", "series.scope_future"))
                ],
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="4",
            ),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
        margin_top="12px",
    )
