"""/wallet."""

from __future__ import annotations

import reflex as rx

from visio.components.layout import page_frame, page_header
from visio.components.payouts import teacher_payouts
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.wallet import WalletState as W

T = TEXT
PURCHASE_COLORS = {"held": "blue", "refunded": "green", "released": "gray"}


def _top_up() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(T["wallet.balance"], color_scheme="gray", size="2"),
            rx.heading(W.balance_label, size="8", id="wallet-page-balance"),
            rx.divider(),
            rx.text(T["wallet.top_up"], weight="medium"),
            rx.hstack(
                *[
                    rx.button(
                        f"{n} €",
                        variant="soft",
                        on_click=W.top_up(str(n)),
                        loading=W.topping_up,
                        id=f"topup-{n}",
                    )
                    for n in (10, 20, 50)
                ],
                wrap="wrap",
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        value=W.amount,
                        on_change=W.set_amount,
                        placeholder="25,00",
                        input_mode="decimal",
                        aria_label=T["a11y.topup_amount"],
                        id="topup-amount",
                        width="100%",
                    ),
                    rx.button(
                        T["wallet.top_up_button"],
                        type="submit",
                        loading=W.topping_up,
                        id="topup-submit",
                    ),
                    width="100%",
                ),
                on_submit=lambda _f: W.top_up(""),
                width="100%",
            ),
            rx.cond(
                W.topup_error != "",
                rx.text(
                    W.topup_error,
                    color=rx.color("red", 11),
                    size="1",
                    role="alert",
                    id="topup-error",
                ),
            ),
            rx.text(T["wallet.demo_note"], size="1", color_scheme="gray"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(T["wallet.history"], size="4"),
            rx.cond(
                W.total == 0,
                rx.text(T["wallet.no_history"], color_scheme="gray", size="2"),
                rx.vstack(
                    rx.foreach(
                        W.entries,
                        lambda e: rx.hstack(
                            rx.vstack(
                                rx.text(e["label"], weight="medium", size="2"),
                                rx.cond(
                                    e["href"] != "", rx.link(e["session"], href=e["href"], size="1")
                                ),
                                rx.text(e["at"], size="1", color_scheme="gray"),
                                spacing="0",
                            ),
                            rx.spacer(),
                            rx.text(
                                e["amount"],
                                weight="bold",
                                color=rx.cond(
                                    e["positive"], rx.color("grass", 11), rx.color("gray", 12)
                                ),
                                white_space="nowrap",
                            ),
                            width="100%",
                            align="center",
                            padding_y="6px",
                            border_bottom=f"1px solid {rx.color('gray', 4)}",
                            class_name="ledger-entry",
                        ),
                    ),
                    pager(
                        W.page,
                        W.pages,
                        W.page_label,
                        T["common.previous"],
                        T["common.next"],
                        W.go_to_page,
                    ),
                    width="100%",
                    spacing="0",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="wallet-history",
    )


def _purchases() -> rx.Component:
    return rx.cond(
        W.purchases.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading(T["wallet.purchases"], size="4"),
                rx.foreach(
                    W.purchases,
                    lambda p: rx.hstack(
                        rx.vstack(
                            rx.link(p["session"], href=p["href"], size="2", weight="medium"),
                            rx.text(p["at"], size="1", color_scheme="gray"),
                            spacing="0",
                        ),
                        rx.spacer(),
                        rx.vstack(
                            rx.text(p["amount"], weight="bold", size="2"),
                            rx.match(
                                p["status"],
                                *[
                                    (k, rx.badge(p["status_label"], color_scheme=c, variant="soft"))
                                    for k, c in PURCHASE_COLORS.items()
                                ],
                                rx.badge(p["status_label"]),
                            ),
                            align="end",
                            spacing="1",
                        ),
                        width="100%",
                        align="center",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def wallet_page() -> rx.Component:
    return page_frame(
        page_header(T["wallet.title"], T["wallet.subtitle"]),
        rx.grid(
            rx.vstack(_top_up(), teacher_payouts(), _purchases(), spacing="4", width="100%"),
            _history(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
