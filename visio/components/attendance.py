"""Pieces of joining and attendance: browser-side timers, the join countdown, the report.

Timers are `rx.moment` components (react-moment): its interval re-renders in the browser and fires
`on_change` once when it appears and then at every interval, so a page gets a heartbeat or a
coarse tick without any hand-written JavaScript and without a server event per second.
"""

from __future__ import annotations

import reflex as rx

from visio.components.sessions import meta


def interval_timer(interval_ms: rx.Var | int, on_tick, timer_id: str) -> rx.Component:  # type: ignore[no-untyped-def]
    """Invisible: calls `on_tick` when it appears, then every `interval_ms`."""
    return rx.moment(interval=interval_ms, on_change=on_tick, display="none", id=timer_id)


def countdown(until_iso: rx.Var, lang: rx.Var) -> rx.Component:
    """Time left until `until_iso` in words ("4 minutes", "3 heures"), refreshed in the browser."""

    def _in(locale: str) -> rx.Component:
        return rx.moment(
            date=until_iso, from_now=True, ago=True, locale=locale, interval=1_000, id="countdown"
        )

    return rx.cond(lang == "fr", _in("fr"), _in("en"))


def join_countdown_button(label: rx.Var, until_iso: rx.Var, lang: rx.Var) -> rx.Component:
    """The disabled "Join in 4 minutes" button shown before the join window opens."""
    return rx.button(
        rx.icon("clock", size=16),
        rx.text(label, " ", countdown(until_iso, lang), as_="span"),
        size="3",
        width="100%",
        disabled=True,
        variant="soft",
        id="action-join-later",
    )


def _share(line: rx.Var, measured: rx.Var, name: rx.Var) -> rx.Component:
    return rx.cond(
        measured,
        rx.hstack(
            rx.progress(value=line["share"], max=100, size="1", width="64px", aria_label=name),
            rx.text(line["share_label"], size="2", white_space="nowrap"),
            align="center",
            spacing="2",
        ),
        rx.text("—", color_scheme="gray"),
    )


def _presence_badge(line: rx.Var) -> rx.Component:
    return rx.cond(
        line["joined"],
        rx.badge(rx.icon("check", size=12), line["status_label"], color_scheme="green"),
        rx.badge(line["status_label"], color_scheme="gray", variant="outline"),
    )


def _table(lines: rx.Var, measured: rx.Var, headers: list[rx.Var]) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(
            rx.foreach(
                lines,
                lambda line: rx.table.row(
                    rx.table.cell(
                        rx.vstack(
                            rx.text(line["name"], weight="medium"),
                            rx.text(line["email"], size="1", color_scheme="gray"),
                            spacing="0",
                        )
                    ),
                    rx.table.cell(line["first_join"]),
                    rx.table.cell(rx.cond(measured, line["minutes"], "—")),
                    rx.table.cell(_share(line, measured, headers[3])),
                    rx.table.cell(_presence_badge(line)),
                    class_name="attendance-row",
                ),
            )
        ),
        size="1",
        width="100%",
    )


def _cards(lines: rx.Var, measured: rx.Var, share_name: rx.Var) -> rx.Component:
    """The same lines stacked, for phones."""
    return rx.vstack(
        rx.foreach(
            lines,
            lambda line: rx.box(
                rx.hstack(
                    rx.vstack(
                        rx.text(line["name"], weight="medium", size="2"),
                        rx.text(line["email"], size="1", color_scheme="gray"),
                        spacing="0",
                        min_width="0",
                    ),
                    rx.spacer(),
                    _presence_badge(line),
                    align="start",
                    width="100%",
                ),
                rx.cond(
                    line["joined"],
                    rx.hstack(
                        meta("log-in", line["first_join"]),
                        rx.cond(measured, meta("timer", line["minutes"])),
                        rx.cond(measured, _share(line, measured, share_name)),
                        spacing="3",
                        wrap="wrap",
                        margin_top="6px",
                    ),
                ),
                padding_y="10px",
                border_top=f"1px solid {rx.color('gray', 4)}",
                width="100%",
            ),
        ),
        spacing="0",
        width="100%",
    )


def attendance_report(
    *,
    title: rx.Var,
    summary: rx.Var,
    note: rx.Var,
    lines: rx.Var,
    measured: rx.Var,
    empty_text: rx.Var,
    download_label: rx.Var,
    on_download,  # type: ignore[no-untyped-def]
    headers: list[rx.Var],
) -> rx.Component:
    """The teacher's attendance section: summary, CSV export, one line per enrolled student."""
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.heading(title, size="4"),
                    rx.text(summary, size="2", color_scheme="gray", id="attendance-summary"),
                    spacing="1",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("download", size=14),
                    download_label,
                    variant="soft",
                    size="2",
                    on_click=on_download,
                    disabled=lines.length() == 0,
                    id="attendance-csv",
                ),
                gap="3",
                wrap="wrap",
                align="center",
                width="100%",
            ),
            rx.cond(
                lines.length() == 0,
                rx.text(empty_text, color_scheme="gray", size="2"),
                rx.box(
                    rx.box(_table(lines, measured, headers), display=["none", "none", "block"]),
                    rx.box(_cards(lines, measured, headers[3]), display=["block", "block", "none"]),
                    width="100%",
                    overflow_x="auto",
                ),
            ),
            rx.cond(note != "", rx.text(note, size="1", color_scheme="gray")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="attendance",
    )
