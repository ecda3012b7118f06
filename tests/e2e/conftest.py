"""Browser tests: Debian's Chromium driving the production build (see tests/server.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium first")

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, app_url, request):  # type: ignore[no-untyped-def]
    """Open pages in fresh browser contexts (a locale per context, like a real visitor)."""
    contexts = []

    def _open(locale: str = "fr-FR", width: int = 1280, height: int = 900):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale=locale,
            timezone_id="Europe/Paris",
            base_url=app_url,
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        # Keep what the browser showed: the first thing to look at when a test fails on CI.
        out = ARTIFACTS / request.node.name
        out.mkdir(parents=True, exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(path=str(out / f"context{index}-page{number}.png"), full_page=True)
    for context in contexts:
        context.close()
