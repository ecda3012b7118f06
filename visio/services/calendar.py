"""An "Add to calendar" file for a session (iCalendar, RFC 5545).

The event itself is built by `ics` (shared with the mails): times in UTC, a stable UID and a
SEQUENCE that grows when the session moves, so importing it again updates the same event. The
platform link is never in it: the event points to the session's page, where "Rejoindre" hands
out the link to participants only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from visio.clock import Clock, utcnow
from visio.models import StoredStatus, User
from visio.services import ics
from visio.services.session_view import public_view


@dataclass(frozen=True)
class IcsFile:
    filename: str
    content: bytes


def session_ics(
    *, db: Session, actor: User | None, video_session_id: int, page_url: str, clock: Clock = utcnow
) -> IcsFile:
    """The .ics of a session the actor may see (same visibility as its page)."""
    view = public_view(db=db, actor=actor, video_session_id=video_session_id, clock=clock)
    session = view.session
    content = ics.session_calendar(
        session_id=session.id,  # type: ignore[arg-type]
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=session.timezone,
        page_url=page_url,
        sequence=ics.sequence(session.rescheduled_at, session.cancelled_at),
        stamp=clock(),
        cancelled=session.status == StoredStatus.CANCELLED,
        description=session.description,
    )
    return IcsFile(filename=ics.filename(session.id), content=content)  # type: ignore[arg-type]
