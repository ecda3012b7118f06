"""Payouts in a real browser: a teacher withdraws to an IBAN, an admin pays it with a reference
and the teacher sees "Paid" and the reference; a second request, to another payout reference,
is refused and its amount comes back to the wallet.

With VISIO_SHOTS set to a folder, the pages are also photographed there (wide and phone).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.helpers import login, open_path
from tests.factories import STRONG_PASSWORD, make_admin
from tests.invariants import assert_ledger_invariants
from tests.payouts_support import IBAN_SPACED, make_funded_teacher
from visio.clock import FrozenClock, utcnow

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("VISIO_SHOTS", "")


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Photograph the page wide and as a phone, when asked to (VISIO_SHOTS)."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, width in (("wide", 1280), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # let the layout settle at the new width (a photo only)
        page.screenshot(path=f"{SHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(size)


def sign_in(new_page, locale: str, email: str):  # type: ignore[no-untyped-def]
    page = new_page(locale)
    login(page, email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    return page


def test_a_teacher_withdraws_an_admin_pays_and_refuses(new_page, app_db) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(utcnow())
    teacher = make_funded_teacher(app_db, clock=clock, amount_cents=5_000, full_name="Ada Byron")
    admin = make_admin(app_db, clock=clock)

    # The teacher asks for 20 € to their IBAN.
    page = sign_in(new_page, "en-GB", teacher.email)
    open_path(page, "/wallet")
    page.fill("#payout-amount", "20")
    page.fill("#payout-destination", IBAN_SPACED)
    page.click("#payout-submit")
    row = page.locator("#payout-history .payout-row").first
    row.wait_for()
    assert "Pending" in row.inner_text() and "••••0189" in row.inner_text()
    page.wait_for_function(
        "document.querySelector('#wallet-page-balance').innerText.includes('30.00')"
    )
    assert "Withdrawal requested" in page.locator("#wallet-history").inner_text()
    # A wrong IBAN is refused next to the field, nothing held.
    page.fill("#payout-amount", "10")
    page.fill("#payout-destination", "FR76 3000 6000 0112 3456 7890 188")
    page.click("#payout-submit")
    page.locator("#payout-error-destination").wait_for()
    assert "check digits" in page.locator("#payout-error-destination").inner_text()
    shoot(page, "wallet-en")

    # The admin pays it with a reference (in French).
    desk = sign_in(new_page, "fr-FR", admin.email)
    open_path(desk, "/admin/payouts")
    item = desk.locator(".payout-item", has_text="Ada Byron").first
    item.wait_for()
    assert "FR7630006000011234567890189" in item.inner_text()
    shoot(desk, "admin-queue-fr")
    item.locator(".payout-pay").click()
    desk.locator("#payout-dialog-text").fill("VIR-2026-001")
    shoot(desk, "admin-pay-dialog-fr")
    desk.click("#payout-dialog-confirm")
    desk.wait_for_function("!document.querySelector('#payout-dialog-text')")
    item.get_by_text("Référence\u00a0: VIR-2026-001").wait_for()

    # The teacher sees it paid, with the reference.
    open_path(page, "/wallet")
    row = page.locator("#payout-history .payout-row").first
    row.get_by_text("Reference: VIR-2026-001").wait_for()
    assert "Paid" in row.inner_text()

    # A second request, to another payout reference, is refused: the money comes back.
    page.get_by_role("radio", name="Other reference").click()
    page.fill("#payout-amount", "10")
    page.fill("#payout-destination", "PayPal ada@example.org")
    page.click("#payout-submit")
    page.locator("#payout-history .payout-row", has_text="Pending").wait_for()
    page.wait_for_function(
        "document.querySelector('#wallet-page-balance').innerText.includes('20.00')"
    )

    open_path(desk, "/admin/payouts")
    item = desk.locator(".payout-item", has_text="PayPal ada@example.org").first
    item.locator(".payout-refuse").click()
    desk.locator("#payout-dialog-text").fill("Compte PayPal introuvable")
    shoot(desk, "admin-refuse-dialog-fr")
    desk.click("#payout-dialog-confirm")
    item.get_by_text("Motif\u00a0: Compte PayPal introuvable").wait_for()

    open_path(page, "/wallet")
    page.locator("#payout-history .payout-row", has_text="Refused").wait_for()
    page.wait_for_function(
        "document.querySelector('#wallet-page-balance').innerText.includes('30.00')"
    )
    assert "Withdrawal returned" in page.locator("#wallet-history").inner_text()
    shoot(page, "wallet-after-en")
    assert_ledger_invariants(app_db)

    if SHOTS:  # the other language of each page
        fr_teacher = sign_in(new_page, "fr-FR", teacher.email)
        open_path(fr_teacher, "/wallet")
        fr_teacher.locator("#payout-history .payout-row").first.wait_for()
        shoot(fr_teacher, "wallet-fr")
        en_admin = sign_in(new_page, "en-GB", admin.email)
        open_path(en_admin, "/admin/payouts")
        en_admin.locator(".payout-item").first.wait_for()
        shoot(en_admin, "admin-queue-en")
