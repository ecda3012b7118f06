"""/admin/users: find an account by name or email."""

from __future__ import annotations

import reflex as rx

from visio.components.admin import admin_nav, list_card, role_badge, row_box, state_badge
from visio.components.layout import page_frame, page_header
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.admin_users import AdminUsersState as U

T = TEXT
ROLES = [("all", "admin.users.all_roles"), ("teacher", "role.teacher"),
         ("student", "role.student"), ("admin", "role.admin")]  # fmt: skip


def _filters() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=U.q,
            on_change=U.set_q,
            debounce_timeout=350,
            placeholder=T["admin.users.search"],
            aria_label=T["admin.users.search"],
            size="3",
            width="100%",
            id="admin-user-search",
            max_length=254,
        ),
        rx.select.root(
            rx.select.trigger(aria_label=T["admin.user.role"], id="admin-user-role"),
            rx.select.content(*[rx.select.item(T[key], value=v) for v, key in ROLES]),
            value=U.role_filter,
            on_change=U.set_role_filter,
            size="3",
        ),
        gap="3",
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
        margin_bottom="16px",
    )


def _row(row: rx.Var) -> rx.Component:
    return row_box(
        rx.vstack(
            rx.link(row["name"], href=row["href"], weight="bold", class_name="admin-user-link"),
            rx.text(row["email"], size="2", color_scheme="gray", word_break="break-all"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.hstack(role_badge(row["role"]), state_badge(row["state"]), spacing="2"),
        rx.text(row["balance"], size="2", weight="medium", min_width="90px"),
        rx.text(row["created"], size="1", color_scheme="gray", min_width="180px"),
        class_name="admin-user-row",
    )


def admin_users_page() -> rx.Component:
    return page_frame(
        page_header(T["admin.users.title"], T["admin.users.subtitle"]),
        admin_nav("/admin/users"),
        _filters(),
        rx.text(U.count_label, size="2", color_scheme="gray", margin_bottom="8px"),
        rx.cond(
            U.rows.length() > 0,
            list_card(rx.foreach(U.rows, _row), id="admin-users"),
            rx.cond(~U.loading, rx.text(T["admin.users.empty"], color_scheme="gray")),
        ),
        pager(U.page, U.pages, U.page_label, T["common.previous"], T["common.next"], U.go_to_page),
    )
