"""The app shell: top bar (brand, sessions, wallet, bell, language, theme, account), page frame."""

from __future__ import annotations

import reflex as rx

from visio.components.email_banner import email_banner
from visio.components.text import TEXT
from visio.state.app import AppState

T = TEXT


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(
                rx.icon("video", size=18, color="white"),
                background=rx.color("accent", 9),
                border_radius="10px",
                width="34px",
                height="34px",
            ),
            rx.text("Visio", size="5", weight="bold", color=rx.color("gray", 12)),
            spacing="2",
            align="center",
        ),
        href=rx.cond(AppState.logged_in, AppState.home_path, "/"),
        underline="none",
        aria_label="Visio",
    )


def language_switch() -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item("FR", value="fr"),
        rx.segmented_control.item("EN", value="en"),
        value=AppState.lang,
        on_change=AppState.set_language,
        size="1",
        aria_label=T["nav.language"],
        id="language-switch",
    )


def theme_switch() -> rx.Component:
    return rx.color_mode.button(size="2", variant="ghost", aria_label=T["nav.theme"])


def wallet_chip() -> rx.Component:
    return rx.link(
        rx.badge(
            rx.icon("wallet", size=14),
            rx.text(AppState.balance_label, id="wallet-balance"),
            size="2",
            variant="soft",
            radius="full",
        ),
        href="/wallet",
        title=T["nav.wallet"],
        underline="none",
    )


def notification_bell() -> rx.Component:
    """The bell: a link to /notifications with the unread count (9+ beyond 9), said in its label."""
    return rx.link(
        rx.icon("bell", size=20),
        rx.cond(
            AppState.unread_count > 0,
            rx.box(
                rx.cond(AppState.unread_count > 9, "9+", AppState.unread_count.to_string()),
                position="absolute",
                top="-2px",
                right="-4px",
                min_width="18px",
                height="18px",
                padding_x="4px",
                border_radius="9px",
                # Radix red 11 of the light theme, in both themes: white 11px text on red 9
                # is 3.9:1, under WCAG AA's 4.5:1; on this red it is 5.2:1.
                background="#ce2c31",
                color="white",
                font_size="11px",
                font_weight="bold",
                line_height="18px",
                text_align="center",
                aria_hidden="true",
                id="notification-badge",
            ),
        ),
        href="/notifications",
        aria_label=AppState.bell_label,
        title=AppState.bell_label,
        id="notification-bell",
        position="relative",
        display="inline-flex",
        align_items="center",
        justify_content="center",
        width="34px",
        height="34px",
        border_radius="8px",
        color=rx.color("gray", 12),
        _hover={"background": rx.color("gray", 4)},
    )


def initials_avatar() -> rx.Component:
    """The initials in a circle, drawn by CSS (`content: attr()`): decoration, not text, so the
    account menu's name ("Léa Dubois, account") holds all the text it shows (WCAG 2.5.3)."""
    return rx.box(
        width="24px",
        min_width="24px",
        height="24px",
        border_radius="50%",
        display="inline-flex",
        align_items="center",
        justify_content="center",
        background=rx.color("accent", 3),
        color=rx.color("accent", 11),
        font_size="11px",
        font_weight="500",
        custom_attrs={"data-initials": AppState.initials},
        _before={"content": "attr(data-initials)"},
        aria_hidden="true",
    )


def account_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                initials_avatar(),
                rx.text(
                    AppState.user_name,
                    display=["none", "none", "block"],
                    max_width="160px",
                    overflow="hidden",
                    white_space="nowrap",
                    text_overflow="ellipsis",
                ),
                rx.icon("chevron-down", size=14),
                variant="ghost",
                id="account-menu",
                aria_label=AppState.account_label,
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(AppState.user_name, weight="bold", size="2"),
                rx.text(AppState.user_email, size="1", color_scheme="gray"),
                rx.badge(
                    rx.cond(
                        AppState.is_admin,
                        T["role.admin"],
                        rx.cond(AppState.is_teacher, T["role.teacher"], T["role.student"]),
                    ),
                    size="1",
                    margin_top="4px",
                ),
                padding="8px 12px",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.icon("video", size=14),
                T["nav.sessions"],
                on_click=rx.redirect(AppState.home_path),
            ),
            rx.cond(
                ~AppState.is_admin,  # an admin's account holds no money: the console shows it all
                rx.menu.item(
                    rx.icon("wallet", size=14),
                    T["nav.wallet"],
                    " · ",
                    AppState.balance_label,
                    on_click=rx.redirect("/wallet"),
                ),
            ),
            rx.menu.item(
                rx.icon("user-cog", size=14),
                T["nav.my_account"],
                on_click=rx.redirect("/account"),
                id="account-link",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.icon("log-out", size=14),
                T["nav.logout"],
                on_click=AppState.logout,
                color_scheme="red",
                id="logout",
            ),
            align="end",
        ),
        # Not modal: a modal menu hides the page from screen readers (aria-hidden) while the
        # page's links stay focusable behind it (axe: aria-hidden-focus).
        modal=False,
    )


def top_bar() -> rx.Component:
    """The banner landmark (a <header>) at the top of every page."""
    return rx.el.header(
        rx.hstack(
            brand(),
            rx.cond(
                AppState.is_admin,
                rx.link(
                    T["nav.admin"],
                    href="/admin",
                    weight="medium",
                    color=rx.color("gray", 12),
                    display=["none", "none", "block"],  # phones: the brand leads to /admin
                    margin_left="16px",
                    id="nav-admin",
                ),
            ),
            rx.cond(
                AppState.logged_in & ~AppState.is_admin,
                rx.link(
                    T["nav.sessions"],
                    href=AppState.home_path,
                    weight="medium",
                    color=rx.color("gray", 12),
                    display=["none", "none", "block"],
                    margin_left="16px",
                ),
            ),
            rx.spacer(),
            rx.cond(
                AppState.logged_in & ~AppState.is_admin,
                rx.box(wallet_chip(), display=["none", "block"]),
            ),
            rx.cond(AppState.logged_in, notification_bell()),
            language_switch(),
            theme_switch(),
            rx.cond(
                AppState.logged_in,
                account_menu(),
                rx.hstack(
                    rx.link(
                        T["nav.login"], href="/login", weight="medium", display=["none", "block"]
                    ),
                    rx.link(rx.button(T["nav.register"], size="2"), href="/register"),
                    spacing="4",
                    align="center",
                ),
            ),
            align="center",
            spacing="3",
            max_width="1120px",
            margin="0 auto",
            padding_x=["12px", "20px"],
            height="60px",
        ),
        position="sticky",
        top="0",
        z_index="20",
        background=rx.color("gray", 1, alpha=True),
        backdrop_filter="blur(10px)",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def page_frame(*children: rx.Component) -> rx.Component:
    """Every page: the top bar, then the content centred with comfortable margins (under the
    banner about the account's address, when it has something to say)."""
    return rx.box(
        top_bar(),
        rx.el.main(
            email_banner(),
            *children,
            max_width="1120px",
            margin="0 auto",
            padding_x=["14px", "20px"],
            padding_y=["20px", "32px"],
            width="100%",
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
        # Lets browser tests wait until the page's state has arrived.
        custom_attrs={"data-hydrated": rx.cond(AppState.is_hydrated, "true", "false")},
        lang=AppState.lang,
    )


def page_header(
    title: rx.Var | str, subtitle: rx.Var | str, *actions: rx.Component
) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", weight="bold"),
            rx.text(subtitle, color_scheme="gray", size="3"),
            spacing="1",
        ),
        rx.spacer(),
        *actions,
        direction=rx.breakpoints(initial="column", sm="row"),
        gap="3",
        align=rx.breakpoints(initial="start", sm="end"),
        margin_bottom="24px",
        width="100%",
    )
