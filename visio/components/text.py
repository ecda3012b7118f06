"""The pages' words, built into the pages themselves: `TEXT["key"]` is that string in every
language, picked in the browser by the viewer's language (`AppState.lang`).

They were a state var, the whole catalog of the viewer's language (49.5 KB), sent with every
page's first state and, at scale, carried to and from Redis with each client's state on every
event. Built into the pages' scripts, they are kept by the browser with the rest of the build
(`visio.security`), and a language change redraws the page without asking the server for text.
"""

from __future__ import annotations

import functools

import reflex as rx

from visio.i18n import DEFAULT_LANGUAGE, LANGUAGES, PAGE_CATALOGS
from visio.state.app import AppState


@functools.cache
def page_text(key: str) -> rx.Var[str]:
    """The string `key` of the pages' catalog in the viewer's language (a KeyError when the
    build is made if a language's catalog lacks it, where the page would have shown nothing)."""
    default = PAGE_CATALOGS[DEFAULT_LANGUAGE][key]
    found: rx.Var[str] = rx.Var.create(default)
    for lang in LANGUAGES:
        text = PAGE_CATALOGS[lang][key]
        if lang != DEFAULT_LANGUAGE and text != default:
            found = rx.cond(AppState.lang == lang, text, found)
    return found


class _PageText:
    """`TEXT["key"]`: the way the pages index the catalog."""

    def __getitem__(self, key: str) -> rx.Var[str]:
        return page_text(key)


TEXT = _PageText()
