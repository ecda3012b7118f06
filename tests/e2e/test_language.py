"""The pages' words are built into the pages (visio.components.text): the first state a page
receives carries none of them, and a visitor who switches language sees the page redrawn in
the other one while the server answers with a few bytes of state, not a catalog."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import open_path
from visio.i18n import PAGE_CATALOGS

pytestmark = pytest.mark.e2e

# Every frame the page's websocket receives, with its size.
RECORD = """
(() => {
  const frames = window.__frames = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => frames.push(String(e.data).length));
    }
  };
})();
"""
STATE_BYTES = 20_000  # a page's whole first state; the French catalog alone was 49.5 KB
SWITCH_BYTES = 10_000


def test_a_visitor_switches_language_and_no_words_come_from_the_server(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page(locale="fr-FR")
    page.add_init_script(RECORD)
    open_path(page, "/login")
    submit = page.locator("#login-submit")
    assert submit.inner_text() == PAGE_CATALOGS["fr"]["login.submit"]
    assert page.locator("html").get_attribute("lang") == "fr"
    first_state = sum(page.evaluate("window.__frames"))
    assert 0 < first_state < STATE_BYTES

    received = len(page.evaluate("window.__frames"))
    page.get_by_role("radio", name="EN").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert submit.inner_text() == PAGE_CATALOGS["en"]["login.submit"]
    switch = page.locator("#language-switch")
    assert switch.get_attribute("aria-label") == PAGE_CATALOGS["en"]["nav.language"]
    answer = page.evaluate(f"window.__frames.slice({received})")
    # The new language and what the server words itself (its messages): no catalog.
    assert answer and sum(answer) < SWITCH_BYTES

    open_path(page, "/login")  # the choice is kept in the browser: the words stay English
    assert page.locator("#login-submit").inner_text() == PAGE_CATALOGS["en"]["login.submit"]
