"""What both session pages show of a session, the student's and its teacher's, filled one way.

What a page shows changes with the clock (join button, status): each page has a hidden timer
that waits `tick_ms`, until just after the next such instant, then reloads.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from visio.i18n.formatting import format_duration, format_money, format_when
from visio.models import EffectiveStatus, VideoSession
from visio.services import attendance, minimums
from visio.services.enrollments import enrollment_deadline
from visio.services.errors import DomainError

TICK_MAX_MS = 30_000


def tick_delay_ms(next_change: datetime | None, now: datetime) -> int:
    """How long the page's timer waits: until just after the next change, at most 30 s; 0: none."""
    if next_change is None:
        return 0
    wait = int((next_change - now).total_seconds() * 1000) + 500
    return max(1_000, min(TICK_MAX_MS, wait))


class SessionFactsState(rx.State, mixin=True):
    """A session's facts in the viewer's language and zone.

    A mixin, as SessionListState: each page state gets its own copy of these vars. The page
    state also derives from AppState, which gives `text`, `lang` and `viewer_tz`.
    """

    found: bool = False
    loading: bool = True
    error_text: str = ""

    title: str = ""
    description: str = ""
    status: str = ""
    status_label: str = ""
    when: str = ""
    zone_note: str = ""  # the start in the session's own zone, when it is not the viewer's
    duration: str = ""
    platform_label: str = ""
    price: str = ""
    deadline: str = ""
    tags: list[str] = []
    cancel_note: str = ""
    confirmed: bool = False  # the minimum of participants is reached: it takes place
    minimum_note: str = ""  # for students: how many more must enroll, and by when
    minimum_teacher_note: str = ""  # for its teacher: "3 more needed by ...", or reached
    tick_ms: int = 0
    current_id: int = 0
    series_id: int = 0  # an occurrence of a recurring series (0: a one-off session)

    _session_id: int | None = None
    _in_app: bool = False
    _next_change: datetime | None = None

    def _page_role(self) -> str | None:
        """Who may open the page (None: anyone signed in)."""
        raise NotImplementedError

    def _fill(self, user) -> None:  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def _load(self):  # type: ignore[no-untyped-def]
        """Resolve the user again, then fill the page; a refusal shows as the page's error."""
        user, redirect = self.guard(self._page_role())  # type: ignore[attr-defined]
        if user is None:
            self.found = False
            return redirect
        try:
            self._fill(user)
        except DomainError as error:
            self.found, self.error_text = False, self.message(error)  # type: ignore[attr-defined]
        self.loading = False
        return None

    def _fill_facts(
        self, s: VideoSession, status: EffectiveStatus, tags: list[str], now: datetime
    ) -> None:
        lang, tz = self.lang, self.viewer_tz  # type: ignore[attr-defined]
        text = self.text  # type: ignore[attr-defined]
        self._in_app = attendance.opens_in_app(s)
        self._next_change = attendance.next_change_at(s, now)
        self.tick_ms = tick_delay_ms(self._next_change, now)
        self.found, self.error_text = True, ""
        self.title, self.description = s.title, s.description
        self.series_id = s.series_id or 0
        self.status, self.status_label = status.value, text(f"status.{status.value}")
        self.when = format_when(s.starts_at, lang, tz)
        self.zone_note = (
            ""
            if s.timezone == tz
            else text(
                "detail.session_zone",
                when=format_when(s.starts_at, lang, s.timezone),
                zone=s.timezone,
            )
        )
        self.duration = format_duration(s.duration_minutes, lang)
        self.platform_label = text(f"platform.{s.platform}")
        self.price = (
            format_money(s.price_cents, lang, s.currency) if s.is_paid else text("common.free")
        )
        self.deadline = format_when(enrollment_deadline(s), lang, tz)
        self.tags = tags
        self.cancel_note = (
            text("detail.cancelled_because", reason=s.cancel_reason or "")
            if status == EffectiveStatus.CANCELLED
            else ""
        )
        self._fill_minimum(s, status)

    def _fill_minimum(self, s: VideoSession, status: EffectiveStatus) -> None:
        text = self.text  # type: ignore[attr-defined]
        minimum = minimums.view(s)
        open_ = status in (EffectiveStatus.SCHEDULED, EffectiveStatus.ONGOING)
        self.confirmed = open_ and minimum.confirmed
        self.minimum_note = self.minimum_teacher_note = ""
        if not open_ or minimum.min_participants is None or minimum.decide_at is None:
            return
        decide = format_when(minimum.decide_at, self.lang, self.viewer_tz)  # type: ignore[attr-defined]
        if minimum.needed:
            self.minimum_note = text("minimum.pending", needed=minimum.needed, when=decide)
            self.minimum_teacher_note = text(
                "minimum.teacher_needed", needed=minimum.needed, when=decide
            )
        else:
            self.minimum_teacher_note = text(
                "minimum.teacher_reached", min=minimum.min_participants
            )
