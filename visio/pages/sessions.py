"""/teacher/video-sessions and /student/video-sessions ("Sessions Visio")."""

from __future__ import annotations

import reflex as rx

from visio.components.filters import (
    PAID,
    PLATFORMS,
    choice,
    date_input,
    filter_panel,
    money_input,
    search_box,
)
from visio.components.layout import page_frame, page_header
from visio.components.session_dialog import session_dialog
from visio.components.sessions import card_grid, empty_state, pager, session_card, skeleton_grid
from visio.components.text import TEXT
from visio.state.session_form import SessionFormState
from visio.state.sessions import StudentSessionsState, TeacherSessionsState

TS, SS = TeacherSessionsState, StudentSessionsState


def _list(state, card, empty: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    T = TEXT
    return rx.cond(
        state.loading,
        skeleton_grid(),
        rx.cond(
            state.total == 0,
            rx.cond(
                state.filtered,
                empty_state(
                    "search-x",
                    T["filters.none_title"],
                    T["filters.none_body"],
                    rx.button(T["filters.clear"], variant="soft", on_click=state.clear_filters),
                ),
                empty,
            ),
            rx.fragment(
                card_grid(state.cards, card),
                pager(
                    state.page,
                    state.pages,
                    state.page_label,
                    T["common.previous"],
                    T["common.next"],
                    state.go_to_page,
                ),
            ),
        ),
    )


# --- teacher --------------------------------------------------------------------------------


def _status_chips() -> rx.Component:
    T = TEXT
    return rx.hstack(
        rx.button(
            T["filters.all"],
            " · ",
            TS.all_count,
            size="1",
            radius="full",
            variant=rx.cond(TS.status == "all", "solid", "soft"),
            on_click=TS.set_filter("status", "all"),
        ),
        rx.foreach(
            TS.counts,
            lambda c: rx.button(
                c["label"],
                " · ",
                c["count"],
                size="1",
                radius="full",
                variant=rx.cond(TS.status == c["status"], "solid", "soft"),
                on_click=TS.set_filter("status", c["status"]),
                id="chip-" + c["status"],
            ),
        ),
        wrap="wrap",
        spacing="2",
    )


TEACHER_SORTS = [
    ("soonest", "sort.soonest"),
    ("latest", "sort.latest"),
    ("title", "sort.title"),
    ("price", "sort.price"),
    ("enrolled", "sort.enrolled"),
]


def _teacher_filters() -> rx.Component:
    return rx.vstack(
        search_box(TS),
        _status_chips(),
        filter_panel(
            TS,
            5,
            choice(TS, "platform", PLATFORMS, "filters.platform"),
            choice(TS, "paid", PAID, "filters.price"),
            choice(TS, "sort", TEACHER_SORTS, "filters.sort"),
            date_input(TS, "date_from", "filters.from"),
            date_input(TS, "date_to", "filters.to"),
        ),
        spacing="3",
        width="100%",
        margin_bottom="20px",
    )


def _teacher_card(card: rx.Var) -> rx.Component:
    select = rx.checkbox(
        checked=TS.selected.contains(card["id"]),
        on_change=lambda _c: TS.toggle_selected(card["id"]),
        size="2",
        aria_label=TEXT["bulk.select"],
        class_name="select-session",
    )
    return session_card(card, False, leading=select)


def _bulk_bar() -> rx.Component:
    T = TEXT
    return rx.cond(
        TS.selected_count > 0,
        rx.hstack(
            rx.text(
                T["bulk.selected"], T["common.colon"], TS.selected_count, weight="medium", size="2"
            ),
            rx.spacer(),
            rx.button(
                rx.icon("send", size=14),
                T["bulk.publish"],
                size="2",
                variant="soft",
                on_click=TS.ask_bulk("publish"),
                id="bulk-publish",
            ),
            rx.button(
                rx.icon("ban", size=14),
                T["bulk.cancel"],
                size="2",
                variant="soft",
                color_scheme="red",
                on_click=TS.ask_bulk("cancel"),
                id="bulk-cancel",
            ),
            rx.button(
                rx.icon("trash-2", size=14),
                T["bulk.delete"],
                size="2",
                variant="soft",
                color_scheme="red",
                on_click=TS.ask_bulk("delete"),
                id="bulk-delete",
            ),
            rx.button(
                rx.icon("x", size=14),
                size="2",
                variant="ghost",
                on_click=TS.clear_selection,
                aria_label=T["bulk.clear"],
            ),
            wrap="wrap",
            align="center",
            padding="10px 14px",
            border_radius="12px",
            background=rx.color("accent", 3),
            width="100%",
            margin_bottom="16px",
            position="sticky",
            top="68px",
            z_index="5",
            id="bulk-bar",
        ),
        rx.cond(
            TS.total > 0,
            rx.checkbox(
                T["bulk.select_page"],
                checked=TS.page_selected,
                on_change=TS.select_page,
                size="1",
                margin_bottom="12px",
                id="select-page",
            ),
        ),
    )


def _bulk_confirm() -> rx.Component:
    T = TEXT
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.match(
                    TS.bulk_action,
                    ("publish", T["bulk.publish_title"]),
                    ("cancel", T["bulk.cancel_title"]),
                    T["bulk.delete_title"],
                )
            ),
            rx.alert_dialog.description(T["bulk.explain"], " (", TS.selected_count, ")"),
            rx.cond(
                TS.bulk_action == "cancel",
                rx.text_area(
                    value=TS.bulk_reason,
                    on_change=TS.set_bulk_reason,
                    placeholder=T["detail.cancel_reason"],
                    margin_top="12px",
                    id="bulk-reason",
                ),
            ),
            rx.cond(
                TS.bulk_error != "",
                rx.text(TS.bulk_error, color=rx.color("red", 11), size="1", role="alert"),
            ),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button(
                        T["common.cancel"],
                        variant="soft",
                        color_scheme="gray",
                        on_click=TS.close_bulk,
                    )
                ),
                rx.button(
                    T["bulk.confirm"],
                    on_click=TS.run_bulk,
                    id="bulk-confirm",
                    color_scheme=rx.cond(TS.bulk_action == "publish", "violet", "red"),
                ),
                gap="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=TS.bulk_action != "",
    )


def _bulk_results() -> rx.Component:
    T = TEXT
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(T["bulk.results"]),
            rx.vstack(
                rx.foreach(
                    TS.bulk_results,
                    lambda r: rx.hstack(
                        rx.icon(
                            rx.cond(r["done"], "circle-check", "circle-minus"),
                            size=16,
                            color=rx.cond(r["done"], "green", "gray"),
                            flex_shrink="0",
                        ),
                        rx.vstack(
                            rx.text(r["title"], weight="medium", size="2"),
                            rx.cond(
                                ~r["done"], rx.text(r["reason"], size="1", color_scheme="gray")
                            ),
                            spacing="0",
                        ),
                        align="start",
                    ),
                ),
                spacing="2",
                id="bulk-results",
            ),
            rx.flex(rx.dialog.close(rx.button(T["bulk.close"])), justify="end", margin_top="16px"),
        ),
        open=TS.results_open,
        on_open_change=TS.set_results_open,
    )


def teacher_sessions_page() -> rx.Component:
    T = TEXT
    create = rx.button(
        rx.icon("plus", size=16),
        T["teacher.create"],
        size="3",
        id="create-session",
        on_click=SessionFormState.open_create,
    )
    return page_frame(
        page_header(
            T["teacher.title"],
            T["teacher.subtitle"],
            rx.link(
                rx.button(
                    rx.icon("chart-column", size=16), T["nav.statistics"], size="3", variant="soft"
                ),
                href="/teacher/statistics",
            ),
            create,
        ),
        _teacher_filters(),
        _bulk_bar(),
        _list(
            TS,
            _teacher_card,
            empty_state(
                "video",
                T["teacher.empty_title"],
                T["teacher.empty_body"],
                rx.button(
                    rx.icon("plus", size=16),
                    T["teacher.create"],
                    on_click=SessionFormState.open_create,
                ),
            ),
        ),
        session_dialog(),
        _bulk_confirm(),
        _bulk_results(),
    )


# --- student --------------------------------------------------------------------------------

STUDENT_SORTS = [
    ("soonest", "sort.soonest"),
    ("price_asc", "sort.price_asc"),
    ("price_desc", "sort.price_desc"),
    ("popular", "sort.popular"),
]
VIEWS = [
    ("browse", "student.view_browse"),
    ("upcoming", "student.view_upcoming"),
    ("ongoing", "student.view_ongoing"),
    ("past", "student.view_past"),
    ("cancelled", "student.view_cancelled"),
]


def _student_tabs() -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                TEXT[key],
                size="2",
                radius="full",
                variant=rx.cond(SS.view == value, "solid", "soft"),
                on_click=SS.set_filter("view", value),
                id=f"view-{value}",
            )
            for value, key in VIEWS
        ],
        wrap="wrap",
        spacing="2",
        margin_bottom="16px",
    )


def _student_filters() -> rx.Component:
    return rx.cond(
        SS.view == "browse",
        rx.vstack(
            search_box(SS),
            filter_panel(
                SS,
                4,
                choice(SS, "platform", PLATFORMS, "filters.platform"),
                choice(SS, "paid", PAID, "filters.price"),
                choice(SS, "sort", STUDENT_SORTS, "filters.sort"),
                rx.input(
                    value=SS.tag,
                    on_change=lambda v: SS.set_filter("tag", v),
                    debounce_timeout=400,
                    placeholder=TEXT["filters.tag"],
                    id="filter-tag",
                    width="100%",
                ),
                money_input(SS, "price_min", "filters.price_min"),
                money_input(SS, "price_max", "filters.price_max"),
                date_input(SS, "date_from", "filters.from"),
                date_input(SS, "date_to", "filters.to"),
            ),
            spacing="3",
            width="100%",
            margin_bottom="20px",
        ),
    )


def _student_card(card: rx.Var) -> rx.Component:
    return rx.vstack(
        session_card(card, True),
        rx.cond(
            card["note"] != "",
            rx.text(
                card["note"], size="1", color_scheme=card["note_color"], class_name="card-note"
            ),
        ),
        width="100%",
        spacing="1",
    )


def student_sessions_page() -> rx.Component:
    T = TEXT
    return page_frame(
        page_header(T["student.title"], T["student.subtitle"]),
        _student_tabs(),
        _student_filters(),
        _list(
            SS,
            _student_card,
            rx.cond(
                SS.view == "browse",
                empty_state("calendar-search", T["student.empty_title"], T["student.empty_body"]),
                empty_state(
                    "calendar",
                    T["student.mine_empty_title"],
                    T["student.mine_empty_body"],
                    rx.button(
                        T["student.view_browse"],
                        variant="soft",
                        on_click=SS.set_filter("view", "browse"),
                    ),
                ),
            ),
        ),
    )
