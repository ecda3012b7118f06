"""/series/[series_id]: a series' schedule and the seats the viewer holds in it."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db
from visio.i18n.formatting import format_money, format_when
from visio.models import Role
from visio.services import series
from visio.services.errors import DomainError
from visio.state.app import AppState


class OccurrenceLine(TypedDict):
    id: int
    href: str
    when: str
    title: str
    status: str
    status_label: str
    held: bool
    full: bool


class SeriesState(AppState):
    loading: bool = True
    found: bool = False
    error_text: str = ""
    title: str = ""
    subtitle: str = ""
    seats_note: str = ""
    occurrences: list[OccurrenceLine] = []
    remaining: int = 0
    remaining_total: str = ""
    is_student: bool = False
    drafts: int = 0  # the owner's drafts still ahead ("Publish all")
    drafts_note: str = ""
    busy: bool = False
    _series_id: int | None = None

    def _fill(self, user) -> None:  # type: ignore[no-untyped-def]
        now = utcnow()
        with open_db() as db:
            view = series.series_view(
                db=db, actor=user, series_id=self._series_id or 0, clock=lambda: now
            )
            owner = view.teacher_id == user.id
            drafts = (
                series.drafts_ahead(db=db, actor=user, series_id=view.series.id, clock=lambda: now)  # type: ignore[arg-type]
                if owner
                else 0
            )
        lang, tz = self.lang, self.viewer_tz
        first = view.occurrences[0].session
        self.title = first.title
        self.subtitle = (
            self.text("series.subtitle_weekly")
            if view.series.every_days == series.WEEKLY
            else self.text("series.subtitle", n=view.series.every_days)
        )
        self.is_student = user.role == Role.STUDENT
        self.seats_note = (
            self.text("series.seats_held", n=view.seats_held, total=len(view.occurrences))
            if self.is_student
            else ""
        )
        self.occurrences = [
            OccurrenceLine(
                id=o.session.id or 0,
                href=(
                    f"/teacher/video-sessions/{o.session.id}"
                    if owner
                    else f"/sessions/{o.session.id}"
                ),
                when=format_when(o.session.starts_at, lang, tz),
                title=o.session.title,
                status=o.status.value,
                status_label=self.text(f"status.{o.status.value}"),
                held=o.holds_seat,
                full=o.full,
            )
            for o in view.occurrences
        ]
        self.remaining = len(view.remaining) if self.is_student else 0
        self.remaining_total = self.text(
            "series.enroll_all_total",
            n=len(view.remaining),
            total=format_money(view.remaining_cents, lang)
            if view.remaining_cents
            else self.text("common.free"),
        )
        self.drafts = drafts
        self.drafts_note = self.text("series.drafts_note", n=self.drafts) if self.drafts else ""
        self.found, self.error_text = True, ""

    def _load(self):  # type: ignore[no-untyped-def]
        user, redirect = self.guard()
        if user is None:
            self.found = False
            return redirect
        try:
            self._fill(user)
        except DomainError as error:
            self.found, self.error_text = False, self.message(error)
        self.loading = False
        return None

    @rx.event
    def on_load(self):
        self.loading, self.found, self.occurrences = True, False, []
        self._series_id = self.route_session_id()  # the number in the path
        return self._load()

    @rx.event
    def enroll_all(self):
        """A seat in every remaining occurrence: all or none."""
        user, redirect = self.guard()
        if user is None:
            return redirect
        if self.busy:
            return None
        self.busy = True
        try:
            with open_db() as db:
                done = series.enroll_series(db=db, actor=user, series_id=self._series_id or 0)
        except DomainError as error:
            self.busy = False
            self._load()
            return rx.toast.error(self.message(error))
        self.busy = False
        self._load()
        return [
            rx.toast.success(self.text("series.enrolled_all", n=len(done.results))),
            AppState.load_shell,
        ]

    @rx.event
    def publish_all(self):
        """The owner publishes every draft occurrence still ahead."""
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        if self.busy:
            return None
        self.busy = True
        try:
            with open_db() as db:
                published = series.publish_series(db=db, actor=user, series_id=self._series_id or 0)
        except DomainError as error:
            self.busy = False
            self._load()
            return rx.toast.error(self.message(error))
        self.busy = False
        self._load()
        return rx.toast.success(self.text("series.published_all", n=len(published)))
