"""Money, dates and durations formatted with Babel in the viewer's locale and time zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency

from visio.settings import settings

# Parsed once: Babel would parse a locale name again on every call (a list of cards formats
# dozens of dates and prices per event).
_BABEL_LOCALES = {"fr": Locale.parse("fr_FR"), "en": Locale.parse("en_GB")}


def babel_locale(lang: str) -> Locale:
    return _BABEL_LOCALES.get(lang, _BABEL_LOCALES["fr"])


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or settings.default_timezone)
    except (KeyError, ValueError, OSError):
        return ZoneInfo(settings.default_timezone)


def format_money(cents: int, lang: str, currency: str | None = None) -> str:
    """12345 -> "123,45 €" (fr) or "€123.45" (en)."""
    return _money(cents, lang if lang in _BABEL_LOCALES else "fr", currency or settings.currency)


# Prices and balances come back again and again (a page of cards, a page filled after each
# action), and Babel takes a tenth of a millisecond for each: the few distinct ones are kept.
@lru_cache(maxsize=4096)
def _money(cents: int, lang: str, currency: str) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=babel_locale(lang))


def format_when(at: datetime, lang: str, tz: str | None) -> str:
    """A date and time in the viewer's zone: "lundi 2 mars 2026 à 10:00"."""
    local = at.astimezone(_zone(tz))
    pattern = "EEEE d MMMM y 'à' HH:mm" if lang == "fr" else "EEEE d MMMM y, HH:mm"
    return format_datetime(local, pattern, locale=babel_locale(lang))


def format_day(at: datetime, lang: str, tz: str | None) -> str:
    return format_date(at.astimezone(_zone(tz)), "medium", locale=babel_locale(lang))


def format_clock(at: datetime, lang: str, tz: str | None) -> str:
    return format_time(at.astimezone(_zone(tz)), "short", locale=babel_locale(lang))


def format_duration(minutes: int, lang: str) -> str:
    """90 -> "1 h 30" (fr) or "1 h 30 min" (en); 45 -> "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    if not rest:
        return f"{hours} h"
    return f"{hours} h {rest:02d}" if lang == "fr" else f"{hours} h {rest} min"
