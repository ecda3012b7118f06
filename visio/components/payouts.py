"""The payout pieces of /wallet (teachers): the withdrawal form and the list of requests."""

from __future__ import annotations

import reflex as rx

from visio.components.forms import field_label
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.payouts import PayoutState as P

T = TEXT
STATUS_COLORS = {"requested": "amber", "paid": "grass", "refused": "red"}


def payout_status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.match(
        status,
        *[(k, rx.badge(label, color_scheme=c, variant="soft")) for k, c in STATUS_COLORS.items()],
        rx.badge(label),
    )


def _field_error(field: str) -> rx.Component:
    return rx.cond(
        (P.payout_error != "") & (P.payout_error_field == field),
        rx.text(
            P.payout_error,
            color=rx.color("red", 11),
            size="1",
            role="alert",
            id=f"payout-error-{field}",
        ),
    )


def withdraw_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(T["payout.title"], size="4"),
                rx.text(P.payout_hint, size="2", color_scheme="gray"),
                rx.el.input(type="hidden", name="nonce", value=P.payout_nonce),
                field_label(T["payout.amount"], "payout-amount"),
                rx.input(
                    value=P.payout_amount,
                    on_change=P.set_payout_amount,
                    placeholder="50,00",
                    input_mode="decimal",
                    name="amount",
                    id="payout-amount",
                    width="100%",
                ),
                _field_error("amount"),
                rx.text(T["payout.send_to"], weight="medium"),
                rx.segmented_control.root(
                    rx.segmented_control.item(T["payout.kind.iban"], value="iban"),
                    rx.segmented_control.item(T["payout.kind.reference"], value="reference"),
                    value=P.payout_kind,
                    on_change=P.set_payout_kind,
                    id="payout-kind",
                    width="100%",
                ),
                rx.input(
                    value=P.payout_destination,
                    on_change=P.set_payout_destination,
                    placeholder=rx.cond(
                        P.payout_kind == "iban",
                        T["payout.iban_placeholder"],
                        T["payout.reference_placeholder"],
                    ),
                    aria_label=T["payout.destination"],
                    auto_complete="off",
                    spell_check=False,
                    name="destination",
                    id="payout-destination",
                    width="100%",
                ),
                _field_error("destination"),
                rx.cond(
                    (P.payout_error != "")
                    & (P.payout_error_field != "amount")
                    & (P.payout_error_field != "destination"),
                    rx.text(
                        P.payout_error,
                        color=rx.color("red", 11),
                        size="1",
                        role="alert",
                        id="payout-error",
                    ),
                ),
                rx.button(
                    T["payout.submit"],
                    type="submit",
                    loading=P.requesting,
                    disabled=P.requesting,
                    id="payout-submit",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=P.request_payout,
            width="100%",
        ),
        width="100%",
        id="payout-form",
    )


def _payout_row(p: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(p["destination"], weight="medium", size="2", font_family="monospace"),
            rx.text(p["at"], size="1", color_scheme="gray"),
            rx.cond(p["note"] != "", rx.text(p["note"], size="1", class_name="payout-note")),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.vstack(
            rx.text(p["amount"], weight="bold", size="2", white_space="nowrap"),
            payout_status_badge(p["status"], p["status_label"]),
            align="end",
            spacing="1",
        ),
        width="100%",
        align="center",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="payout-row",
    )


def payout_history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(T["payout.history"], size="4"),
            rx.cond(
                P.payouts_total == 0,
                rx.text(T["payout.none"], color_scheme="gray", size="2"),
                rx.vstack(
                    rx.foreach(P.payouts, _payout_row),
                    pager(
                        P.payouts_page,
                        P.payouts_pages,
                        P.payouts_page_label,
                        T["common.previous"],
                        T["common.next"],
                        P.payouts_go_to,
                    ),
                    width="100%",
                    spacing="0",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="payout-history",
    )


def teacher_payouts() -> rx.Component:
    """Only a teacher withdraws: nothing for anyone else."""
    return rx.cond(
        P.is_teacher, rx.vstack(withdraw_form(), payout_history(), spacing="4", width="100%")
    )
