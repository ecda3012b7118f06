"""/admin/payouts: the payout requests, waiting ones first, with the pay and refuse dialogs."""

from __future__ import annotations

import reflex as rx

from visio.components.admin import admin_nav
from visio.components.forms import field_label
from visio.components.layout import page_frame, page_header
from visio.components.payouts import payout_status_badge
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.admin_payouts import AdminPayoutsState as A

T = TEXT


def _filters() -> rx.Component:
    return rx.flex(
        rx.segmented_control.root(
            rx.segmented_control.item(T["admin_payouts.all"], value="all"),
            rx.segmented_control.item(T["payout.status.requested"], value="requested"),
            rx.segmented_control.item(T["payout.status.paid"], value="paid"),
            rx.segmented_control.item(T["payout.status.refused"], value="refused"),
            value=A.status_filter,
            on_change=A.set_filter,
            id="payout-filter",
            width="100%",
            max_width="440px",
        ),
        rx.badge(
            A.waiting_label,
            color_scheme=rx.cond(A.requested_count > 0, "amber", "gray"),
            size="2",
            id="payout-waiting",
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="center"),
        gap="3",
        width="100%",
    )


def _row(item: rx.Var) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.text(item["amount"], weight="bold", size="4"),
                    payout_status_badge(item["status"], item["status_label"]),
                    align="center",
                ),
                rx.text(item["teacher"], weight="medium", size="2"),
                rx.text(item["email"], size="1", color_scheme="gray"),
                rx.code(item["destination"], size="2", class_name="payout-destination"),
                rx.text(item["requested_at"], size="1", color_scheme="gray"),
                rx.cond(
                    item["decided_at"] != "",
                    rx.text(item["decided_at"], size="1", color_scheme="gray"),
                ),
                rx.cond(
                    item["note"] != "", rx.text(item["note"], size="2", class_name="payout-note")
                ),
                spacing="1",
                min_width="0",
                style={"overflow_wrap": "anywhere"},
            ),
            rx.spacer(),
            rx.cond(
                item["status"] == "requested",
                rx.hstack(
                    rx.button(
                        T["admin_payouts.pay"],
                        on_click=A.open_dialog("pay", item["id"]),
                        class_name="payout-pay",
                    ),
                    rx.button(
                        T["admin_payouts.refuse"],
                        variant="soft",
                        color_scheme="red",
                        on_click=A.open_dialog("refuse", item["id"]),
                        class_name="payout-refuse",
                    ),
                    spacing="2",
                ),
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            gap="3",
            width="100%",
        ),
        width="100%",
        class_name="payout-item",
    )


def _dialog() -> rx.Component:
    paying = A.dialog == "pay"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(paying, T["admin_payouts.pay_title"], T["admin_payouts.refuse_title"])
            ),
            rx.dialog.description(A.dialog_intro, id="payout-dialog-intro"),
            rx.vstack(
                field_label(
                    rx.cond(paying, T["admin_payouts.reference"], T["admin_payouts.reason"]),
                    "payout-dialog-text",
                ),
                rx.cond(
                    paying,
                    rx.input(
                        value=A.dialog_text,
                        on_change=A.set_dialog_text,
                        id="payout-dialog-text",
                        max_length=128,
                        width="100%",
                    ),
                    rx.text_area(
                        value=A.dialog_text,
                        on_change=A.set_dialog_text,
                        id="payout-dialog-text",
                        max_length=500,
                        width="100%",
                    ),
                ),
                rx.cond(
                    A.dialog_error != "",
                    rx.text(
                        A.dialog_error,
                        color=rx.color("red", 11),
                        size="1",
                        role="alert",
                        id="payout-dialog-error",
                    ),
                ),
                spacing="2",
                width="100%",
                margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button(T["common.cancel"], variant="soft", color_scheme="gray")),
                rx.button(
                    rx.cond(paying, T["admin_payouts.pay"], T["admin_payouts.refuse"]),
                    color_scheme=rx.cond(paying, "green", "red"),
                    on_click=A.confirm,
                    loading=A.deciding,
                    id="payout-dialog-confirm",
                ),
                gap="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=A.dialog != "",
        on_open_change=A.set_dialog_open,
    )


def admin_payouts_page() -> rx.Component:
    return page_frame(
        page_header(T["admin_payouts.title"], T["admin_payouts.subtitle"]),
        admin_nav("/admin/payouts"),
        rx.vstack(
            _filters(),
            rx.cond(
                A.total == 0,
                rx.text(T["admin_payouts.none"], color_scheme="gray", id="payout-queue-empty"),
                rx.vstack(rx.foreach(A.items, _row), spacing="3", width="100%", id="payout-queue"),
            ),
            pager(
                A.page, A.pages, A.page_label, T["common.previous"], T["common.next"], A.go_to_page
            ),
            _dialog(),
            spacing="4",
            width="100%",
            margin_top="16px",
        ),
    )
