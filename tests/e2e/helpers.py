"""Small steps shared by the browser tests."""

from __future__ import annotations

import re
import secrets

PASSWORD = "correct-horse-battery-9"


def open_path(page, path: str) -> None:  # type: ignore[no-untyped-def]
    """Go to a path and wait until the page's state has arrived from the server."""
    page.goto(path)
    wait_ready(page)


def wait_ready(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("[data-hydrated=true]")


def unique_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.org"


def register(page, *, role: str, name: str, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    open_path(page, "/register")
    page.click(f"#role-{role}")
    page.fill("#full_name", name)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#register-submit")
    page.wait_for_url(re.compile(rf"/{role}/video-sessions/?$"))
    wait_ready(page)


def login(page, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    if "/login" not in page.url:
        open_path(page, "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")


def logout(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#account-menu")
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login/?$"))
