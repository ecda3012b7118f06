"""Builds the Reflex app: theme, pages and their load events, and the JSON API."""

from __future__ import annotations

import reflex as rx

from visio import startup
from visio.api import create_api
from visio.background import (
    decide_minimums_every_minute,
    deliver_notices_every_few_seconds,
    release_escrow_every_minute,
    schedule_reminders_every_minute,
)
from visio.pages.account import account_page
from visio.pages.admin import admin_page
from visio.pages.admin_audit import admin_audit_page
from visio.pages.admin_payouts import admin_payouts_page
from visio.pages.admin_sessions import admin_sessions_page
from visio.pages.admin_user import admin_user_page
from visio.pages.admin_users import admin_users_page
from visio.pages.auth import login_page, register_page
from visio.pages.home import home_page
from visio.pages.notifications import notifications_page
from visio.pages.password_reset import forgot_password_page, reset_password_page
from visio.pages.room import room_page
from visio.pages.series import series_page
from visio.pages.session_detail import session_detail_page
from visio.pages.session_page import session_page
from visio.pages.sessions import student_sessions_page, teacher_sessions_page
from visio.pages.stats import statistics_page
from visio.pages.unsubscribe import unsubscribe_page
from visio.pages.verify_email import verify_email_page
from visio.pages.wallet import wallet_page
from visio.security import same_origin_or_allowed
from visio.settings import settings
from visio.state.account import AccountState
from visio.state.admin import AdminState
from visio.state.admin_audit import AdminAuditState
from visio.state.admin_payouts import AdminPayoutsState
from visio.state.admin_sessions import AdminSessionsState
from visio.state.admin_user import AdminUserState
from visio.state.admin_users import AdminUsersState
from visio.state.app import AppState
from visio.state.auth import AuthState
from visio.state.home import HomeState
from visio.state.notifications import NotificationsState
from visio.state.password_reset import PasswordResetState
from visio.state.payouts import PayoutState
from visio.state.room import RoomState
from visio.state.series import SeriesState
from visio.state.session_detail import SessionDetailState
from visio.state.session_page import SessionPageState
from visio.state.sessions import StudentSessionsState, TeacherSessionsState
from visio.state.stats import StatsState
from visio.state.unsubscribe import UnsubscribeState
from visio.state.verify_email import VerifyEmailState

startup.check()  # production never serves on demo money (see visio.startup)
app = rx.App(
    api_transformer=create_api(),
    html_lang=settings.default_locale,  # until the page knows the viewer's (show_language)
    stylesheets=["/a11y.css"],  # contrast and focus fixes over Radix Themes (see the file)
    head_components=[
        rx.el.meta(name="description", content="Visio: live online classes"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)
app.add_page(
    home_page, route="/", title="Visio", on_load=[HomeState.on_load, AppState.show_language]
)
app.add_page(
    login_page,
    route="/login",
    title="Visio",
    on_load=[AuthState.open_login, AppState.show_language],
)
app.add_page(
    register_page,
    route="/register",
    title="Visio",
    on_load=[AuthState.open_register, AppState.show_language],
)
app.add_page(
    forgot_password_page,
    route="/forgot-password",
    title="Visio",
    on_load=[PasswordResetState.open_page, AppState.show_language],
)
app.add_page(
    reset_password_page,
    route="/reset-password",
    title="Visio",
    on_load=[PasswordResetState.open_page, AppState.show_language],
)
app.add_page(
    verify_email_page,
    route="/verify-email",
    title="Visio",
    on_load=[VerifyEmailState.open_page, AppState.show_language],
)
# Public: a mail's "stop these mails" link; opening it changes nothing, its button does.
app.add_page(
    unsubscribe_page,
    route="/unsubscribe",
    title="Visio",
    on_load=[UnsubscribeState.open_page, AppState.show_language],
)
# Every page's load event is followed by `show_language` (`<html lang>` follows the viewer's).
# Signed-in pages: their own load event, then the shell's (the browser's time zone).
SIGNED_IN_PAGES = [
    (teacher_sessions_page, "/teacher/video-sessions", TeacherSessionsState.on_load),
    (session_detail_page, "/teacher/video-sessions/[session_id]", SessionDetailState.on_load),
    (statistics_page, "/teacher/statistics", StatsState.on_load),
    (student_sessions_page, "/student/video-sessions", StudentSessionsState.on_load),
    (session_page, "/sessions/[session_id]", SessionPageState.on_load),
    (room_page, "/sessions/[session_id]/room", RoomState.on_load),
    (wallet_page, "/wallet", PayoutState.open_wallet),  # the wallet, and a teacher's payouts
    (admin_payouts_page, "/admin/payouts", AdminPayoutsState.on_load),
    (account_page, "/account", AccountState.on_load),
    (notifications_page, "/notifications", NotificationsState.on_load),
    (series_page, "/series/[series_id]", SeriesState.on_load),
    # The admin console (admins only: every handler checks again).
    (admin_page, "/admin", AdminState.on_load),
    (admin_users_page, "/admin/users", AdminUsersState.on_load),
    (admin_user_page, "/admin/users/[user_id]", AdminUserState.on_load),
    (admin_sessions_page, "/admin/sessions", AdminSessionsState.on_load),
    (admin_audit_page, "/admin/audit", AdminAuditState.on_load),
]
for page, route, on_load in SIGNED_IN_PAGES:
    app.add_page(
        page,
        route=route,
        title="Sessions Visio",
        on_load=[on_load, AppState.load_shell, AppState.show_language],
    )
app.register_lifespan_task(release_escrow_every_minute)
app.register_lifespan_task(deliver_notices_every_few_seconds)
app.register_lifespan_task(schedule_reminders_every_minute)
app.register_lifespan_task(decide_minimums_every_minute)
# The websocket carries the logged-in visitor's events: only the app's own pages (and allowlisted
# sites) may open it. Reflex hands the socket server its CORS list, where [] would refuse all.
app.sio.eio.cors_allowed_origins = same_origin_or_allowed  # type: ignore[union-attr]
