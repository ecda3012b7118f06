"""/teacher/video-sessions/[session_id]: run one session."""

from __future__ import annotations

import reflex as rx

from visio.components.a11y import TABLE_WIDTH, scrolling_table
from visio.components.attendance import attendance_report, interval_timer
from visio.components.dialogs import confirm_dialog
from visio.components.layout import page_frame
from visio.components.materials import materials_panel
from visio.components.series import scope_choice, series_badge
from visio.components.session_dialog import session_dialog
from visio.components.sessions import confirmed_badge, meta, status_badge
from visio.components.text import TEXT
from visio.state.session_detail import SessionDetailState as D
from visio.state.session_form import SessionFormState

T = TEXT


def _section(title: rx.Var, *children: rx.Component, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.cond(
            D.can_join,
            rx.button(
                rx.icon("video", size=14),
                T["detail.join"],
                color_scheme="green",
                on_click=D.join_room,
                id="join-room",
            ),
        ),
        rx.cond(
            D.can_edit,
            rx.button(
                rx.icon("pencil", size=14),
                T["detail.edit"],
                variant="soft",
                id="edit-session",
                on_click=SessionFormState.open_edit(D.current_id),
            ),
        ),
        rx.cond(
            D.can_publish,
            rx.button(
                rx.icon("send", size=14),
                T["detail.publish"],
                on_click=D.publish,
                loading=D.busy,
                id="publish-session",
            ),
        ),
        rx.cond(
            D.series_drafts > 1,  # one draft: "Publish" says it all
            rx.button(
                rx.icon("send", size=14),
                T["series.publish_all"].replace("{n}", D.series_drafts.to_string()),
                variant="soft",
                on_click=D.publish_series,
                loading=D.busy,
                id="publish-series",
            ),
        ),
        rx.cond(
            D.can_cancel,
            rx.button(
                rx.icon("ban", size=14),
                T["detail.cancel"],
                color_scheme="red",
                variant="soft",
                on_click=D.set_cancel_open(True),
                id="cancel-session",
            ),
        ),
        rx.tooltip(
            rx.button(
                rx.icon("trash-2", size=14),
                T["detail.delete"],
                color_scheme="red",
                variant="outline",
                disabled=~D.can_delete,
                on_click=D.set_delete_open(True),
                id="delete-session",
            ),
            content=rx.cond(D.can_delete, T["detail.delete_hint"], D.delete_blocker),
        ),
        gap="2",
        wrap="wrap",
    )


def _facts() -> rx.Component:
    return _section(
        T["detail.about"],
        meta("calendar", D.when),
        rx.cond(D.zone_note != "", rx.text(D.zone_note, size="1", color_scheme="gray")),
        rx.hstack(
            meta("clock", D.duration), meta("video", D.platform_label), spacing="4", wrap="wrap"
        ),
        meta("users", D.seats),
        meta("badge-euro", D.price),
        meta("hourglass", T["detail.deadline"] + " " + D.deadline),
        rx.hstack(
            rx.foreach(
                D.tags,
                lambda tag: rx.badge(
                    "#", tag, variant="outline", radius="full", color_scheme="gray"
                ),
            ),
            wrap="wrap",
            spacing="1",
        ),
        rx.divider(),
        rx.text(T["detail.private_link"], size="1", weight="medium", color_scheme="gray"),
        rx.link(
            D.link,
            href=D.link,
            is_external=True,
            size="2",
            style={"overflow_wrap": "anywhere"},
            id="session-link",
        ),
    )


def _students() -> rx.Component:
    return _section(
        T["detail.students"],
        rx.cond(
            D.students.length() == 0,
            rx.text(T["detail.no_students"], color_scheme="gray", size="2"),
            scrolling_table(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(T["detail.student"]),
                            rx.table.column_header_cell(T["detail.enrolled_at"]),
                            rx.table.column_header_cell(T["detail.enrollment_status"]),
                            rx.table.column_header_cell(T["detail.paid"]),
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            D.students,
                            lambda s: rx.table.row(
                                rx.table.cell(
                                    rx.vstack(
                                        rx.text(s["name"], weight="medium"),
                                        rx.text(s["email"], size="1", color_scheme="gray"),
                                        spacing="0",
                                    )
                                ),
                                rx.table.cell(s["enrolled_at"]),
                                rx.table.cell(rx.badge(s["status_label"], variant="soft")),
                                rx.table.cell(s["paid"]),
                            ),
                        )
                    ),
                    size="1",
                    **TABLE_WIDTH,
                ),
                T["detail.students"],
            ),
        ),
        id="students",
    )


def _waiting_list() -> rx.Component:
    return _section(
        T["waitlist.title"],
        rx.text(
            rx.cond(D.waiting_open, T["waitlist.open_hint"], T["waitlist.closed_hint"]),
            size="1",
            color_scheme="gray",
        ),
        rx.cond(
            D.waiting_count == 0,
            rx.text(T["waitlist.empty"], color_scheme="gray", size="2"),
            rx.vstack(
                rx.badge(
                    T["waitlist.waiting"].replace("{n}", D.waiting_count.to_string()),
                    color_scheme="iris",
                    variant="soft",
                ),
                scrolling_table(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell(T["waitlist.col.position"]),
                                rx.table.column_header_cell(T["waitlist.col.student"]),
                                rx.table.column_header_cell(T["waitlist.col.joined"]),
                            )
                        ),
                        rx.table.body(
                            rx.foreach(
                                D.waiting,
                                lambda w: rx.table.row(
                                    rx.table.cell(w["position"]),
                                    rx.table.cell(
                                        rx.hstack(
                                            rx.text(w["name"], weight="medium"),
                                            rx.cond(
                                                w["short"],
                                                rx.badge(
                                                    T["waitlist.short_badge"],
                                                    color_scheme="amber",
                                                    variant="soft",
                                                ),
                                            ),
                                            wrap="wrap",
                                            align="center",
                                        )
                                    ),
                                    rx.table.cell(w["joined_at"]),
                                ),
                            )
                        ),
                        size="1",
                        **TABLE_WIDTH,
                    ),
                    T["waitlist.title"],
                ),
                spacing="2",
                width="100%",
            ),
        ),
        id="waiting-list",
    )


def _attendance() -> rx.Component:
    return attendance_report(
        title=T["report.title"],
        summary=D.report_summary,
        note=D.report_note,
        lines=D.report,
        measured=D.report_measured,
        empty_text=T["report.empty"],
        download_label=T["report.download"],
        on_download=D.download_attendance,
        headers=[
            T["report.col_student"],
            T["report.col_first_join"],
            T["report.col_minutes"],
            T["report.col_share"],
            T["report.col_status"],
        ],
    )


def _history() -> rx.Component:
    return _section(
        T["detail.history"],
        rx.foreach(
            D.history,
            lambda h: rx.hstack(
                rx.box(
                    width="8px",
                    height="8px",
                    border_radius="50%",
                    background=rx.color("accent", 9),
                    margin_top="6px",
                    flex_shrink="0",
                ),
                rx.vstack(
                    rx.text(rx.text.strong(h["label"]), " · ", h["who"], size="2"),
                    rx.cond(h["detail"] != "", rx.text(h["detail"], size="1", color_scheme="gray")),
                    rx.text(h["at"], size="1", color_scheme="gray"),
                    spacing="0",
                ),
                align="start",
                spacing="3",
            ),
        ),
        id="history",
    )


def _cancel_dialog() -> rx.Component:
    return confirm_dialog(
        title=T["detail.cancel_title"],
        description=rx.cond(D.cancel_scope == "future", D.refund_note_future, D.refund_note),
        description_id="refund-note",
        body=(
            rx.cond(D.series_id, scope_choice(D.cancel_scope, D.set_cancel_scope, "cancel-scope")),
            rx.text_area(
                value=D.cancel_reason,
                on_change=D.set_cancel_reason,
                placeholder=T["detail.cancel_reason"],
                margin_top="12px",
                rows="3",
                id="cancel-reason",
            ),
            rx.cond(
                D.cancel_error != "",
                rx.text(D.cancel_error, color=rx.color("red", 11), size="1", role="alert"),
            ),
        ),
        keep_label=T["detail.keep"],
        confirm_label=T["detail.confirm_cancel"],
        on_confirm=D.confirm_cancel,
        confirm_id="confirm-cancel",
        open=D.cancel_open,
        on_open_change=D.set_cancel_open,
    )


def _delete_dialog() -> rx.Component:
    return confirm_dialog(
        title=T["detail.delete_title"],
        description=T["detail.delete_warning"],
        keep_label=T["detail.keep"],
        confirm_label=T["detail.confirm_delete"],
        on_confirm=D.confirm_delete,
        confirm_id="confirm-delete",
        open=D.delete_open,
        on_open_change=D.set_delete_open,
    )


def _body() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    status_badge(D.status, D.status_label),
                    series_badge(D.series_id),
                    rx.cond(D.confirmed, confirmed_badge(T["minimum.confirmed"])),
                    rx.text(D.price, weight="bold"),
                    align="center",
                ),
                rx.heading(D.title, size="7", style={"overflow_wrap": "anywhere"}),
                spacing="2",
            ),
            rx.spacer(),
            _actions(),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="3",
            width="100%",
        ),
        rx.cond(
            D.cancel_note != "",
            rx.callout(D.cancel_note, icon="ban", color_scheme="red", width="100%"),
        ),
        rx.cond(
            D.minimum_teacher_note != "",
            rx.callout(
                D.minimum_teacher_note,
                icon="users",
                color_scheme=rx.cond(D.confirmed, "green", "amber"),
                width="100%",
                id="minimum-note",
            ),
        ),
        rx.grid(
            rx.vstack(
                rx.cond(
                    D.description != "",
                    _section(
                        T["detail.description"], rx.text(D.description, white_space="pre-wrap")
                    ),
                ),
                _students(),
                rx.cond(D.has_waitlist, _waiting_list()),
                _attendance(),
                _history(),
                spacing="4",
                width="100%",
                min_width="0",  # wide tables scroll inside their card, not the page
            ),
            rx.vstack(
                _facts(),
                _section(T["materials.title"], materials_panel(editable=True), id="materials"),
                spacing="4",
                width="100%",
                min_width="0",
            ),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
            style={
                "grid_template_columns": rx.breakpoints(
                    initial="minmax(0, 1fr)", md="minmax(0, 2fr) minmax(0, 1fr)"
                )
            },
        ),
        spacing="4",
        width="100%",
    )


def session_detail_page() -> rx.Component:
    return page_frame(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14), T["nav.sessions"], align="center", spacing="1"
            ),
            href="/teacher/video-sessions",
            size="2",
            margin_bottom="12px",
            display="inline-block",
        ),
        rx.cond(
            D.loading,
            rx.skeleton(rx.box(height="320px"), loading=True),
            rx.cond(
                D.found,
                _body(),
                rx.callout(D.error_text, icon="circle-alert", color_scheme="red"),
            ),
        ),
        _cancel_dialog(),
        _delete_dialog(),
        session_dialog(),
        rx.cond(D.found & (D.tick_ms > 0), interval_timer(D.tick_ms, D.tick, "page-tick")),
    )
