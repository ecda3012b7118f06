"""/sessions/[session_id]: a session as a student sees it, with the one action that applies.

The platform link is not part of this state until its owner or an enrolled student joins a
non-Jitsi session (`meeting_url`, a fallback if the new tab was blocked); Jitsi sessions are
joined on the room page. The page's timer calls `tick`, which reloads only once the next change
(see session_facts) has passed.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db, read_db
from visio.i18n.formatting import format_clock, format_money, format_when
from visio.models import MaterialKind, Role
from visio.services import attendance, calendar, download_links, enrollments, series, waitlist
from visio.services.errors import DomainError, InsufficientFunds
from visio.services.session_view import Action, public_view
from visio.settings import settings
from visio.state.app import AppState
from visio.state.materials import download_href
from visio.state.session_facts import SessionFactsState, tick_delay_ms


class MaterialItem(TypedDict):
    id: int
    title: str
    kind: str
    href: str


class SessionPageState(SessionFactsState, AppState):
    teacher: str = ""
    seats: str = ""
    is_paid: bool = False
    refund_note: str = ""
    moved_note: str = ""  # the session moved since the student enrolled: their refund right

    action: str = ""
    reason_text: str = ""
    balance: str = ""
    balance_after: str = ""
    short_of_funds: str = ""
    materials: list[MaterialItem] = []
    can_download: bool = False
    opens_at_iso: str = ""
    join_window_note: str = ""
    meeting_url: str = ""

    # The waiting list (a student on a full session): "none", "waiting" or "closed".
    wl_state: str = "none"
    wl_can_join: bool = False
    wl_position: str = ""
    wl_waiting: str = ""
    wl_short: bool = False

    busy: bool = False
    pay_open: bool = False
    series_remaining: int = 0  # occurrences of its series the student could still enroll in
    series_total: str = ""  # what enrolling in all of them costs
    unenroll_open: bool = False

    def _fill(self, user) -> None:  # type: ignore[no-untyped-def]
        now = utcnow()
        with read_db() as db:
            view = public_view(
                db=db, actor=user, video_session_id=self._session_id, clock=lambda: now
            )
            place = (
                waitlist.place_of(
                    db=db, actor=user, video_session_id=self._session_id, clock=lambda: now
                )
                if view.action == Action.NONE and view.reason
                else waitlist.Place("none")
            )
            files = [m.id for m in view.materials if m.kind == MaterialKind.FILE]
            grants = (
                download_links.sign(db=db, token=self.token, material_ids=files, clock=lambda: now)
                if view.can_download and files
                else {}
            )
            remaining = (
                series.series_view(db=db, actor=user, series_id=view.session.series_id).remaining
                if view.session.series_id and user.role == Role.STUDENT
                else []
            )
        s, lang, tz = view.session, self.lang, self.viewer_tz
        self._fill_facts(s, view.status, view.tags, now)
        self.series_remaining = len(remaining)
        self.series_total = self.text(
            "series.enroll_all_total",
            n=len(remaining),
            total=format_money(sum(o.session.price_cents for o in remaining), lang)
            if s.is_paid
            else self.text("common.free"),
        )
        self.opens_at_iso = view.join_opens_at.isoformat()
        self.join_window_note = self.text(
            "page.join_window",
            time=format_clock(view.join_opens_at, lang, tz),
            minutes=settings.join_opens_minutes,
        )
        self.teacher = view.teacher_name
        self.seats = (
            self.text("student.unlimited_seats")
            if view.seats_left is None
            else self.text("student.seats_left", n=view.seats_left)
        )
        self.is_paid = s.is_paid
        self.refund_note = (
            self.text("page.refunded", amount=format_money(view.refunded_cents, lang))
            if view.refunded_cents
            else ""
        )
        self.moved_note = (
            self.text(
                "page.moved",
                planned=format_when(view.planned_starts_at, lang, tz),
                until=format_when(view.refund_until, lang, tz),
            )
            if view.planned_starts_at is not None and view.refund_until is not None
            else ""
        )
        self.action = view.action.value
        self.reason_text = self.text(f"page.reason.{view.reason}") if view.reason else ""
        self.balance = format_money(view.balance_cents, lang)
        self.balance_after = format_money(view.balance_after_cents, lang)
        self.short_of_funds = (
            self.text(
                "error.insufficient_funds", missing=format_money(-view.balance_after_cents, lang)
            )
            if view.action == Action.PAY and view.balance_after_cents < 0
            else ""
        )
        self.can_download = view.can_download
        self.materials = [
            MaterialItem(
                id=m.id,
                title=m.title,
                kind=m.kind,
                href=download_href(m.id, grants[m.id]) if m.id in grants else m.url or "",
            )
            for m in view.materials
        ]
        self.balance_cents = view.balance_cents
        self.wl_state, self.wl_can_join, self.wl_short = place.state, place.can_join, place.short
        self.wl_position = self.text("waitlist.position", n=place.position or 0)
        self.wl_waiting = self.text("waitlist.waiting", n=place.waiting) if place.waiting else ""

    def _page_role(self) -> str | None:
        return None

    @rx.event
    def on_load(self):
        self.loading, self.found, self.pay_open, self.unenroll_open = True, False, False, False
        self.meeting_url, self.tick_ms, self._next_change = "", 0, None
        self._session_id = self.route_session_id()
        self.current_id = self._session_id or 0
        return self._load()

    @rx.event
    def set_pay_open(self, is_open: bool):
        self.pay_open = is_open

    @rx.event
    def set_unenroll_open(self, is_open: bool):
        self.unenroll_open = is_open

    @rx.event
    def enroll_series(self):
        """A seat in every remaining occurrence of this session's series, all or none."""
        user, redirect = self.guard()
        if user is None:
            return redirect
        if self.busy or not self.series_id:
            return None
        self.busy = True
        try:
            with open_db() as db:
                done = series.enroll_series(db=db, actor=user, series_id=self.series_id)
        except DomainError as error:
            self.busy = False
            self._fill(user)
            return [rx.toast.error(self.message(error)), AppState.load_shell]
        self.busy = False
        self._fill(user)
        return [
            rx.toast.success(self.text("series.enrolled_all", n=len(done.results))),
            AppState.load_shell,
        ]

    @rx.event
    def enroll(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        if self.busy:  # a double click: the first one is on its way
            return None
        self.busy = True
        try:
            with open_db() as db:
                result = enrollments.enroll(db=db, actor=user, video_session_id=self._session_id)
        except InsufficientFunds as error:
            self.busy, self.pay_open = False, False
            return [rx.toast.error(self.message(error)), AppState.load_shell]
        except DomainError as error:
            self.busy, self.pay_open = False, False
            self._fill(user)
            return rx.toast.error(self.message(error))
        self.busy, self.pay_open = False, False
        self._fill(user)
        key = "page.enrolled_paid" if result.purchase else "page.enrolled"
        return rx.toast.success(
            self.text(key, balance=format_money(result.wallet_balance_cents, self.lang))
        )

    @rx.event
    def unenroll(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        try:
            with open_db() as db:
                result = enrollments.unenroll(db=db, actor=user, video_session_id=self._session_id)
        except DomainError as error:
            self.unenroll_open = False
            self._fill(user)
            return rx.toast.error(self.message(error))
        self.unenroll_open = False
        self._fill(user)
        if result.refunded_cents:
            return rx.toast.success(
                self.text(
                    "page.unenrolled_refunded",
                    amount=format_money(result.refunded_cents, self.lang),
                )
            )
        return rx.toast.success(self.text("page.unenrolled"))

    @rx.event
    def join_waitlist(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        try:
            with open_db() as db:
                place = waitlist.join(db=db, actor=user, video_session_id=self._session_id)
        except DomainError as error:
            self._fill(user)
            return rx.toast.error(self.message(error))
        self._fill(user)
        return rx.toast.success(self.text("waitlist.joined", n=place.position or 0))

    @rx.event
    def leave_waitlist(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        try:
            with open_db() as db:
                waitlist.leave(db=db, actor=user, video_session_id=self._session_id)
        except DomainError as error:
            self._fill(user)
            return rx.toast.error(self.message(error))
        self._fill(user)
        return rx.toast.success(self.text("waitlist.left"))

    @rx.event
    def download_ics(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        page_url = f"{self.router.url.origin}/sessions/{self._session_id}"
        try:
            with open_db() as db:
                ics = calendar.session_ics(
                    db=db, actor=user, video_session_id=self._session_id, page_url=page_url
                )
        except DomainError as error:
            return rx.toast.error(self.message(error))
        return rx.download(data=ics.content, filename=ics.filename)

    @rx.event
    def tick(self, _content: str = ""):
        """The page's timer: reload once the join button or the status has changed."""
        now = utcnow()
        if self._next_change is None or now < self._next_change:
            self.tick_ms = tick_delay_ms(self._next_change, now)
            return None
        return self._load()

    @rx.event
    def join(self):
        user, redirect = self.guard()
        if user is None:
            return redirect
        if self._in_app:  # Jitsi: the room page joins, checks included
            return rx.redirect(f"/sessions/{self._session_id}/room")
        try:
            with open_db() as db:
                joined = attendance.join(
                    db=db, actor=user, video_session_id=self._session_id, clock=utcnow
                )
        except DomainError as error:
            self._fill(user)
            return rx.toast.error(self.message(error))
        # Opened from the click's round trip, which browsers allow as a new tab; the link stays
        # on the page (for this participant only) in case a blocker stopped it.
        self.meeting_url = joined.url
        return [
            rx.redirect(joined.url, is_external=True),
            rx.toast.success(self.text("page.meeting_opened")),
        ]
