"""/admin/users/<id>: an account, suspend or restore it, credit or debit its wallet, its ledger."""

from __future__ import annotations

import reflex as rx

from visio.components.admin import admin_nav, fact, list_card, role_badge, row_box, state_badge
from visio.components.dialogs import confirm_dialog
from visio.components.forms import field_label
from visio.components.layout import page_frame
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.admin_user import AdminUserState as S

T = TEXT


def _header() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.link(
                rx.hstack(rx.icon("arrow-left", size=14), T["admin.user.back"], align="center"),
                href="/admin/users",
                size="2",
            ),
            rx.heading(S.name, size="7", id="admin-user-name"),
            rx.text(S.email, color_scheme="gray", word_break="break-all"),
            spacing="1",
        ),
        rx.spacer(),
        rx.cond(
            S.can_suspend,
            rx.cond(
                S.state == "suspended",
                rx.button(
                    rx.icon("undo-2", size=16), T["admin.user.restore"],
                    on_click=S.restore, variant="soft", id="admin-restore",
                ),
                rx.button(
                    rx.icon("ban", size=16), T["admin.user.suspend"],
                    on_click=S.set_suspend_open(True), color_scheme="red", variant="soft",
                    id="admin-suspend",
                ),
            ),
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        gap="3",
        align=rx.breakpoints(initial="start", sm="end"),
        width="100%",
        margin_bottom="20px",
    )  # fmt: skip


def _facts() -> rx.Component:
    return rx.card(
        rx.vstack(
            fact(T["admin.user.role"], role_badge(S.role)),
            fact(T["admin.user.created"], rx.text(S.created, size="2")),
            fact(
                T["admin.user.state"],
                rx.hstack(
                    state_badge(rx.cond(S.state == "suspended", "suspended", "active")),
                    rx.cond(S.suspended_since != "", rx.text(S.suspended_since, size="2")),
                    wrap="wrap",
                ),
                "admin-user-state",
            ),
            fact(
                T["admin.user.verified"],
                rx.text(
                    rx.cond(S.verified, T["admin.user.verified_yes"], T["admin.user.verified_no"]),
                    size="2",
                ),
            ),
            fact(T["admin.user.balance"], rx.text(S.balance, weight="bold"), "admin-user-balance"),
            fact(T["admin.user.logins"], rx.text(S.logins, size="2")),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _adjust() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(T["admin.adjust.title"], size="4"),
                rx.text(T["admin.adjust.help"], size="2", color_scheme="gray"),
                rx.segmented_control.root(
                    rx.segmented_control.item(T["admin.adjust.credit"], value="credit"),
                    rx.segmented_control.item(T["admin.adjust.debit"], value="debit"),
                    value=S.direction,
                    on_change=S.set_direction,
                    id="adjust-direction",
                ),
                field_label(T["admin.adjust.amount"], "adjust-amount"),
                rx.input(value=S.adjust_amount, on_change=S.set_adjust_amount, placeholder="25,00",
                         input_mode="decimal", id="adjust-amount", width="100%"),
                field_label(T["admin.adjust.reason"], "adjust-reason"),
                rx.text_area(value=S.adjust_reason, on_change=S.set_adjust_reason, rows="2",
                             id="adjust-reason", width="100%", max_length=500),
                rx.cond(S.adjust_error != "",
                        rx.text(S.adjust_error, color=rx.color("red", 11), size="2", role="alert",
                                id="adjust-error")),
                rx.button(T["admin.adjust.submit"], type="submit", loading=S.adjusting,
                          disabled=S.adjusting, id="adjust-submit"),
                spacing="2",
                width="100%",
                align="start",
            ),
            on_submit=lambda _f: S.adjust(),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _entry(row: rx.Var) -> rx.Component:
    return row_box(
        rx.vstack(
            rx.text(row["label"], weight="medium", size="2"),
            rx.cond(row["detail"] != "", rx.text(row["detail"], size="1", color_scheme="gray")),
            spacing="0",
            flex="1",
        ),
        rx.text(row["at"], size="1", color_scheme="gray"),
        rx.text(
            row["amount"],
            weight="bold",
            color=rx.cond(row["positive"], rx.color("green", 11), rx.color("gray", 12)),
            min_width="90px",
            text_align=rx.breakpoints(initial="left", sm="right"),
        ),
    )


def _ledger() -> rx.Component:
    return rx.vstack(
        rx.heading(T["admin.ledger.title"], size="4", margin_top="24px"),
        rx.cond(
            S.entries.length() > 0,
            list_card(rx.foreach(S.entries, _entry), id="admin-ledger"),
            rx.text(T["admin.ledger.empty"], color_scheme="gray"),
        ),
        pager(S.page, S.pages, S.page_label, T["common.previous"], T["common.next"], S.go_to_page),
        width="100%",
    )


def _suspend_dialog() -> rx.Component:
    return confirm_dialog(
        title=T["admin.user.suspend_title"],
        description=T["admin.user.suspend_help"],
        body=(
            rx.text_area(
                value=S.suspend_reason,
                on_change=S.set_suspend_reason,
                placeholder=T["admin.user.reason"],
                aria_label=T["admin.user.reason"],
                margin_top="12px",
                rows="3",
                id="suspend-reason",
                max_length=500,
            ),
            rx.cond(
                S.suspend_error != "",
                rx.text(S.suspend_error, color=rx.color("red", 11), size="1", role="alert"),
            ),
        ),
        keep_label=T["admin.keep"],
        confirm_label=T["admin.user.suspend"],
        on_confirm=S.confirm_suspend,
        confirm_id="confirm-suspend",
        open=S.suspend_open,
        on_open_change=S.set_suspend_open,
    )


def admin_user_page() -> rx.Component:
    return page_frame(
        admin_nav("/admin/users"),
        rx.cond(
            S.found,
            rx.vstack(
                _header(),
                rx.grid(_facts(), _adjust(), columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4", width="100%"),
                _ledger(),
                _suspend_dialog(),
                width="100%",
                spacing="0",
            ),
            rx.cond(S.loading, rx.spinner(),
                    rx.text(T["error.user_not_found"], color_scheme="gray")),
        ),
    )  # fmt: skip
