"""/teacher/video-sessions and /student/video-sessions ("Sessions Visio")."""

from __future__ import annotations

import reflex as rx

from visio.components.layout import page_frame, page_header
from visio.components.session_dialog import session_dialog
from visio.components.sessions import card_grid, empty_state, pager, session_card, skeleton_grid
from visio.state.session_form import SessionFormState
from visio.state.sessions import StudentSessionsState, TeacherSessionsState


def _list(state, show_teacher: bool, empty: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    T = state.tr
    return rx.cond(
        state.loading,
        skeleton_grid(),
        rx.cond(
            state.total == 0,
            empty,
            rx.fragment(
                card_grid(state.cards, lambda c: session_card(c, show_teacher)),
                pager(
                    state.page,
                    state.pages,
                    T["common.page_of"]
                    .replace("{page}", state.page.to_string())
                    .replace("{pages}", state.pages.to_string()),
                    T["common.previous"],
                    T["common.next"],
                    state.go_to_page,
                ),
            ),
        ),
    )


def teacher_sessions_page() -> rx.Component:
    T = TeacherSessionsState.tr
    return page_frame(
        page_header(
            T["teacher.title"],
            T["teacher.subtitle"],
            rx.button(
                rx.icon("plus", size=16),
                T["teacher.create"],
                size="3",
                id="create-session",
                on_click=SessionFormState.open_create,
            ),
        ),
        _list(
            TeacherSessionsState,
            False,
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
    )


def student_sessions_page() -> rx.Component:
    T = StudentSessionsState.tr
    return page_frame(
        page_header(T["student.title"], T["student.subtitle"]),
        _list(
            StudentSessionsState,
            True,
            empty_state("calendar-search", T["student.empty_title"], T["student.empty_body"]),
        ),
    )
