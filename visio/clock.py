"""The one source of "now", so that tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]

# The calendar Visio accepts from users: far enough for any class, and safe for date arithmetic
# (a day shifted by a zone or a day more never leaves Python's years 1 to 9999).
EARLIEST_YEAR, LATEST_YEAR = 1970, 9000


def in_calendar(value: date) -> bool:
    """Whether a date (or datetime) lies within the years Visio accepts."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def utcnow() -> datetime:
    """The real clock: aware UTC."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock for tests and demo data: returns a set instant until moved."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)
