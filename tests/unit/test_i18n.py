"""The catalogs: both languages complete, every error code translated, formatting by locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from visio.i18n import CATALOGS, PAGE_CATALOGS, SERVER_ONLY, error_message, pick_language, t
from visio.i18n.formatting import format_duration, format_money, format_when

SERVICES = Path(__file__).resolve().parents[2] / "visio" / "services"
ERROR_CLASSES = (
    "InvalidInput|Conflict|Forbidden|NotFound|Throttled|InvalidCredentials|NotAuthenticated|"
    "PaymentFailed|InsufficientFunds|Busy|DomainError"
)


def test_french_and_english_have_the_same_keys_and_placeholders() -> None:
    fr, en = CATALOGS["fr"], CATALOGS["en"]
    assert set(fr) == set(en)
    for key in fr:
        assert set(re.findall(r"{(\w+)}", fr[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_every_error_code_raised_by_a_service_has_a_message_in_both_languages() -> None:
    codes = set()
    for path in SERVICES.glob("*.py"):
        codes |= set(re.findall(rf'(?:{ERROR_CLASSES})\(\s*"(\w+)"', path.read_text()))
    codes |= {
        "password_too_short",
        "password_too_long",
        "password_common",
        "password_like_identity",
        "password_weak",
    }  # returned by passwords.weakness()
    from visio.services import errors

    codes |= {
        cls.default_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.DomainError)
    }
    missing = {(lang, c) for lang in CATALOGS for c in codes if f"error.{c}" not in CATALOGS[lang]}
    assert not missing


def test_messages_fill_in_parameters_and_format_cents_as_money() -> None:
    assert error_message("insufficient_funds", "fr", {"missing_cents": 550}) == (
        "Solde insuffisant : il manque 5,50\xa0€."
    )
    assert t("error.title_too_short", "en", min=3) == "The title needs at least 3 characters."


def test_language_is_picked_from_accept_language_by_preference() -> None:
    assert pick_language("en-US,en;q=0.9,fr;q=0.8") == "en"
    assert pick_language("de-DE,fr;q=0.5,en;q=0.4") == "fr"
    assert pick_language("fr;q=0.2,en;q=0.9") == "en"
    assert pick_language("de, es") == "fr"
    assert pick_language(None, fallback="en") == "en"


def test_dates_and_money_follow_locale_and_time_zone() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert format_when(at, "fr", "Europe/Paris") == "lundi 2 mars 2026 à 10:00"
    assert format_when(at, "en", "America/New_York") == "Monday 2 March 2026, 04:00"
    assert format_money(123456, "fr") == "1\u202f234,56\xa0€"
    assert format_money(123456, "en") == "€1,234.56"
    assert format_duration(90, "fr") == "1 h 30"
    assert format_duration(45, "en") == "45 min"


def test_pages_get_every_string_but_the_servers_own() -> None:
    """The pages' catalog is built into the pages (visio.components.text): the mails' strings
    stay on the server, and no page asks for one of them."""
    pages = Path(__file__).resolve().parents[2] / "visio"
    for lang, catalog in CATALOGS.items():
        sent = PAGE_CATALOGS[lang]
        assert sent and not [k for k in sent if k.startswith(SERVER_ONLY)]
        assert {k: v for k, v in catalog.items() if not k.startswith(SERVER_ONLY)} == sent
    server_key = re.compile(r"[\"']((?:" + "|".join(map(re.escape, SERVER_ONLY)) + r")[\w.]+)[\"']")
    asked = {
        key
        for folder in ("pages", "components")
        for source in (pages / folder).rglob("*.py")
        for key in server_key.findall(source.read_text())
    }
    assert not asked
