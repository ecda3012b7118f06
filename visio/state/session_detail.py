"""/teacher/video-sessions/[session_id]: one session as its teacher sees and runs it.

Only the owning teacher gets this page's data (the private link included): every load and every
handler resolves the user again and the services check ownership. While the join window is open
the page's timer refreshes the attendance report every 30 seconds.
"""

from __future__ import annotations

from typing import TypedDict

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db
from visio.i18n.formatting import format_clock, format_money, format_when
from visio.models import EffectiveStatus, Role
from visio.services import attendance, attendance_report, roster, series, sessions, waitlist
from visio.services.errors import DomainError
from visio.settings import settings
from visio.state.app import AppState
from visio.state.materials import MaterialsState
from visio.state.session_facts import SessionFactsState, tick_delay_ms

EDITABLE = (EffectiveStatus.DRAFT, EffectiveStatus.SCHEDULED, EffectiveStatus.ONGOING)


class StudentLine(TypedDict):
    name: str
    email: str
    enrolled_at: str
    status: str
    status_label: str
    paid: str


class ReportLine(TypedDict):
    name: str
    email: str
    first_join: str
    minutes: str
    share: int
    share_label: str
    joined: bool
    status_label: str


class WaitingLine(TypedDict):
    position: int
    name: str
    joined_at: str
    short: bool


class HistoryLine(TypedDict):
    label: str
    who: str
    at: str
    detail: str


class SessionDetailState(SessionFactsState, AppState):
    link: str = ""
    seats: str = ""
    revenue: str = ""

    can_edit: bool = False
    can_publish: bool = False
    can_cancel: bool = False
    can_delete: bool = False
    delete_blocker: str = ""
    refund_note: str = ""
    refund_note_future: str = ""  # an occurrence of a series: this and the later ones
    series_drafts: int = 0  # drafts of its series still ahead ("Publish all")

    students: list[StudentLine] = []
    waiting: list[WaitingLine] = []  # the first page of the waiting list
    waiting_count: int = 0
    waiting_open: bool = False
    has_waitlist: bool = False
    history: list[HistoryLine] = []
    report: list[ReportLine] = []
    report_summary: str = ""
    report_note: str = ""
    report_measured: bool = False
    can_join: bool = False

    cancel_open: bool = False
    cancel_reason: str = ""
    cancel_error: str = ""
    cancel_scope: str = "one"  # an occurrence of a series: one | future
    delete_open: bool = False
    busy: bool = False

    def _fill(self, user) -> None:  # type: ignore[no-untyped-def]
        now = utcnow()
        with open_db() as db:
            view = roster.owner_view(
                db=db, actor=user, video_session_id=self._session_id, clock=lambda: now
            )
            students = roster.enrolled_students(
                db=db, actor=user, video_session_id=self._session_id
            )
            history = roster.audit_history(db=db, actor=user, video_session_id=self._session_id)
            line = waitlist.waiting_list(
                db=db, actor=user, video_session_id=self._session_id, clock=lambda: now
            )
            report = attendance_report.attendance_report(
                db=db, actor=user, video_session_id=self._session_id
            )
            future, drafts = None, 0
            if view.session.series_id is not None:  # "all future ones" and "Publish all"
                future = series.future_refund_preview(
                    db=db, actor=user, video_session_id=self._session_id, clock=lambda: now
                )
                drafts = series.drafts_ahead(
                    db=db, actor=user, series_id=view.session.series_id, clock=lambda: now
                )
        s, lang, tz = view.session, self.lang, self.viewer_tz
        self._fill_facts(s, view.status, view.tags, now)
        self.can_join = attendance.join_window_open(s, now)
        self._fill_report(report)
        self.link = s.link  # the owner may see the private link
        capacity = "∞" if s.capacity is None else str(s.capacity)
        self.seats = self.text("teacher.enrolled", enrolled=s.enrolled_count, capacity=capacity)
        self.revenue = format_money(view.revenue_cents, lang, s.currency)
        self.can_edit = view.status in EDITABLE
        self.can_publish = view.status == EffectiveStatus.DRAFT
        self.can_cancel = view.status in EDITABLE
        blocker = view.delete_blocker
        self.can_delete = blocker is None
        self.delete_blocker = self.text(f"error.{blocker}") if blocker else ""
        self.refund_note = (
            self.text(
                "detail.cancel_refunds",
                n=view.refund_count,
                total=format_money(view.refund_cents, lang, s.currency),
            )
            if view.refund_count
            else self.text("detail.cancel_no_refund")
        )
        self.refund_note_future, self.series_drafts = "", 0
        if future is not None:
            count, cents = future
            self.refund_note_future = (
                self.text(
                    "series.cancel_future_refunds",
                    n=count,
                    total=format_money(cents, lang, s.currency),
                )
                if count
                else self.text("series.cancel_future_no_refund")
            )
            self.series_drafts = drafts
        self.students = [
            StudentLine(
                name=row.full_name,
                email=row.email,
                enrolled_at=format_when(row.enrolled_at, lang, tz),
                status=row.status,
                status_label=self.text(f"enrollment.{row.status}"),
                paid=format_money(row.paid_cents, lang) if row.paid_cents else "—",
            )
            for row in students
        ]
        self.waiting = [
            WaitingLine(
                position=w.position,
                name=w.student_name,
                joined_at=format_when(w.joined_at, lang, tz),
                short=w.short,
            )
            for w in line.items
        ]
        self.waiting_count, self.waiting_open = line.total, line.open
        self.has_waitlist = s.capacity is not None or line.total > 0
        self.history = [
            HistoryLine(
                label=self.text(f"audit.{row.action}"),
                who=row.actor_name or "Visio",
                at=format_when(row.at, lang, tz),
                detail=self._history_detail(row),
            )
            for row in history
        ]

    def _fill_report(self, report: attendance_report.AttendanceReport) -> None:
        lang, tz = self.lang, self.viewer_tz
        self.report_measured = report.measured
        self.report_summary = self.text("report.summary", joined=report.joined, total=report.total)
        notes = [
            self.text("report.measured_hint", seconds=2 * settings.heartbeat_seconds)
            if report.measured
            else self.text("report.not_measured")
        ]
        if len(report.lines) < report.total:
            notes.append(self.text("report.truncated", shown=len(report.lines), total=report.total))
        self.report_note = " ".join(notes)
        self.report = [
            ReportLine(
                name=line.full_name,
                email=line.email,
                # The session's day is on the page: the time says enough.
                first_join=format_clock(line.first_joined_at, lang, tz)
                if line.first_joined_at
                else "—",
                minutes=self.text("report.minutes", n=line.minutes) if line.joined else "—",
                share=line.share_percent,
                share_label=f"{line.share_percent} %" if lang == "fr" else f"{line.share_percent}%",
                joined=line.joined,
                status_label=self.text("report.joined" if line.joined else "report.absent"),
            )
            for line in report.lines
        ]

    def _history_detail(self, row: roster.HistoryRow) -> str:
        data = row.data
        if row.action == "session.cancelled":
            return data.get("reason", "")
        if row.action == "purchase.refunded" or row.action == "session.escrow_released":
            return format_money(int(data.get("amount_cents", 0)), self.lang)
        if row.action == "session.edited":
            return ", ".join(self.text(f"field.{name}") for name in data.get("fields", []))
        return ""

    def _page_role(self) -> str | None:
        return Role.TEACHER

    @rx.event
    def on_load(self):
        self.loading, self.found = True, False
        self.cancel_open = self.delete_open = False
        # Nothing of a previously shown session (or user, on a shared tab) may linger.
        self.link, self.students, self.history, self.report = "", [], [], []
        self.waiting, self.waiting_count = [], 0
        self.can_join, self.tick_ms, self._next_change = False, 0, None
        self._session_id = self.route_session_id()
        self.current_id = self._session_id or 0
        redirect = self._load()
        if redirect is not None or not self.found:
            return redirect
        return MaterialsState.load_for(self.current_id)

    @rx.event
    def reload(self):
        return self._load()

    @rx.event
    def tick(self, _content: str = ""):
        """The page's timer: follow the status, and the live report while the room is open."""
        now = utcnow()
        passed = self._next_change is not None and now >= self._next_change
        if not (passed or self.can_join):
            self.tick_ms = tick_delay_ms(self._next_change, now)
            return None
        return self._load()

    @rx.event
    def join_room(self):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        if self._in_app:
            return rx.redirect(f"/sessions/{self._session_id}/room")
        try:
            with open_db() as db:
                joined = attendance.join(
                    db=db, actor=user, video_session_id=self._session_id, clock=utcnow
                )
        except DomainError as error:
            return rx.toast.error(self.message(error))
        return rx.redirect(joined.url, is_external=True)

    @rx.event
    def download_attendance(self):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        try:
            with open_db() as db:
                csv_file = attendance_report.attendance_csv(
                    db=db,
                    actor=user,
                    video_session_id=self._session_id,
                    lang=self.lang,
                    tz=self.viewer_tz,
                )
        except DomainError as error:
            return rx.toast.error(self.message(error))
        return rx.download(data=csv_file.content, filename=csv_file.filename, mime_type="text/csv")

    def _act(self, action, success_key: str, **params):  # type: ignore[no-untyped-def]
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        self.busy = True
        try:
            with open_db() as db:
                result = action(db=db, actor=user, video_session_id=self._session_id, **params)
        except DomainError as error:
            self.busy = False
            return rx.toast.error(self.message(error))
        self.busy = False
        return result, user

    @rx.event
    def publish(self):
        outcome = self._act(sessions.publish_session, "detail.published")
        if not isinstance(outcome, tuple):
            return outcome
        self._fill(outcome[1])
        return rx.toast.success(self.text("detail.published"))

    @rx.event
    def publish_series(self):
        """Publish every draft occurrence of this one's series still ahead."""
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        if self.busy or not self.series_id:
            return None
        self.busy = True
        try:
            with open_db() as db:
                published = series.publish_series(db=db, actor=user, series_id=self.series_id)
        except DomainError as error:
            self.busy = False
            return rx.toast.error(self.message(error))
        self.busy = False
        self._fill(user)
        return rx.toast.success(self.text("series.published_all", n=len(published)))

    @rx.event
    def set_cancel_open(self, is_open: bool):
        self.cancel_open, self.cancel_error, self.cancel_scope = is_open, "", "one"

    @rx.event
    def set_cancel_scope(self, value: str):
        self.cancel_scope = "future" if value == "future" else "one"

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason = value

    @rx.event
    def confirm_cancel(self):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        if self.series_id and self.cancel_scope == "future":
            return self._cancel_future(user)
        try:
            with open_db() as db:
                result = sessions.cancel_session(
                    db=db, actor=user, video_session_id=self._session_id, reason=self.cancel_reason
                )
        except DomainError as error:
            self.cancel_error = self.message(error)
            return
        self.cancel_open, self.cancel_reason = False, ""
        self._fill(user)
        return rx.toast.success(
            self.text(
                "detail.cancelled_toast",
                n=result.refunded_count,
                total=format_money(result.refunded_cents, self.lang),
            )
        )

    def _cancel_future(self, user):  # type: ignore[no-untyped-def]
        """Cancel this occurrence and every later one of its series (each refunded once)."""
        try:
            with open_db() as db:
                done = series.cancel_rest(
                    db=db,
                    actor=user,
                    series_id=self.series_id,
                    from_session_id=self._session_id,
                    reason=self.cancel_reason,
                )
        except DomainError as error:
            self.cancel_error = self.message(error)
            return None
        self.cancel_open, self.cancel_reason = False, ""
        self._fill(user)
        return rx.toast.success(
            self.text(
                "series.cancelled_future",
                count=len(done.cancelled),
                n=done.refunded_count,
                total=format_money(done.refunded_cents, self.lang),
            )
        )

    @rx.event
    def set_delete_open(self, is_open: bool):
        self.delete_open = is_open

    @rx.event
    def confirm_delete(self):
        outcome = self._act(sessions.delete_session, "detail.deleted")
        if not isinstance(outcome, tuple):
            self.delete_open = False
            return outcome
        self.delete_open = False
        return [
            rx.toast.success(self.text("detail.deleted")),
            rx.redirect("/teacher/video-sessions"),
        ]
