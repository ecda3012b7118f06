"""The materials panel of a session: the list, and for its teacher the forms that change it."""

from __future__ import annotations

import reflex as rx

from visio.components.dialogs import confirm_dialog
from visio.components.forms import field
from visio.components.text import TEXT
from visio.services.materials import FILES_PER_UPLOAD, upload_limit
from visio.state.materials import ACCEPT, UPLOAD_ID
from visio.state.materials import MaterialsState as M

T = TEXT


def _title_link(row: rx.Var) -> rx.Component:
    # A real request, not client-side routing: the download route is served by the API.
    return rx.link(
        row["title"],
        href=row["href"],
        reload_document=True,
        weight="medium",
        is_external=row["kind"] == "link",
        rel="noopener noreferrer",
        style={"overflow_wrap": "anywhere"},
    )


def _rename_form(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.input(
                value=M.edit_title,
                on_change=M.set_edit_title,
                max_length=200,
                aria_label=T["materials.title_label"],
                width="100%",
                auto_focus=True,
                id="material-rename-input",
            ),
            rx.icon_button(
                rx.icon("check", size=14),
                on_click=M.save_rename,
                aria_label=T["materials.save"],
                id="material-rename-save",
            ),
            rx.icon_button(
                rx.icon("x", size=14),
                on_click=M.cancel_rename,
                variant="soft",
                color_scheme="gray",
                aria_label=T["materials.cancel"],
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            M.edit_error != "",
            rx.text(M.edit_error, size="1", color=rx.color("red", 11), role="alert"),
        ),
        width="100%",
        spacing="1",
    )


def _row_actions(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("pencil", size=14),
            on_click=M.start_rename(row["id"]),
            variant="ghost",
            aria_label=T["materials.rename"],
            title=T["materials.rename"],
        ),
        rx.icon_button(
            rx.icon("trash-2", size=14),
            on_click=M.ask_remove(row["id"]),
            variant="ghost",
            color_scheme="red",
            aria_label=T["materials.remove"],
            title=T["materials.remove"],
        ),
        spacing="1",
    )


def material_row(row: rx.Var, editable: bool) -> rx.Component:
    """One material: its icon, title (a link, or the download), and what it is."""
    summary = rx.vstack(
        _title_link(row),
        rx.text(row["detail"], size="1", color_scheme="gray", style={"overflow_wrap": "anywhere"}),
        spacing="0",
        width="100%",
        min_width="0",
    )
    body = rx.cond(M.editing_id == row["id"], _rename_form(row), summary) if editable else summary
    return rx.hstack(
        rx.center(
            rx.icon(row["icon"], size=16, color=rx.color("accent", 11)),
            width="32px",
            height="32px",
            border_radius="8px",
            background=rx.color("accent", 3),
            flex_shrink="0",
        ),
        body,
        *([_row_actions(row)] if editable else []),
        width="100%",
        align="center",
        spacing="3",
        class_name="material-row",
    )


def link_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                T["materials.title_label"],
                rx.input(
                    name="title",
                    value=M.link_title,
                    on_change=M.set_link_title,
                    max_length=200,
                    id="material-link-title",
                ),
                M.link_errors.get("title", ""),
            ),
            field(
                T["materials.url_label"],
                rx.input(
                    name="url",
                    type="url",
                    placeholder="https://",
                    value=M.link_url,
                    on_change=M.set_link_url,
                    id="material-link-url",
                ),
                M.link_errors.get("url", ""),
            ),
            rx.button(rx.icon("link", size=14), T["materials.add_link"], type="submit"),
            spacing="2",
            width="100%",
            align="start",
        ),
        on_submit=M.add_link,
        width="100%",
        id="material-link-form",
    )


def _name_file_input(upload: rx.Component, name: rx.Var) -> rx.Component:
    """Reflex's upload zone builds its own `<input type=file>` and takes no props for it: give
    that input a name, the zone's own text, for screen readers (WCAG 4.1.2)."""
    zone = upload.children[0]
    zone.children[0].custom_attrs["aria-label"] = name
    return upload


def upload_form() -> rx.Component:
    selected = rx.selected_files(UPLOAD_ID)
    return rx.vstack(
        _name_file_input(
            rx.upload(
                rx.vstack(
                    rx.icon("upload", size=20, color=rx.color("accent", 11)),
                    rx.text(T["materials.drop_here"], size="2", text_align="center"),
                    rx.text(T["materials.accepted_types"], size="1", color_scheme="gray"),
                    align="center",
                    spacing="1",
                ),
                id=UPLOAD_ID,
                accept=ACCEPT,
                max_size=upload_limit(),
                max_files=FILES_PER_UPLOAD,  # the server refuses a larger body unread
                multiple=True,
                on_drop_rejected=M.files_rejected,
                border=f"1px dashed {rx.color('gray', 7)}",
                border_radius="12px",
                padding="20px",
                width="100%",
                cursor="pointer",
            ),
            T["materials.drop_here"],
        ),
        rx.foreach(selected, lambda name: rx.text(name, size="1", color_scheme="gray")),
        field(
            T["materials.file_title_label"],
            rx.input(
                value=M.upload_title,
                on_change=M.set_upload_title,
                max_length=200,
                placeholder=T["materials.file_title_hint"],
                id="material-file-title",
            ),
            "",
        ),
        rx.cond(
            M.uploading,
            rx.vstack(
                rx.progress(
                    value=M.upload_percent, max=100, width="100%", aria_label=T["materials.upload"]
                ),
                rx.text(M.upload_percent.to_string() + " %", size="1", color_scheme="gray"),
                width="100%",
                spacing="1",
            ),
        ),
        rx.cond(
            M.upload_error != "",
            rx.text(
                M.upload_error,
                size="1",
                color=rx.color("red", 11),
                role="alert",
                white_space="pre-line",
            ),
        ),
        rx.button(
            rx.icon("upload", size=14),
            T["materials.upload"],
            disabled=(selected.length() == 0) | M.uploading,
            loading=M.uploading,
            on_click=[
                M.start_upload,
                M.handle_upload(
                    rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=M.upload_progress)
                ),
            ],
            id="material-upload",
        ),
        spacing="2",
        width="100%",
        align="start",
    )


def remove_dialog() -> rx.Component:
    return confirm_dialog(
        title=T["materials.remove_title"],
        description=M.remove_title,
        keep_label=T["materials.cancel"],
        confirm_label=T["materials.remove"],
        on_confirm=M.confirm_remove,
        confirm_id="material-remove-confirm",
        open=M.remove_open,
        on_open_change=M.set_remove_open,
    )


def materials_panel(editable: bool) -> rx.Component:
    """The session's materials; with `editable`, the teacher's add, rename and remove controls."""
    listing = rx.cond(
        M.list_error != "",
        rx.text(M.list_error, color_scheme="gray", size="2"),
        rx.cond(
            M.rows.length() > 0,
            rx.vstack(
                rx.foreach(M.rows, lambda row: material_row(row, editable)),
                spacing="3",
                width="100%",
            ),
            rx.text(T["materials.empty"], color_scheme="gray", size="2"),
        ),
    )
    if not editable:
        return rx.vstack(listing, spacing="3", width="100%", id="materials-panel")
    return rx.vstack(
        listing,
        rx.separator(),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger(T["materials.tab_file"], value="file"),
                rx.tabs.trigger(T["materials.tab_link"], value="link"),
            ),
            rx.tabs.content(upload_form(), value="file", padding_top="12px"),
            rx.tabs.content(link_form(), value="link", padding_top="12px"),
            default_value="file",
            width="100%",
        ),
        remove_dialog(),
        spacing="3",
        width="100%",
        id="materials-panel",
    )
