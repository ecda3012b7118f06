"""Message catalogs (French, English) and `t()`, the one way text reaches a user."""

from __future__ import annotations

from typing import Any

from visio.i18n import en, fr
from visio.i18n.formatting import format_money

CATALOGS: dict[str, dict[str, str]] = {"fr": fr.MESSAGES, "en": en.MESSAGES}
LANGUAGES = tuple(CATALOGS)
# Strings only the server uses (mails are built and sent by it): not sent to every browser.
SERVER_ONLY = ("mail.",)
# What the pages show, built into them (visio.components.text): the mails' strings are not.
PAGE_CATALOGS: dict[str, dict[str, str]] = {
    lang: {k: v for k, v in catalog.items() if not k.startswith(SERVER_ONLY)}
    for lang, catalog in CATALOGS.items()
}
DEFAULT_LANGUAGE = "fr"


def pick_language(accept_language: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """The first supported language in an Accept-Language header, by preference order."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()[:2]))
    for _, _, code in sorted(ranked):
        if code in CATALOGS:
            return code
    return fallback


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The message for `key` in `lang`, with `params` filled in.

    A parameter named `x_cents` is also offered, formatted as money, as `x`.
    """
    catalog = CATALOGS.get(lang, CATALOGS[DEFAULT_LANGUAGE])
    template = catalog.get(key) or CATALOGS["en"].get(key) or key
    values = dict(params)
    for name, value in params.items():
        if name.endswith("_cents") and isinstance(value, int):
            values.setdefault(name[: -len("_cents")], format_money(value, lang))
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def error_message(code: str, lang: str, params: dict[str, Any] | None = None) -> str:
    """The translated message of a DomainError code."""
    return t(f"error.{code}", lang, **(params or {}))
