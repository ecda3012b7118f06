"""/sessions/[session_id]: a session's page for students (and its teacher)."""

from __future__ import annotations

import reflex as rx

from visio.components.attendance import interval_timer, join_countdown_button
from visio.components.dialogs import confirm_dialog
from visio.components.layout import page_frame
from visio.components.series import series_badge
from visio.components.sessions import confirmed_badge, meta, status_badge
from visio.components.text import TEXT
from visio.state.session_page import SessionPageState as P

T = TEXT


def _pay_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(T["page.pay_title"]),
            rx.alert_dialog.description(
                rx.vstack(
                    rx.hstack(
                        rx.text(T["page.price"]), rx.spacer(), rx.text(P.price, weight="bold")
                    ),
                    rx.hstack(rx.text(T["page.balance"]), rx.spacer(), rx.text(P.balance)),
                    rx.divider(),
                    rx.hstack(
                        rx.text(T["page.balance_after"]),
                        rx.spacer(),
                        rx.text(P.balance_after, weight="bold", id="balance-after"),
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.cond(
                P.short_of_funds != "",
                rx.callout(
                    rx.text(P.short_of_funds, " ", rx.link(T["page.top_up"], href="/wallet")),
                    icon="wallet",
                    color_scheme="amber",
                    margin_top="12px",
                ),
            ),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button(T["common.cancel"], variant="soft", color_scheme="gray")
                ),
                rx.button(
                    T["page.confirm_pay"],
                    on_click=P.enroll,
                    loading=P.busy,
                    disabled=P.short_of_funds != "",
                    id="confirm-pay",
                ),
                gap="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=P.pay_open,
        on_open_change=P.set_pay_open,
    )


def _unenroll_dialog() -> rx.Component:
    return confirm_dialog(
        title=T["page.unenroll_title"],
        description=rx.cond(P.is_paid, T["page.unenroll_refund"], T["page.unenroll_free"]),
        keep_label=T["page.keep_seat"],
        confirm_label=T["page.unenroll"],
        on_confirm=P.unenroll,
        confirm_id="confirm-unenroll",
        open=P.unenroll_open,
        on_open_change=P.set_unenroll_open,
    )


def _join_later() -> rx.Component:
    """Before the join window: a live countdown, and when the button will open."""
    return rx.vstack(
        join_countdown_button(T["page.join_in"], P.opens_at_iso, P.lang),
        rx.text(P.join_window_note, size="1", color_scheme="gray", id="join-window-note"),
        width="100%",
        spacing="1",
    )


def _join_now() -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.icon("video", size=16),
            T["page.join"],
            size="3",
            width="100%",
            color_scheme="green",
            on_click=P.join,
            id="action-join",
        ),
        rx.cond(
            P.meeting_url != "",
            rx.link(
                T["page.meeting_link"],
                href=P.meeting_url,
                is_external=True,
                size="1",
                id="meeting-link",
            ),
        ),
        width="100%",
        spacing="2",
        align="center",
    )


def _waitlist_join() -> rx.Component:
    return rx.vstack(
        rx.callout(
            T["waitlist.full_hint"],
            icon="info",
            color_scheme="gray",
            width="100%",
            id="action-none",
        ),
        rx.cond(P.is_paid, rx.text(T["waitlist.paid_hint"], size="1", color_scheme="gray")),
        rx.button(
            rx.icon("list-plus", size=16),
            T["waitlist.join"],
            size="3",
            width="100%",
            on_click=P.join_waitlist,
            id="action-join-waitlist",
        ),
        rx.cond(P.wl_waiting != "", rx.text(P.wl_waiting, size="1", color_scheme="gray")),
        width="100%",
        spacing="2",
    )


def _waitlist_waiting() -> rx.Component:
    return rx.vstack(
        rx.callout(
            P.wl_position,
            icon="list-ordered",
            color_scheme="iris",
            width="100%",
            id="waitlist-place",
        ),
        rx.cond(
            P.wl_short,
            rx.callout(
                rx.text(T["waitlist.short"], " ", rx.link(T["page.top_up"], href="/wallet")),
                icon="wallet",
                color_scheme="amber",
                width="100%",
                id="waitlist-short",
            ),
        ),
        rx.cond(P.is_paid, rx.text(T["waitlist.paid_hint"], size="1", color_scheme="gray")),
        rx.button(
            T["waitlist.leave"],
            variant="soft",
            color_scheme="gray",
            width="100%",
            on_click=P.leave_waitlist,
            id="action-leave-waitlist",
        ),
        width="100%",
        spacing="2",
    )


def _no_action() -> rx.Component:
    return rx.cond(
        P.status == "finished",
        rx.button(
            rx.icon("circle-check", size=16),
            T["page.finished"],
            size="3",
            width="100%",
            disabled=True,
            variant="soft",
            id="action-finished",
        ),
        rx.cond(
            P.wl_state == "waiting",
            _waitlist_waiting(),
            rx.cond(
                P.wl_can_join,
                _waitlist_join(),
                rx.vstack(
                    rx.callout(
                        P.reason_text,
                        icon="info",
                        color_scheme="gray",
                        width="100%",
                        id="action-none",
                    ),
                    rx.cond(
                        P.wl_state == "closed",
                        rx.text(T["waitlist.closed"], size="2", color_scheme="gray"),
                    ),
                    width="100%",
                    spacing="2",
                ),
            ),
        ),
    )


def _action_box() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(T["page.price"], color_scheme="gray"),
                rx.spacer(),
                rx.heading(P.price, size="6"),
                width="100%",
                align="center",
            ),
            meta("users", P.seats),
            meta("hourglass", T["detail.deadline"] + " " + P.deadline),
            rx.match(
                P.action,
                (
                    "enroll",
                    rx.button(
                        rx.icon("check", size=16),
                        T["page.enroll"],
                        size="3",
                        width="100%",
                        on_click=P.enroll,
                        loading=P.busy,
                        id="action-enroll",
                    ),
                ),
                (
                    "pay",
                    rx.vstack(
                        rx.button(
                            rx.icon("credit-card", size=16),
                            T["page.pay_enroll"],
                            size="3",
                            width="100%",
                            on_click=P.set_pay_open(True),
                            id="action-pay",
                        ),
                        rx.text(
                            T["page.balance_after"],
                            T["common.colon"],
                            P.balance_after,
                            size="1",
                            id="balance-after-line",
                            color_scheme="gray",
                        ),
                        width="100%",
                        spacing="1",
                    ),
                ),
                (
                    "unenroll",
                    rx.vstack(
                        rx.callout(
                            T["page.you_are_enrolled"],
                            icon="circle-check",
                            color_scheme="green",
                            width="100%",
                        ),
                        _join_later(),
                        rx.button(
                            T["page.unenroll"],
                            variant="soft",
                            color_scheme="red",
                            width="100%",
                            on_click=P.set_unenroll_open(True),
                            id="action-unenroll",
                        ),
                        width="100%",
                        spacing="2",
                    ),
                ),
                (
                    "wait",
                    rx.vstack(
                        rx.callout(
                            T["page.you_are_enrolled"],
                            icon="circle-check",
                            color_scheme="green",
                            width="100%",
                        ),
                        _join_later(),
                        width="100%",
                        spacing="2",
                    ),
                ),
                ("join", _join_now()),
                (
                    "manage",
                    rx.link(
                        rx.button(T["page.manage"], size="3", width="100%", variant="soft"),
                        href="/teacher/video-sessions/" + P.current_id.to_string(),
                        width="100%",
                    ),
                ),
                _no_action(),
            ),
            rx.button(
                rx.icon("calendar-plus", size=16),
                T["page.add_to_calendar"],
                variant="ghost",
                size="2",
                on_click=P.download_ics,
                id="add-to-calendar",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _materials() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(T["page.materials"], size="4"),
            rx.cond(
                P.materials.length() == 0,
                rx.text(T["page.no_materials"], size="2", color_scheme="gray"),
                rx.vstack(
                    rx.foreach(
                        P.materials,
                        lambda m: rx.hstack(
                            rx.icon(rx.cond(m["kind"] == "file", "file-text", "link"), size=16),
                            rx.cond(
                                P.can_download & (m["href"] != ""),
                                rx.link(
                                    m["title"],
                                    href=m["href"],
                                    is_external=True,
                                    rel="noopener noreferrer",
                                    style={"overflow_wrap": "anywhere"},
                                ),
                                rx.text(m["title"]),
                            ),
                            align="center",
                        ),
                    ),
                    rx.cond(
                        ~P.can_download,
                        rx.text(T["page.materials_after_enroll"], size="1", color_scheme="gray"),
                    ),
                    spacing="2",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _series_box() -> rx.Component:
    """An occurrence of a series: enroll in all the remaining ones at once, or see them."""
    return rx.cond(
        P.series_id,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("repeat", size=16),
                    rx.text(T["series.part_of"], weight="bold"),
                    align="center",
                ),
                rx.cond(
                    P.series_remaining > 0,
                    rx.fragment(
                        rx.text(P.series_total, size="2", color_scheme="gray"),
                        rx.button(
                            T["series.enroll_all"].replace("{n}", P.series_remaining.to_string()),
                            on_click=P.enroll_series,
                            loading=P.busy,
                            width="100%",
                            id="enroll-series",
                        ),
                    ),
                ),
                rx.link(T["series.see"], href="/series/" + P.series_id.to_string(), size="2"),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="series-box",
        ),
    )


def _body() -> rx.Component:
    return rx.grid(
        rx.vstack(
            rx.hstack(
                status_badge(P.status, P.status_label),
                series_badge(P.series_id),
                rx.cond(P.confirmed, confirmed_badge(T["minimum.confirmed"])),
                rx.foreach(
                    P.tags,
                    lambda t: rx.badge(
                        "#", t, variant="outline", radius="full", color_scheme="gray"
                    ),
                ),
                wrap="wrap",
                spacing="2",
            ),
            rx.heading(P.title, size="8", style={"overflow_wrap": "anywhere"}),
            meta("user", T["student.by"].replace("{name}", P.teacher)),
            rx.cond(
                P.minimum_note != "",
                rx.callout(
                    P.minimum_note,
                    icon="users",
                    color_scheme="amber",
                    width="100%",
                    id="minimum-note",
                ),
            ),
            rx.cond(
                P.cancel_note != "",
                rx.callout(P.cancel_note, icon="ban", color_scheme="red", width="100%"),
            ),
            rx.cond(
                P.refund_note != "",
                rx.callout(
                    P.refund_note,
                    icon="undo-2",
                    color_scheme="green",
                    width="100%",
                    id="refund-note",
                ),
            ),
            rx.cond(
                P.moved_note != "",
                rx.callout.root(
                    rx.callout.icon(rx.icon("calendar-clock")),
                    rx.callout.text(rx.text(T["page.moved_title"], weight="bold")),
                    rx.callout.text(P.moved_note),
                    color_scheme="amber",
                    width="100%",
                    id="moved-note",
                ),
            ),
            rx.card(
                rx.vstack(
                    meta("calendar", P.when),
                    rx.cond(P.zone_note != "", rx.text(P.zone_note, size="1", color_scheme="gray")),
                    rx.hstack(
                        meta("clock", P.duration),
                        meta("video", P.platform_label),
                        spacing="4",
                        wrap="wrap",
                    ),
                    spacing="2",
                ),
                width="100%",
            ),
            rx.cond(P.description != "", rx.text(P.description, white_space="pre-wrap", size="3")),
            _materials(),
            spacing="4",
            width="100%",
        ),
        rx.box(
            rx.vstack(_action_box(), _series_box(), spacing="4", width="100%"),
            position=rx.breakpoints(initial="static", md="sticky"),
            top="80px",
        ),
        columns=rx.breakpoints(initial="1", md="3"),
        style={"grid_template_columns": rx.breakpoints(initial="1fr", md="2fr 1fr")},
        spacing="5",
        width="100%",
        align="start",
    )


def session_page() -> rx.Component:
    return page_frame(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14), T["nav.sessions"], align="center", spacing="1"
            ),
            href=P.home_path,
            size="2",
            margin_bottom="12px",
            display="inline-block",
        ),
        rx.cond(
            P.loading,
            rx.skeleton(rx.box(height="320px"), loading=True),
            rx.cond(
                P.found, _body(), rx.callout(P.error_text, icon="circle-alert", color_scheme="red")
            ),
        ),
        _pay_dialog(),
        _unenroll_dialog(),
        # The coarse tick: the button and the status follow the clock without a server job.
        rx.cond(P.found & (P.tick_ms > 0), interval_timer(P.tick_ms, P.tick, "page-tick")),
    )
