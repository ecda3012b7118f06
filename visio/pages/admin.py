"""/admin: platform money at a glance and the reconciliation."""

from __future__ import annotations

import reflex as rx

from visio.components.admin import admin_nav
from visio.components.layout import page_frame, page_header
from visio.components.stats import stat_tile, tile_grid
from visio.components.text import TEXT
from visio.state.admin import AdminState as A

T = TEXT
TILES = [
    ("users", "wallet"),
    ("escrow", "lock"),
    ("payouts_held", "hourglass"),
    ("paid_out", "banknote"),
    ("platform", "scale"),
    ("topups", "circle-plus"),
]


def _tiles() -> rx.Component:
    return tile_grid(
        *[
            stat_tile(icon, T[f"admin.money.{key}"], A.tiles[i]["value"], "", f"money-{key}")
            for i, (key, icon) in enumerate(TILES)
        ]
    )


def _check(row: rx.Var) -> rx.Component:
    return rx.flex(
        rx.icon(
            rx.cond(row["ok"], "circle-check", "circle-alert"),
            color=rx.cond(row["ok"], rx.color("green", 10), rx.color("red", 10)),
            size=18,
            flex_shrink="0",
        ),
        rx.vstack(
            rx.text(row["label"], weight="medium", size="2"),
            rx.text(row["line"], size="2", color_scheme="gray"),
            rx.cond(~row["ok"], rx.text(row["difference"], size="2", color=rx.color("red", 11))),
            spacing="0",
        ),
        gap="3",
        padding_y="8px",
    )


def _reconciliation() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(T["admin.recon.title"], size="4"),
                rx.spacer(),
                rx.cond(
                    A.balanced,
                    rx.badge(
                        rx.icon("check", size=14), T["admin.recon.balanced"],
                        color_scheme="green", size="3", id="recon-status",
                    ),
                    rx.badge(
                        rx.icon("triangle-alert", size=14), T["admin.recon.unbalanced"],
                        color_scheme="red", size="3", id="recon-status",
                    ),
                ),
                width="100%",
                align="center",
            ),
            rx.foreach(A.checks, _check),
            rx.divider(),
            rx.cond(
                A.gaps.length() > 0,
                rx.vstack(
                    rx.foreach(A.gaps, lambda g: rx.text(g, size="2", color=rx.color("red", 11))),
                    id="recon-gaps",
                ),
                rx.text(T["admin.recon.no_gap"], size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        margin_top="20px",
    )  # fmt: skip


def admin_page() -> rx.Component:
    return page_frame(
        page_header(T["admin.money.title"], T["admin.money.subtitle"]),
        admin_nav("/admin"),
        rx.cond(A.loading, rx.spinner(), rx.fragment(_tiles(), _reconciliation())),
    )
