"""Pieces of the admin console: its section links, a labelled fact, a list row, state badges."""

from __future__ import annotations

import reflex as rx

from visio.components.text import TEXT

T = TEXT

SECTIONS = [
    ("/admin", "nav.admin_overview", "layout-dashboard"),
    ("/admin/users", "nav.admin_users", "users"),
    ("/admin/sessions", "nav.admin_sessions", "video"),
    ("/admin/audit", "nav.admin_audit", "scroll-text"),
    # The payout queue's page comes with the payouts work (its own branch).
    ("/admin/payouts", "nav.admin_payouts", "banknote"),
]
STATE_COLORS = {"active": "green", "suspended": "red", "unverified": "amber"}


def admin_nav(current: str) -> rx.Component:
    """The console's sections, the current one marked (a wrapping row on a phone)."""
    return rx.el.nav(
        rx.flex(
            *[
                rx.link(
                    rx.button(
                        rx.icon(icon, size=14),
                        T[key],
                        variant="solid" if href == current else "soft",
                        size="2",
                    ),
                    href=href,
                    underline="none",
                    aria_current="page" if href == current else None,
                    id=f"admin-nav-{href.rsplit('/', 1)[-1]}",
                )
                for href, key, icon in SECTIONS
            ],
            gap="2",
            wrap="wrap",
        ),
        aria_label=T["nav.admin"],
        margin_bottom="20px",
    )


def state_badge(state: rx.Var) -> rx.Component:
    return rx.match(
        state,
        *[
            (key, rx.badge(T[f"admin.state.{key}"], color_scheme=color, variant="soft"))
            for key, color in STATE_COLORS.items()
        ],
        rx.fragment(),
    )


def role_badge(role: rx.Var) -> rx.Component:
    return rx.badge(
        rx.match(
            role,
            ("teacher", T["role.teacher"]),
            ("student", T["role.student"]),
            ("admin", T["role.admin"]),
            role,
        ),
        variant="outline",
        color_scheme="gray",
    )


def fact(label: rx.Var, value: rx.Component | rx.Var, fact_id: str = "") -> rx.Component:
    """A name and its value, stacked (phone) or side by side (wide)."""
    return rx.flex(
        rx.text(label, size="2", color_scheme="gray", min_width="140px"),
        rx.box(value, id=fact_id or None) if fact_id else value,
        direction=rx.breakpoints(initial="column", sm="row"),
        gap=rx.breakpoints(initial="0", sm="3"),
        align="start",
        width="100%",
    )


def list_card(*children: rx.Component, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(rx.vstack(*children, spacing="0", width="100%"), width="100%", **props)


def row_box(*children: rx.Component, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    """One line of a list: wraps on a phone, a thin rule under it."""
    return rx.flex(
        *children,
        gap="3",
        align=rx.breakpoints(initial="start", sm="center"),
        direction=rx.breakpoints(initial="column", sm="row"),
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        **props,
    )
