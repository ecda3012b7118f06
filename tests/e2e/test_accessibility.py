"""Accessibility: axe-core's WCAG 2.1 A and AA rules over every page, in a real Chromium.

Each page is checked in light and dark, French and English, desktop (1280 px) and phone (390 px),
as the role that sees it; so are a few states (dialogs open, forms showing their errors, empty
lists). Any violation fails with a readable summary. axe-core's script ships inside the
`axe-playwright-python` wheel: nothing is fetched from the internet.

The colour mode is the visitor's system preference (the app follows it until the theme button is
pressed), the language the stored choice the language switch writes (`visio_lang`) together with
the browser's language. To check a new page, add one line to ROUTES.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from sqlmodel import select

from tests.e2e.helpers import login, open_path, wait_ready
from tests.factories import STRONG_PASSWORD, make_admin, make_student, session_input
from tests.payouts_support import IBAN, make_funded_teacher
from tests.server import BACKEND
from visio.clock import utcnow
from visio.demo import LOGINS, PASSWORD
from visio.models import User, VideoSession
from visio.services import payouts, series, unsubscribe

pytestmark = pytest.mark.e2e

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGS = {"fr": "fr-FR", "en": "en-US"}
MODES = ("light", "dark")
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


# What a page needs before it is checked, beyond being hydrated: open a dialog, submit a form...
def _open_create_dialog(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#create-session")
    page.locator("#session-dialog").wait_for()
    page.click("#toggle-advanced")
    page.locator("#field-is_paid").wait_for()


def _submit_empty_create_dialog(page) -> None:  # type: ignore[no-untyped-def]
    _open_create_dialog(page)
    page.fill("#field-title", "ab")
    page.click("#form-draft")
    page.locator("#session-dialog [role=alert]").first.wait_for()


def _open_enroll_confirm(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#action-pay")
    page.locator("#confirm-pay").wait_for()


def _wrong_login(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#email", "nobody@example.org")
    page.fill("#password", "wrong-password-123")
    page.click("#login-submit")
    page.locator("[role=alert]").first.wait_for()


def _bad_registration(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#full_name", "A")
    page.fill("#email", "a11y-register@example.org")
    page.fill("#password", "short")  # refused by the server: the errors show under the fields
    page.click("#register-submit")
    page.locator("[role=alert]").first.wait_for()


def _open_cancel_dialog(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#cancel-session")
    page.locator("#confirm-cancel").wait_for()


def _bad_top_up(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#topup-amount", "0,01")
    page.click("#topup-submit")
    page.locator("#topup-error").wait_for()


def _wrong_current_password(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#current_password", "not-my-password-42")
    page.fill("#new_password", "short")
    page.fill("#confirm_password", "other")
    page.click("#password-submit")
    page.locator("[role=alert]").first.wait_for()


def _stats_loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#stats-table").wait_for()
    page.locator("#chart-enrollments-table").wait_for(state="attached")


def _bad_withdrawal(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#payout-amount", "0,50")
    page.fill("#payout-destination", "FR00 not an iban")
    page.click("#payout-submit")
    page.locator("#payout-form [role=alert]").first.wait_for()


def _open_suspend_dialog(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#admin-suspend")
    page.locator("#confirm-suspend").wait_for()


def _bad_adjustment(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#adjust-amount", "0")
    page.click("#adjust-submit")
    page.locator("#adjust-error").wait_for()


def _open_admin_cancel_dialog(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(".admin-session-cancel").first.click()
    page.locator("#admin-confirm-cancel").wait_for()


def _open_pay_dialog(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(".payout-pay").first.click()
    page.locator("#payout-dialog-confirm").wait_for()


def _open_account_menu(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#account-menu")
    page.locator("#logout").wait_for()


@dataclass(frozen=True)
class Route:
    """A page (its path may name demo ids: `{python}`), who looks at it, and what to do first."""

    path: str
    role: str | None  # None: a visitor who is not signed in; else a key of ACCOUNTS
    then: Callable | None = None
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or f"{self.role or 'anonymous'}:{self.path}"


# Every route of visio/visio.py, plus the states worth checking. One line per page to check.
ROUTES = [
    Route("/", None),
    Route("/login", None),
    Route("/login", None, _wrong_login, name="login-with-error"),
    Route("/register", None),
    Route("/register", None, _bad_registration, name="register-with-errors"),
    Route("/forgot-password", None),
    Route("/reset-password?token=not-a-real-token", None),
    Route("/verify-email?token=not-a-real-token", None),
    Route("/unsubscribe?token={unsubscribe}", None),
    Route("/unsubscribe?token=forged", None, name="unsubscribe-forged"),
    Route("/teacher/video-sessions", "teacher"),
    Route("/teacher/video-sessions", "teacher", _open_create_dialog, name="create-dialog"),
    Route("/teacher/video-sessions", "teacher", _submit_empty_create_dialog, name="create-errors"),
    Route("/teacher/video-sessions", "teacher", _open_account_menu, name="account-menu"),
    Route("/teacher/video-sessions/{algebra}", "teacher"),
    Route(
        "/teacher/video-sessions/{algebra}", "teacher", _open_cancel_dialog, name="cancel-dialog"
    ),
    Route("/teacher/video-sessions/{draft}", "teacher"),
    Route("/teacher/video-sessions/{cancelled}", "teacher"),
    Route("/teacher/video-sessions/{physics}", "teacher"),
    Route("/teacher/statistics", "teacher", _stats_loaded),
    Route("/series/{series}", "teacher", name="teacher:/series"),
    Route("/student/video-sessions", "student"),
    Route("/student/video-sessions", "newcomer", name="student-empty-lists"),
    Route("/sessions/{python}", "student"),
    Route("/sessions/{english}", "student"),
    Route("/sessions/{english}", "student", _open_enroll_confirm, name="enroll-confirm"),
    Route("/sessions/{physics}", "student"),
    Route("/sessions/{history}", "student"),
    Route("/sessions/{cancelled}", "student"),
    Route("/sessions/{series_first}", "student"),
    Route("/series/{series}", "student", name="student:/series"),
    Route("/sessions/{physics}/room", "student"),
    Route("/wallet", "student"),
    Route("/wallet", "newcomer", name="wallet-empty"),
    Route("/wallet", "newcomer", _bad_top_up, name="wallet-top-up-error"),
    Route("/account", "student"),
    Route("/account", "teacher"),
    Route("/account", "newcomer", _wrong_current_password, name="account-password-errors"),
    Route("/notifications", "student"),
    Route("/notifications", "newcomer", name="notifications-empty"),
    Route("/wallet", "teacher", name="teacher:/wallet"),
    Route("/wallet", "teacher", _bad_withdrawal, name="withdraw-errors"),
    Route("/admin", "admin"),
    Route("/admin/users", "admin"),
    Route("/admin/users/{student_id}", "admin"),
    Route("/admin/users/{student_id}", "admin", _open_suspend_dialog, name="suspend-dialog"),
    Route("/admin/users/{student_id}", "admin", _bad_adjustment, name="adjust-error"),
    Route("/admin/sessions", "admin"),
    Route("/admin/sessions", "admin", _open_admin_cancel_dialog, name="admin-cancel-dialog"),
    Route("/admin/audit", "admin"),
    Route("/admin/payouts", "admin"),
    Route("/admin/payouts", "admin", _open_pay_dialog, name="pay-dialog"),
]

NEWCOMER_EMAIL = "a11y-newcomer@example.org"
ADMIN_EMAIL = "a11y-admin@example.org"
# Who signs in for a route's `role`: (email, password). A new role (an admin) is one line here.
ACCOUNTS = {
    "teacher": (LOGINS[0].email, PASSWORD),
    "student": (LOGINS[1].email, PASSWORD),
    "newcomer": (NEWCOMER_EMAIL, STRONG_PASSWORD),
    "admin": (ADMIN_EMAIL, STRONG_PASSWORD),
}
DEMO_TITLES = {
    "draft": "Atelier : préparer l'oral",
    "algebra": "Algèbre linéaire",
    "python": "Python pour débutants",
    "english": "Anglais des affaires",
    "physics": "Physique : la mécanique",
    "history": "Histoire : la Révolution",
    "cancelled": "Chimie organique",
}


@pytest.fixture(scope="module")
def ids(app_server) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The demo's sessions by name, a published series and a student with nothing yet."""
    from sqlmodel import Session

    from visio.db import make_engine

    engine = make_engine(app_server.db_url)
    with Session(engine, expire_on_commit=False) as db:
        found: dict[str, object] = {}
        rows = db.exec(select(VideoSession)).all()
        for key, title in DEMO_TITLES.items():
            found[key] = next(s.id for s in rows if s.title.startswith(title))
        teacher = db.exec(select(User).where(User.email == LOGINS[0].email)).one()
        student = db.exec(select(User).where(User.email == LOGINS[1].email)).one()
        created = series.create_series(
            db=db,
            actor=teacher,
            data=session_input(utcnow, title="Conversation anglaise hebdomadaire"),
            repeat=series.Repeat(count=3),
            publish=True,
        )
        found["series"] = created.series.id
        found["series_first"] = created.occurrences[0].id
        found["unsubscribe"] = unsubscribe.token_for(
            db, user_id=student.id, kind="enrollment_confirmed"
        )
        if db.exec(select(User).where(User.email == NEWCOMER_EMAIL)).first() is None:
            make_student(db, clock=utcnow, email=NEWCOMER_EMAIL, full_name="Nina Petit")
        if db.exec(select(User).where(User.email == ADMIN_EMAIL)).first() is None:
            make_admin(db, clock=utcnow, email=ADMIN_EMAIL)
        found["student_id"] = student.id
        # A withdrawal waiting for the admin's decision (the queue and its dialog).
        payer = make_funded_teacher(db, clock=utcnow, amount_cents=5_000)
        payouts.request_payout(db=db, actor=payer, amount_cents=2_000, destination=IBAN)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def pages(browser, app_url, ids):  # type: ignore[no-untyped-def]
    """One page per (account, language), signed in once and reused by every route."""
    opened: dict[tuple[str | None, str], object] = {}
    contexts = []

    def _page(role: str | None, lang: str):  # type: ignore[no-untyped-def]
        key = (role, lang)
        if key not in opened:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900},
                locale=LANGS[lang],
                timezone_id="Europe/Paris",
                base_url=app_url,
            )
            context.set_default_timeout(20_000)
            # The language switch's stored choice, as a visitor who picked it.
            context.add_init_script(f"window.localStorage.setItem('visio_lang', '{lang}')")
            # No internet here: the embedded Jitsi room must not wait on it.
            context.route(re.compile(r"^https://meet\.jit\.si/"), lambda route: route.abort())
            contexts.append(context)
            page = context.new_page()
            if role is not None:
                email, password = ACCOUNTS[role]
                login(page, email, password)
                page.wait_for_url(re.compile(r"/((teacher|student)/video-sessions|admin)/?$"))
                wait_ready(page)
            opened[key] = page
        return opened[key]

    yield _page
    for context in contexts:
        context.close()


def run_axe(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations of the WCAG 2.1 A/AA rules on what the page shows now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    return page.evaluate("options => axe.run(document, options)", options)["violations"]


def summary(violations: list[dict], where: str, found: dict[str, list[str]]) -> None:
    """Group the same fault seen in several modes: "rule (impact) target: why" -> [where...]."""
    for v in violations:
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            why = " ".join(node.get("failureSummary", "").split())[:200]
            found.setdefault(f"{v['id']} ({v['impact']}) {target}: {why}", []).append(where)


def settle(page, mode: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app shows `mode` and nothing is moving (dialogs fade in; spinners that
    turn for ever are no transition)."""
    page.wait_for_function(
        "mode => document.documentElement.classList.contains(mode)", arg=mode, timeout=10_000
    )
    page.wait_for_function(
        """() => document.getAnimations().every(a => a.playState !== 'running'
                 || a.effect?.getComputedTiming().iterations === Infinity)""",
        timeout=10_000,
    )


@pytest.mark.skipif(
    BACKEND == "scale",
    reason="the pages' markup is the same build on both backends: axe checks it once (embedded)",
)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_every_page_passes_axe_wcag_21_aa(route: Route, pages, ids) -> None:  # type: ignore[no-untyped-def]
    path = route.path.format(**ids)
    found: dict[str, list[str]] = {}
    for lang in LANGS:
        page = pages(route.role, lang)
        page.emulate_media(color_scheme="light")
        page.set_viewport_size({"width": 1280, "height": 900})
        open_path(page, path)
        if route.then is not None:
            route.then(page)
        for mode in MODES:
            page.emulate_media(color_scheme=mode)
            for width_name, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                settle(page, mode)
                summary(run_axe(page), f"{lang} {mode} {width_name}", found)
        if route.then is not None:
            # Close what the step opened: the app keeps a dialog's state for the next route.
            page.keyboard.press("Escape")
            page.locator("[role=dialog], [role=menu]").first.wait_for(state="detached")
        html_lang = page.evaluate("document.documentElement.lang")
        if html_lang != lang:
            found.setdefault(f"html-lang: <html lang> is {html_lang!r}", []).append(lang)
    problems = [f"{fault}\n    in {', '.join(where)}" for fault, where in found.items()]
    assert not problems, f"{route.id}: accessibility violations:\n" + "\n".join(problems)


def test_each_chart_is_a_named_image_with_its_figures_as_a_table(pages) -> None:  # type: ignore[no-untyped-def]
    """What a screen reader finds on /teacher/statistics: each chart an image named by its title,
    then a table of the same figures, with a caption and headers."""
    from playwright.sync_api import expect

    page = pages("teacher", "en")
    open_path(page, "/teacher/statistics")
    _stats_loaded(page)
    for title, rows in (
        ("Enrollments per week", 12),
        ("Revenue per month", 12),
        ("Attendance per session", 1),  # the demo's one finished class with students
    ):
        expect(page.get_by_role("img", name=title, exact=True)).to_have_count(1)
        table = page.get_by_role("table", name=title, exact=True)
        expect(table.get_by_role("columnheader")).not_to_have_count(0)
        expect(table.locator("tbody tr")).to_have_count(rows)
    revenue = page.get_by_role("table", name="Revenue per month", exact=True)
    expect(revenue.locator("tbody tr").last).to_contain_text("€")


def test_the_language_switch_changes_the_html_lang(new_page) -> None:  # type: ignore[no-untyped-def]
    """Screen readers choose their voice from <html lang>: it follows the switch at once."""
    page = new_page("fr-FR")
    open_path(page, "/login")
    page.wait_for_function("document.documentElement.lang === 'fr'")
    page.locator("#language-switch").get_by_role("radio", name="EN").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.get_by_role("heading", name="Log in").wait_for()
    open_path(page, "/register")  # the stored choice holds on the next page
    page.wait_for_function("document.documentElement.lang === 'en'")
