"""/admin/audit: the audit trail with filters, and its CSV export."""

from __future__ import annotations

import reflex as rx

from visio.components.admin import admin_nav, list_card, row_box
from visio.components.forms import field_label
from visio.components.layout import page_frame, page_header
from visio.components.sessions import pager
from visio.components.text import TEXT
from visio.state.admin_audit import AdminAuditState as A

T = TEXT
FIELDS = [
    ("action", "admin.audit.action", "text"),
    ("actor_email", "admin.audit.actor", "email"),
    ("target_type", "admin.audit.target_type", "text"),
    ("target_id", "admin.audit.target_id", "text"),
    ("date_from", "admin.audit.from", "date"),
    ("date_to", "admin.audit.to", "date"),
]


def _field(name: str, key: str, kind: str) -> rx.Component:
    return rx.vstack(
        field_label(T[key], f"audit-{name}", size="1", weight="regular", color_scheme="gray"),
        rx.input(
            value=getattr(A, name),
            on_change=lambda v: A.set_field(name, v),
            type=kind,
            id=f"audit-{name}",
            width="100%",
            max_length=254,
        ),
        spacing="1",
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.card(
        rx.form(
            rx.grid(
                *[_field(*f) for f in FIELDS],
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.flex(
                rx.button(rx.icon("filter", size=14), T["admin.audit.apply"], type="submit",
                          id="audit-apply"),
                rx.button(T["admin.audit.reset"], type="button", variant="soft",
                          color_scheme="gray", on_click=A.reset_filters),
                rx.spacer(),
                # A real request, not client-side routing: the API serves the file.
                rx.link(
                    rx.button(rx.icon("download", size=14), T["admin.audit.export"],
                              variant="outline", type="button"),
                    href=A.export_href,
                    reload_document=True,
                    download="visio-audit.csv",
                    id="audit-export",
                    underline="none",
                ),
                gap="3",
                wrap="wrap",
                margin_top="12px",
                width="100%",
            ),
            rx.cond(
                A.error != "", rx.text(A.error, color=rx.color("red", 11), size="2", role="alert")
            ),
            on_submit=lambda _f: A.apply(),
            width="100%",
        ),
        width="100%",
        margin_bottom="16px",
    )  # fmt: skip


def _row(row: rx.Var) -> rx.Component:
    return row_box(
        rx.vstack(
            rx.code(row["action"], size="2", variant="ghost"),
            rx.text(row["at"], size="1", color_scheme="gray"),
            spacing="0",
            width=rx.breakpoints(initial="100%", sm="250px"),
            flex_shrink="0",
        ),
        rx.vstack(
            rx.text(row["actor"], size="1", overflow_wrap="anywhere"),
            rx.text(row["target"], size="1", color_scheme="gray"),
            spacing="0",
            width=rx.breakpoints(initial="100%", sm="250px"),
            flex_shrink="0",
        ),
        rx.text(
            row["data"],
            size="1",
            color_scheme="gray",
            flex="1",
            min_width="0",
            word_break="break-all",
        ),
        class_name="audit-row",
    )


def admin_audit_page() -> rx.Component:
    return page_frame(
        page_header(T["admin.audit.title"], T["admin.audit.subtitle"]),
        admin_nav("/admin/audit"),
        _filters(),
        rx.text(A.count_label, size="2", color_scheme="gray", margin_bottom="8px",
                id="audit-count"),
        rx.cond(
            A.rows.length() > 0,
            list_card(rx.foreach(A.rows, _row), id="audit-rows"),
            rx.cond(~A.loading, rx.text(T["admin.audit.empty"], color_scheme="gray")),
        ),
        pager(A.page, A.pages, A.page_label, T["common.previous"], T["common.next"], A.go_to_page),
    )  # fmt: skip
