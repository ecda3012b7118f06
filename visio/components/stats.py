"""Pieces of the statistics page: stat tiles, status counts, chart cards, the per-session table."""

from __future__ import annotations

import reflex as rx

from visio.components.a11y import VISUALLY_HIDDEN
from visio.components.sessions import status_badge

CHART_HEIGHT = 240


def stat_tile(icon: str, label: rx.Var, value: rx.Var, hint: rx.Var, tile_id: str) -> rx.Component:
    """One figure with its name and a line saying what it is made of."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.icon(icon, size=16, color=rx.color("accent", 11)),
                    width="28px",
                    height="28px",
                    border_radius="8px",
                    background=rx.color("accent", 3),
                    flex_shrink="0",
                ),
                rx.text(label, size="2", weight="medium", color_scheme="gray"),
                spacing="2",
                align="center",
            ),
            rx.text(
                value,
                size=rx.breakpoints(initial="5", sm="7"),
                weight="bold",
                id=tile_id,
                white_space="nowrap",
            ),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="2",
            align="start",
        ),
        size="2",
        width="100%",
    )


def tile_grid(*tiles: rx.Component) -> rx.Component:
    """Tiles two by two on a phone, three abreast on a wide screen."""
    return rx.grid(
        *tiles,
        columns=rx.breakpoints(initial="2", md="3"),
        spacing="4",
        width="100%",
    )


def status_counts(counts: rx.Var) -> rx.Component:
    """How many sessions are in each status, as a wrapping row of small counters."""
    return rx.flex(
        rx.foreach(
            counts,
            lambda c: rx.hstack(
                rx.text(c["count"], size="5", weight="bold"),
                status_badge(c["status"], c["label"]),
                spacing="2",
                align="center",
                padding_x="12px",
                padding_y="8px",
                border_radius="12px",
                background=rx.color("gray", 1),
                border=f"1px solid {rx.color('gray', 4)}",
                id=f"status-count-{c['status']}",
            ),
        ),
        wrap="wrap",
        gap="3",
        width="100%",
    )


def chart_table(
    caption: rx.Var, headers: list[rx.Var], rows: rx.Var, keys: list[str], table_id: str
) -> rx.Component:
    """A chart's text alternative (WCAG 1.1.1): its figures as a table with a caption and
    headers, out of sight but read by screen readers in place of the drawing."""
    return rx.el.table(
        rx.el.caption(caption),
        rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in headers])),
        rx.el.tbody(
            rx.foreach(
                rows,
                lambda r: rx.el.tr(
                    rx.el.th(r[keys[0]], scope="row"), *[rx.el.td(r[k]) for k in keys[1:]]
                ),
            )
        ),
        id=table_id,
        class_name="chart-table",
        **VISUALLY_HIDDEN,
    )


def chart_card(
    title: rx.Var, hint: rx.Var, chart: rx.Component, table: rx.Component | None = None
) -> rx.Component:
    """A chart under its title; the drawing is one image named by the title, and its figures
    are said by `table` (see chart_table)."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.text(hint, size="1", color_scheme="gray"),
            rx.box(chart, width="100%", padding_top="8px", role="img", aria_label=title),
            table if table is not None else rx.fragment(),
            spacing="1",
            width="100%",
        ),
        size="2",
        width="100%",
        min_width="0",  # lets the chart shrink inside a grid cell on a phone
    )


def _axes(decimals: bool = False) -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="label", tick_line=False, min_tick_gap=12),
        rx.recharts.y_axis(allow_decimals=decimals, tick_line=False, width=48),
        rx.recharts.graphing_tooltip(cursor={"fill": rx.color("gray", 3)}),
    ]


def enrollments_chart(data: rx.Var, name: rx.Var) -> rx.Component:
    """Enrollments per week, as bars."""
    return rx.recharts.bar_chart(
        *_axes(),
        rx.recharts.bar(
            data_key="value", name=name, fill=rx.color("accent", 9), radius=[4, 4, 0, 0]
        ),
        data=data,
        max_bar_size=40,
        width="100%",
        height=CHART_HEIGHT,
    )


def revenue_chart(data: rx.Var, name: rx.Var) -> rx.Component:
    """Money earned per month, as an area."""
    return rx.recharts.area_chart(
        *_axes(decimals=True),
        rx.recharts.area(
            data_key="amount",
            name=name,
            type_="monotone",
            stroke=rx.color("grass", 9),
            fill=rx.color("grass", 5),
        ),
        data=data,
        width="100%",
        height=CHART_HEIGHT,
    )


def attendance_chart(data: rx.Var, enrolled: rx.Var, attended: rx.Var) -> rx.Component:
    """Enrolled and attending students of the last finished sessions, side by side."""
    return rx.recharts.bar_chart(
        *_axes(),
        rx.recharts.legend(),
        rx.recharts.bar(data_key="enrolled", name=enrolled, fill=rx.color("accent", 7)),
        rx.recharts.bar(data_key="attended", name=attended, fill=rx.color("accent", 10)),
        data=data,
        max_bar_size=40,
        width="100%",
        height=CHART_HEIGHT,
    )


def quiet_note(text: rx.Var) -> rx.Component:
    return rx.center(
        rx.text(text, size="2", color_scheme="gray", text_align="center"),
        height=f"{CHART_HEIGHT}px",
        width="100%",
    )


def upcoming_list(items: rx.Var, empty: rx.Var) -> rx.Component:
    """The next published sessions: title, date and seats taken."""
    return rx.cond(
        items.length() > 0,  # type: ignore[attr-defined]
        rx.vstack(
            rx.foreach(
                items,
                lambda u: rx.hstack(
                    rx.vstack(
                        rx.text(u["title"], weight="medium", size="2", trim="both"),
                        rx.text(u["when"], size="1", color_scheme="gray"),
                        spacing="1",
                        min_width="0",
                    ),
                    rx.spacer(),
                    rx.badge(rx.icon("users", size=12), u["seats"], variant="soft"),
                    width="100%",
                    align="center",
                    padding_y="8px",
                    border_bottom=f"1px solid {rx.color('gray', 4)}",
                ),
            ),
            spacing="0",
            width="100%",
        ),
        rx.text(empty, size="2", color_scheme="gray", padding_y="12px"),
    )


def session_table(rows: rx.Var, headers: list[rx.Var]) -> rx.Component:
    """One page of sessions with their figures; scrolls sideways on a narrow screen."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h, white_space="nowrap") for h in headers]
                )
            ),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda r: rx.table.row(
                        rx.table.row_header_cell(
                            rx.link(
                                r["title"],
                                href="/teacher/video-sessions/" + r["id"].to_string(),
                                weight="medium",
                                color=rx.color("gray", 12),
                            ),
                            min_width="180px",
                        ),
                        rx.table.cell(r["when"], min_width="160px"),
                        rx.table.cell(status_badge(r["status"], r["status_label"])),
                        rx.table.cell(r["seats"], white_space="nowrap"),
                        rx.table.cell(r["fill"], white_space="nowrap"),
                        rx.table.cell(r["revenue"], white_space="nowrap"),
                        rx.table.cell(r["attended"]),
                        class_name="stats-row",
                    ),
                )
            ),
            variant="surface",
            size="2",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        id="stats-table",
    )
