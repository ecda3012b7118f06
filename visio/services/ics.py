"""One iCalendar event builder (RFC 5545), shared by the page's "Add to calendar" download and
the mails' attachments, so both describe the same event: the same UID, and a SEQUENCE that grows
each time the session moves or is cancelled, so calendars update the event they already hold.

Times are in UTC; the session's own zone travels as X-WR-TIMEZONE. The platform link is never
in it: the event points to the session's page in Visio.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText


def uid(session_id: int) -> str:
    return f"visio-session-{session_id}@visio"


def filename(session_id: int) -> str:
    return f"visio-session-{session_id}.ics"


def sequence(rescheduled_at: datetime | None, cancelled_at: datetime | None) -> int:
    """The event's SEQUENCE, derived from the session's history (no column of its own):
    0 until it moves; the move's time (epoch seconds) after; above that once cancelled."""
    value = int(rescheduled_at.timestamp()) if rescheduled_at else 0
    if cancelled_at is not None:
        value = max(value, int(cancelled_at.timestamp())) + 1
    return value


def session_calendar(
    *,
    session_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    page_url: str,
    sequence: int,
    stamp: datetime,
    cancelled: bool = False,
    description: str = "",
    method: str | None = None,
    organizer: str | None = None,
) -> bytes:
    """The .ics of one session. `method` (REQUEST, CANCEL) for a calendar sent by mail, with
    `organizer` (Visio's own address: never a person's)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Visio//Sessions Visio//FR")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-timezone", timezone)
    event = Event()
    event.add("uid", uid(session_id))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("summary", title)
    event.add("description", "\n\n".join(part for part in (description, page_url) if part))
    event.add("url", page_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if organizer:
        address = vCalAddress(f"mailto:{organizer}")
        address.params["cn"] = vText("Visio")
        event.add("organizer", address)
    calendar.add_component(event)
    return calendar.to_ical()
