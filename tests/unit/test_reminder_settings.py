"""VISIO_REMINDERS: a comma list of delays before the start (m, h, d), 24h,1h by default, empty
for none; a bad value stops the app at startup with a message, not a traceback."""

from __future__ import annotations

import pytest

from tests.settings_start import refused_start
from visio.settings import Settings, parse_reminders


def test_the_default_is_a_day_and_an_hour_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISIO_REMINDERS", raising=False)
    assert Settings().reminders == (86400, 3600)


def test_an_empty_value_means_no_reminders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISIO_REMINDERS", "")
    assert Settings().reminders == ()


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("24h,1h,15m", (86400, 3600, 900)), (" 15m , 2d ", (172800, 900)), ("1H,60m", (3600,)),
     ("30m,", (1800,))],
)  # fmt: skip
def test_delays_are_read_in_minutes_hours_or_days_largest_first(
    raw: str, seconds: tuple[int, ...]
) -> None:
    assert parse_reminders(raw) == seconds


@pytest.mark.parametrize("raw", ["24", "1w", "0h", "-1h", "1.5h", "h", "24h;1h", "99999h"])
def test_anything_else_is_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match="VISIO_REMINDERS"):
        parse_reminders(raw)


def test_the_app_refuses_to_start_with_a_bad_value_saying_why() -> None:
    stderr = refused_start(VISIO_REMINDERS="24h,soon")
    assert "VISIO_REMINDERS" in stderr and "'soon'" in stderr
