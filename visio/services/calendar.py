"""An "Add to calendar" file for a session (iCalendar, RFC 5545).

Times are in UTC; the session's own zone travels as X-WR-TIMEZONE. The UID is stable, so
importing the file again updates the same event. The platform link is never in it: the event
points to the session's page, where "Rejoindre" hands out the link to participants only.
"""

from __future__ import annotations

from dataclasses import dataclass

from icalendar import Calendar, Event
from sqlmodel import Session

from visio.clock import Clock, utcnow
from visio.models import StoredStatus, User
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
    calendar = Calendar()
    calendar.add("prodid", "-//Visio//Sessions Visio//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-timezone", session.timezone)
    event = Event()
    event.add("uid", f"visio-session-{session.id}@visio")
    event.add("dtstamp", clock())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", session.title)
    description = "\n\n".join(part for part in (session.description, page_url) if part)
    event.add("description", description)
    event.add("url", page_url)
    event.add("status", "CANCELLED" if session.status == StoredStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return IcsFile(filename=f"visio-session-{session.id}.ics", content=calendar.to_ical())
