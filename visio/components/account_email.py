"""The /account page's section about the account's address (placeholder until it is built)."""

from __future__ import annotations

import reflex as rx


def email_section() -> rx.Component:
    return rx.fragment()
