"""Small pieces for assistive technologies: text out of sight, tables that scroll on a phone."""

from __future__ import annotations

import reflex as rx

# Out of sight but read by screen readers (the usual "visually hidden" recipe).
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "margin": "-1px",
    "padding": "0",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "clip_path": "inset(50%)",
    "white_space": "nowrap",
    "border": "0",
}


TABLE_WIDTH = {"width": "max-content", "min_width": "100%"}


def scrolling_table(table: rx.Component, name: rx.Var) -> rx.Component:
    """A table that may be wider than a phone: it scrolls sideways in this box, which takes the
    keyboard's focus (the arrow keys scroll it) and is named by `name` (WCAG 2.1.1). Give the
    table TABLE_WIDTH, so that Radix's inner scroll area, which cannot take the focus, never
    scrolls itself."""
    return rx.box(
        table, overflow_x="auto", width="100%", tab_index=0, role="region", aria_label=name
    )
