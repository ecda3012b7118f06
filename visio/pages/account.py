"""/account: profile, address, password and mail notifications, one card each."""

from __future__ import annotations

import reflex as rx

from visio.components.account_email import email_section
from visio.components.layout import page_frame, page_header
from visio.components.text import TEXT
from visio.state.account import ZONES, AccountState

S = AccountState
T = TEXT


def _section(title: rx.Var, section_id: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, as_="h2", size="4", id=f"{section_id}-title"),
            *children,
            spacing="4",
            width="100%",
        ),
        width="100%",
        size="3",
        id=section_id,
        aria_labelledby=f"{section_id}-title",
        as_="section",
    )


def _labelled(label: rx.Var, control_id: str, control: rx.Component, *under) -> rx.Component:
    return rx.vstack(
        rx.el.label(
            rx.text(label, size="2", weight="medium"), html_for=control_id, width="fit-content"
        ),
        control,
        *under,
        spacing="1",
        width="100%",
        align="stretch",
    )


def _read_only(label: rx.Var, value: rx.Var, control_id: str) -> rx.Component:
    return _labelled(
        label,
        control_id,
        rx.input(value=value, read_only=True, variant="soft", color_scheme="gray", id=control_id),
    )


NATIVE_SELECT = {
    "width": "100%",
    "height": "var(--space-6)",
    "padding": "0 8px",
    "border_radius": "var(--radius-2)",
    "border": f"1px solid {rx.color('gray', 7)}",
    "background": rx.color("gray", 1),
    "color": rx.color("gray", 12),
    "font_size": "var(--font-size-2)",
}


def _profile() -> rx.Component:
    return _section(
        T["account.profile"],
        "profile",
        rx.grid(
            _read_only(T["account.name"], S.user_name, "profile-name"),
            _labelled(
                T["account.language"],
                "profile-language",
                rx.el.select(
                    rx.el.option("Français", value="fr"),
                    rx.el.option("English", value="en"),
                    value=S.lang,
                    on_change=S.set_language,
                    id="profile-language",
                    style=NATIVE_SELECT,
                ),
            ),
            _labelled(
                T["account.timezone"],
                "profile-timezone",
                rx.el.select(
                    rx.el.option(T["account.timezone_auto"], value="", disabled=True),
                    *[rx.el.option(zone.replace("_", " "), value=zone) for zone in ZONES],
                    value=S.timezone_choice,
                    on_change=S.set_timezone,
                    id="profile-timezone",
                    style=NATIVE_SELECT,
                ),
                rx.text(S.timezone_hint, size="1", color_scheme="gray"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
    )


def _password_input(name: str, auto_complete: str) -> rx.Component:
    return rx.input(
        name=name,
        type="password",
        required=True,
        auto_complete=auto_complete,
        size="3",
        id=name,
    )


def _password_field(name: str, label: rx.Var, auto_complete: str, hint=None) -> rx.Component:
    error = S.password_errors.get(name, "")
    return _labelled(
        label,
        name,
        _password_input(name, auto_complete),
        rx.cond(
            error != "",
            rx.text(error, size="1", color=rx.color("red", 11), role="alert", id=f"{name}-error"),
            rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        ),
    )


def _password() -> rx.Component:
    return _section(
        T["account.password"],
        "password",
        rx.text(T["account.password_intro"], size="2", color_scheme="gray"),
        rx.cond(
            S.password_error != "",
            rx.callout(S.password_error, icon="triangle-alert", color_scheme="red", role="alert"),
        ),
        rx.cond(
            S.password_changed,
            rx.callout(
                T["account.password_changed"],
                icon="check",
                color_scheme="green",
                role="status",
                id="password-changed",
            ),
        ),
        rx.form(
            rx.vstack(
                _password_field(
                    "current_password", T["account.password_current"], "current-password"
                ),
                rx.grid(
                    _password_field(
                        "new_password",
                        T["account.password_new"],
                        "new-password",
                        hint=T["register.password_hint"],
                    ),
                    _password_field(
                        "confirm_password", T["account.password_confirm"], "new-password"
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.button(
                    T["account.password_submit"],
                    type="submit",
                    size="3",
                    loading=S.changing_password,
                    id="password-submit",
                    width=rx.breakpoints(initial="100%", sm="auto"),
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=S.change_password,
            reset_on_submit=False,
            width="100%",
        ),
    )


def _preference(row) -> rx.Component:  # type: ignore[no-untyped-def]
    switch_id = "pref-" + row["kind"]
    return rx.hstack(
        rx.vstack(
            rx.el.label(
                rx.text(row["label"], size="2", weight="medium"),
                html_for=switch_id,
            ),
            rx.text(row["hint"], size="1", color_scheme="gray", id=switch_id + "-hint"),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.switch(
            checked=row["on"],
            on_change=lambda on: S.set_email_choice(row["kind"], on),
            id=switch_id,
            aria_describedby=switch_id + "-hint",
            size="2",
        ),
        justify="between",
        align="center",
        spacing="4",
        width="100%",
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _notifications() -> rx.Component:
    return _section(
        T["account.notifications"],
        "notifications",
        rx.text(T["account.notifications_intro"], size="2", color_scheme="gray"),
        rx.cond(
            S.pref_rows.length() > 0,
            rx.vstack(rx.foreach(S.pref_rows, _preference), spacing="0", width="100%"),
            rx.text(T["account.notifications_none"], size="2", color_scheme="gray"),
        ),
        rx.callout(
            rx.cond(
                S.is_teacher,
                T["account.notifications_always_teacher"],
                T["account.notifications_always"],
            ),
            icon="lock",
            color_scheme="gray",
            variant="surface",
            size="1",
            width="100%",
            id="notifications-always",
        ),
    )


def account_page() -> rx.Component:
    return page_frame(
        rx.vstack(
            page_header(T["account.title"], T["account.subtitle"]),
            _profile(),
            email_section(),
            _password(),
            _notifications(),
            spacing="5",
            width="100%",
            max_width="760px",
            margin="0 auto",
        )
    )
