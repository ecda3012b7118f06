"""VISIO_CORS_ORIGINS and VISIO_HTTPS: read once, off by default, never `null` or `*`."""

from __future__ import annotations

import pytest

from visio.settings import Settings


def test_no_other_site_is_allowed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISIO_CORS_ORIGINS", raising=False)
    assert Settings().cors_origins == ()


def test_the_allowlist_is_a_list_of_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISIO_CORS_ORIGINS", " https://lms.example.org/, http://127.0.0.1:8080")
    assert Settings().cors_origins == ("https://lms.example.org", "http://127.0.0.1:8080")


@pytest.mark.parametrize(
    "value", ["null", "*", "https://ok.example,null", "lms.example.org", "https://a.example/path"]
)
def test_null_wildcards_and_non_origins_are_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("VISIO_CORS_ORIGINS", value)
    with pytest.raises(ValueError, match="VISIO_CORS_ORIGINS"):
        Settings()


@pytest.mark.parametrize(
    ("env", "https", "expected"),
    [("development", None, False), ("production", None, True), ("production", "off", False),
     ("development", "on", True)],
)  # fmt: skip
def test_https_is_on_by_default_in_production(
    monkeypatch: pytest.MonkeyPatch, env: str, https: str | None, expected: bool
) -> None:
    monkeypatch.setenv("VISIO_ENV", env)
    if https is None:
        monkeypatch.delenv("VISIO_HTTPS", raising=False)
    else:
        monkeypatch.setenv("VISIO_HTTPS", https)
    assert Settings().https is expected
