"""/sessions/[session_id]/room: the in-app Jitsi room, its heartbeat and leaving it.

The iframe address (the meeting URL, with this participant's own JWT when set up) is put in
`room_src` only after `attendance.join` accepted this user, and cleared when they leave: state is
per browser tab, so it reaches this participant and no one else.
"""

from __future__ import annotations

import reflex as rx

from visio.clock import utcnow
from visio.db import open_db
from visio.services import attendance, jitsi
from visio.services.errors import DomainError
from visio.settings import settings
from visio.state.app import AppState

HEARTBEAT_MS = settings.heartbeat_seconds * 1000


class RoomState(AppState):
    loading: bool = True
    room_src: str = ""
    title: str = ""
    back_href: str = "/"
    ended: bool = False
    current_id: int = 0
    _session_id: int | None = None
    _joined: bool = False

    def _close(self) -> None:
        self.room_src, self.ended, self._joined = "", False, False

    def _refused(self, error: DomainError):  # type: ignore[no-untyped-def]
        self._close()
        return [rx.toast.error(self.message(error)), rx.redirect(self.back_href)]

    @rx.event
    def on_load(self):
        self.loading, self.title = True, ""
        self._close()
        self._session_id = self.route_session_id()
        self.current_id = self._session_id or 0
        self.back_href = f"/sessions/{self.current_id}"
        user, redirect = self.guard()
        if user is None:
            self.loading = False
            return redirect
        try:
            with open_db() as db:
                joined = attendance.join(
                    db=db,
                    actor=user,
                    video_session_id=self._session_id or 0,
                    clock=utcnow,
                    in_app=True,
                )
        except DomainError as error:
            self.loading = False
            return self._refused(error)
        session = joined.session
        assert session is not None
        self.title = session.title
        if joined.is_owner:
            self.back_href = f"/teacher/video-sessions/{self.current_id}"
        self.room_src = jitsi.embed_url(joined.url, display_name=user.full_name, lang=self.lang)
        self._joined, self.loading = True, False
        return None

    @rx.event
    def heartbeat(self, _content: str = ""):
        """Every HEARTBEAT_MS while the room is shown (and once when it appears)."""
        if not self._joined:
            return None
        user, redirect = self.guard()
        if user is None:
            self._close()
            return redirect
        try:
            with open_db() as db:
                presence = attendance.heartbeat(
                    db=db, actor=user, video_session_id=self._session_id or 0, clock=utcnow
                )
        except DomainError as error:
            return self._refused(error)
        self.ended = presence.ended
        return None

    def _record_leave(self) -> None:
        if not self._joined:
            return
        self._close()
        user = self.current_user()
        if user is None:
            return
        try:
            with open_db() as db:
                attendance.leave(
                    db=db, actor=user, video_session_id=self._session_id or 0, clock=utcnow
                )
        except DomainError:
            pass  # nothing to record: the page is going away either way

    @rx.event
    def leave(self):
        """The "Leave" button."""
        self._record_leave()
        return [rx.toast.info(self.text("room.left")), rx.redirect(self.back_href)]

    @rx.event
    def page_closed(self):
        """The room page went away (navigation inside the app)."""
        self._record_leave()
