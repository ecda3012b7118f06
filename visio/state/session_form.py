"""The create / edit session dialog: the form as typed, its errors, open or not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db
from visio.i18n.formatting import format_when
from visio.models import Platform, Role, StoredStatus, User
from visio.services import materials, series, sessions
from visio.services.errors import DomainError, InvalidInput, NotAuthenticated
from visio.services.roster import owned_session
from visio.services.session_edit import MAX_POSTPONE_DAYS, current_input, update_session
from visio.services.session_form import (
    SessionForm,
    edit_moves,
    form_errors,
    minimum_moves,
    parse_form,
)
from visio.settings import settings
from visio.state.app import AppState

# A series: the "Repeat" choice of the create dialog, and the scope of an occurrence's edit.
REPEAT_FIELDS = (
    "repeat_mode",
    "repeat_every",
    "repeat_end",
    "repeat_count",
    "repeat_until",
    "edit_scope",
)
PREVIEW_SHOWN = 6
TEXT_FIELDS = (
    "title",
    "description",
    "date",
    "time",
    "duration",
    "platform",
    "link",
    "price",
    "capacity",
    "deadline_date",
    "deadline_time",
    "min_participants",
    "decide_date",
    "decide_time",
    "tag_input",
    "material_title",
    "material_url",
    *REPEAT_FIELDS,
)
# Form field -> the service's field name in its errors.
ERROR_FIELD = {
    "date": "starts_at",
    "time": "starts_at",
    "duration": "duration_minutes",
    "deadline_date": "enrollment_deadline",
    "deadline_time": "enrollment_deadline",
    "decide_date": "decide_at",
    "decide_time": "decide_at",
    "tag_input": "tags",
    **{name: "repeat" for name in REPEAT_FIELDS},
}


class SessionFormState(AppState):
    dialog_open: bool = False
    editing: bool = False
    show_advanced: bool = False
    saving: bool = False

    title: str = ""
    description: str = ""
    date: str = ""
    time: str = ""
    duration: str = "60"
    platform: str = Platform.JITSI
    link: str = ""
    is_paid: bool = False
    price: str = ""
    capacity: str = ""
    deadline_date: str = ""
    deadline_time: str = ""
    min_participants: str = ""
    decide_date: str = ""
    decide_time: str = ""
    tags: list[str] = []
    tag_input: str = ""
    material_links: list[dict[str, str]] = []
    material_title: str = ""
    material_url: str = ""
    material_error: str = ""

    errors: dict[str, str] = {}
    form_error: str = ""
    move_note: str = ""  # students are enrolled: the rules a move must keep
    repeat_mode: str = "none"  # none | weekly | days
    repeat_every: str = "2"
    repeat_end: str = "count"  # count | until
    repeat_count: str = "4"
    repeat_until: str = ""
    in_series: bool = False  # editing an occurrence of a series
    edit_scope: str = "one"  # one | future
    _touched: set[str] = set()
    _editing_id: int | None = None
    _form_tz: str = ""

    @rx.var
    def form_tz(self) -> str:
        return self._form_tz or self.viewer_tz

    @rx.var
    def repeat_preview(self) -> list[str]:
        """The dates a series would have, in the viewer's language (the first few)."""
        starts = self._series_starts()
        shown = [format_when(s, self.lang, self.form_tz) for s in starts[:PREVIEW_SHOWN]]
        if len(starts) > PREVIEW_SHOWN:
            shown.append(self.text("series.preview_more", n=len(starts) - PREVIEW_SHOWN))
        return shown

    @rx.var
    def repeat_count_label(self) -> str:
        starts = self._series_starts()
        return self.text("series.preview", n=len(starts)) if starts else ""

    def _repeat(self) -> series.Repeat | None:
        if self.editing:
            return None
        return series.parse_repeat(
            mode=self.repeat_mode,
            every_days=self.repeat_every,
            end=self.repeat_end,
            count=self.repeat_count,
            until=self.repeat_until,
        )

    def _series_starts(self) -> list:  # type: ignore[type-arg]
        try:
            repeat = self._repeat()
            if repeat is None:
                return []
            start = parse_form(self._form()).starts_at
            return series.occurrence_starts(start, self.form_tz, repeat)
        except (DomainError, ValueError):
            return []

    def _form(self) -> SessionForm:
        return SessionForm(
            title=self.title,
            description=self.description,
            date=self.date,
            time=self.time,
            timezone=self.form_tz,
            duration=self.duration,
            platform=self.platform,
            link=self.link,
            is_paid=self.is_paid,
            price=self.price,
            capacity=self.capacity,
            deadline_date=self.deadline_date,
            deadline_time=self.deadline_time,
            tags=list(self.tags),
            min_participants=self.min_participants,
            decide_date=self.decide_date,
            decide_time=self.decide_time,
        )

    def _recheck(self, everything: bool = False) -> bool:
        """Show the errors of the fields touched so far (all on submit); True when none."""
        now = utcnow()
        start_changed = deadline_changed = decide_changed = True
        if self.editing and self._editing_id is not None:
            try:
                with open_db() as db:
                    user = self._user(db)
                    before = current_input(db, owned_session(db, user, self._editing_id))
                start_changed, deadline_changed = edit_moves(self._form(), before)
                decide_changed = minimum_moves(self._form(), before)
            except DomainError:
                pass  # gone or not theirs any more: saving says so
        found = form_errors(
            self._form(),
            now=now,
            start_changed=start_changed,
            deadline_changed=deadline_changed,
            decide_changed=decide_changed,
        )
        try:
            repeat = self._repeat()
            if repeat is not None and "starts_at" not in found:
                series.occurrence_starts(parse_form(self._form()).starts_at, self.form_tz, repeat)
        except DomainError as error:
            if isinstance(error, InvalidInput):
                found = {**found, "repeat": error}
        shown = found if everything else {k: v for k, v in found.items() if k in self._touched}
        self.errors = {k: self.message(v) for k, v in shown.items()}
        return not found

    def _user(self, db):  # type: ignore[no-untyped-def]
        user = db.get(User, self._user_id) if self._user_id else None
        if user is None:
            raise NotAuthenticated()
        return user

    def _reset(self) -> None:
        self.title = self.description = self.link = self.price = self.capacity = ""
        self.deadline_date = self.deadline_time = self.tag_input = ""
        self.min_participants = self.decide_date = self.decide_time = ""
        self.duration, self.platform, self.is_paid, self.tags = "60", Platform.JITSI, False, []
        self.errors, self.form_error, self._touched = {}, "", set()
        self.move_note = ""
        self.repeat_mode, self.repeat_every, self.repeat_end = "none", "2", "count"
        self.repeat_count, self.repeat_until = "4", ""
        self.in_series, self.edit_scope = False, "one"
        self.saving = self.show_advanced = False
        self._form_tz = ""
        self.material_links, self.material_title, self.material_url = [], "", ""
        self.material_error = ""

    @rx.event
    def open_create(self):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        self._reset()
        self.editing, self._editing_id = False, None
        tomorrow = utcnow().astimezone(ZoneInfo(self.form_tz)) + timedelta(days=1)
        self.date, self.time = tomorrow.strftime("%Y-%m-%d"), "18:00"
        self.dialog_open = True

    @rx.event
    def open_edit(self, session_id: int):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        self._reset()
        try:
            with open_db() as db:
                session = owned_session(db, user, int(session_id))
                data = current_input(db, session)
        except DomainError as error:
            return rx.toast.error(self.message(error))
        self._form_tz = data.timezone
        zone = ZoneInfo(data.timezone)
        start = data.starts_at.astimezone(zone)
        self.title, self.description = data.title, data.description
        self.date, self.time = start.strftime("%Y-%m-%d"), start.strftime("%H:%M")
        self.duration, self.platform, self.link = (
            str(data.duration_minutes),
            data.platform,
            data.link,
        )
        self.is_paid = data.is_paid
        self.price = (
            f"{data.price_cents // 100},{data.price_cents % 100:02d}" if data.is_paid else ""
        )
        self.capacity = "" if data.capacity is None else str(data.capacity)
        if data.enrollment_deadline is not None:
            deadline = data.enrollment_deadline.astimezone(zone)
            self.deadline_date = deadline.strftime("%Y-%m-%d")
            self.deadline_time = deadline.strftime("%H:%M")
        self.tags = list(data.tags)
        if data.min_participants is not None and data.decide_at is not None:
            self.min_participants = str(data.min_participants)
            decide = data.decide_at.astimezone(zone)
            self.decide_date = decide.strftime("%Y-%m-%d")
            self.decide_time = decide.strftime("%H:%M")
        self.show_advanced = bool(
            data.is_paid
            or data.capacity
            or data.enrollment_deadline
            or data.tags
            or data.min_participants
        )
        if session.status == StoredStatus.SCHEDULED and session.enrolled_count:
            self.move_note = self.text(
                "form.move_rules",
                n=session.enrolled_count,
                hours=settings.min_notice_hours,
                days=MAX_POSTPONE_DAYS,
            )
        self.in_series = session.series_id is not None
        self.editing, self._editing_id = True, session.id
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, is_open: bool):
        self.dialog_open = is_open

    @rx.event
    def toggle_advanced(self):
        self.show_advanced = not self.show_advanced

    @rx.event
    def set_value(self, name: str, value: str):
        if name not in TEXT_FIELDS:
            return
        setattr(self, name, value if isinstance(value, str) else str(value))
        if name in ("tag_input", "material_title", "material_url"):
            self.material_error = ""
            return
        field = ERROR_FIELD.get(name, name)
        if field in self.errors:
            self._touched.add(field)
            self._recheck()

    @rx.event
    def touch(self, name: str):
        """A field lost focus: from now on its errors show as the user types."""
        if name in TEXT_FIELDS and name != "tag_input":
            self._touched.add(ERROR_FIELD.get(name, name))
            self._recheck()

    @rx.event
    def set_paid(self, paid: bool):
        self.is_paid = bool(paid)
        if not self.is_paid:
            self.errors = {k: v for k, v in self.errors.items() if k != "price"}

    @rx.event
    def add_tag(self):
        for part in self.tag_input.split(","):
            tag = " ".join(part.split()).lower().lstrip("#")
            if tag and tag not in self.tags:
                self.tags = [*self.tags, tag]
        self.tag_input = ""
        self._touched.add("tags")
        self._recheck()

    @rx.event
    def tag_key(self, key: str):
        if key in ("Enter", ","):
            return SessionFormState.add_tag

    @rx.event
    def remove_tag(self, tag: str):
        self.tags = [t for t in self.tags if t != tag]
        self._recheck()

    @rx.event
    def add_material_link(self):
        """Keep a link to share once the session exists (checked now, by the service's rules)."""
        try:
            title, url = materials.clean_link(
                self.material_title or self.material_url, self.material_url
            )
        except DomainError as error:
            self.material_error = self.message(error)
            return
        self.material_links = [*self.material_links, {"title": title, "url": url}]
        self.material_title = self.material_url = self.material_error = ""

    @rx.event
    def remove_material_link(self, index: int):
        self.material_links = [
            link for position, link in enumerate(self.material_links) if position != int(index)
        ]

    def _add_links(self, db, user, session_id: int) -> None:  # type: ignore[no-untyped-def]
        for link in self.material_links:
            materials.add_link(
                db=db, actor=user, video_session_id=session_id, title=link["title"], url=link["url"]
            )

    @rx.event
    def submit(self, publish: bool = False):
        user, redirect = self.guard(Role.TEACHER)
        if user is None:
            return redirect
        if self.tag_input.strip():
            self.add_tag()
        self.form_error = ""
        if not self._recheck(everything=True):
            self.show_advanced = self.show_advanced or any(
                k in self.errors
                for k in (
                    "price",
                    "capacity",
                    "enrollment_deadline",
                    "tags",
                    "min_participants",
                    "decide_at",
                )
            )
            return
        self.saving = True
        try:
            data = parse_form(self._form())
            with open_db() as db:
                repeat = self._repeat()
                if self.editing and self._editing_id is not None and self.edit_scope == "future":
                    edited = series.update_future(
                        db=db, actor=user, video_session_id=self._editing_id, data=data
                    )
                    message = self.text("series.saved_future", n=len(edited))
                elif self.editing and self._editing_id is not None:
                    before = current_input(db, owned_session(db, user, self._editing_id))
                    if not minimum_moves(self._form(), before):  # the form shows minutes only
                        data = replace(
                            data,
                            min_participants=before.min_participants,
                            decide_at=before.decide_at,
                        )
                    session = update_session(
                        db=db, actor=user, video_session_id=self._editing_id, data=data
                    )
                    message = self.text("form.saved")
                elif repeat is not None:
                    made = series.create_series(
                        db=db, actor=user, data=data, repeat=repeat, publish=publish
                    )
                    session = made.occurrences[0]
                    for occurrence in made.occurrences:
                        self._add_links(db, user, occurrence.id)
                    key = "series.created_published" if publish else "series.created"
                    message = self.text(key, n=len(made.occurrences))
                else:
                    session = sessions.create_session(db=db, actor=user, data=data)
                    self._add_links(db, user, session.id)
                    message = self.text("form.created_draft")
                    if publish:
                        sessions.publish_session(db=db, actor=user, video_session_id=session.id)
                        message = self.text("form.created_published")
        except DomainError as error:
            self.saving = False
            if error.field:
                self.errors = {**self.errors, error.field: self.message(error)}
            else:
                self.form_error = self.message(error)
            return
        self.saving = False
        self.dialog_open = False
        from visio.state.session_detail import SessionDetailState

        if self.editing:
            return [rx.toast.success(message), SessionDetailState.reload]
        return [rx.toast.success(message), rx.redirect(f"/teacher/video-sessions/{session.id}")]
