"""From what a teacher typed (strings) to a `SessionInput`, with every field's error at once.

The rules stay in `sessions.validate`; this module only parses text and, to report all fields
together while the teacher types, re-runs that one validation with each failing field replaced
by a harmless value until nothing fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from visio.models import Platform
from visio.services.errors import InvalidInput
from visio.services.sessions import SessionInput, parse_local_datetime, validate

_MONEY = re.compile(r"^(\d{1,7})(?:[.,](\d{1,2}))?$")


@dataclass
class SessionForm:
    """The create/edit form as typed: dates and numbers are still text."""

    title: str = ""
    description: str = ""
    date: str = ""  # YYYY-MM-DD, in `timezone`
    time: str = ""  # HH:MM
    timezone: str = "Europe/Paris"
    duration: str = "60"
    platform: str = Platform.JITSI
    link: str = ""
    is_paid: bool = False
    price: str = ""  # in currency units: "15", "15,50", "15.5"
    capacity: str = ""  # empty: unlimited
    deadline_date: str = ""  # empty: the start
    deadline_time: str = ""
    tags: list[str] = field(default_factory=list)
    min_participants: str = ""  # empty: no minimum
    decide_date: str = ""  # empty: a day before the start
    decide_time: str = ""


def parse_money_cents(text: str, *, field: str = "price") -> int:
    """ "15,50 €" -> 1550. Refuses negative numbers, thousands separators and more decimals."""
    cleaned = (text or "").replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    match = _MONEY.match(cleaned)
    if not match:
        raise InvalidInput("price_invalid", field=field)
    units, cents = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(units) * 100 + int(cents)


def parse_int(text: str, *, field: str) -> int | None:
    """A whole number, or None for an empty field."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if not re.fullmatch(r"\d{1,6}", cleaned):
        raise InvalidInput("number_invalid", field=field)
    return int(cleaned)


def _when(date: str, time: str, tz: str, field: str) -> datetime:
    if not date.strip() or not time.strip():
        raise InvalidInput("datetime_required", field=field)
    return parse_local_datetime(f"{date.strip()}T{time.strip()}", tz, field=field)


def _deadline(form: SessionForm) -> datetime | None:
    if not form.deadline_date.strip():
        return None
    return _when(
        form.deadline_date, form.deadline_time or "23:59", form.timezone, "enrollment_deadline"
    )


def _decide_at(form: SessionForm) -> datetime | None:
    if not form.decide_date.strip():
        return None
    return _when(form.decide_date, form.decide_time or "18:00", form.timezone, "decide_at")


def parse_form(form: SessionForm) -> SessionInput:
    """The typed form as a `SessionInput`; the first unparsable field raises."""
    duration = parse_int(form.duration, field="duration_minutes")
    if duration is None:
        raise InvalidInput("number_invalid", field="duration_minutes")
    deadline = _deadline(form)
    return SessionInput(
        title=form.title,
        description=form.description,
        starts_at=_when(form.date, form.time, form.timezone, "starts_at"),
        duration_minutes=duration,
        timezone=form.timezone,
        platform=form.platform,
        link=form.link,
        is_paid=form.is_paid,
        price_cents=parse_money_cents(form.price) if form.is_paid else 0,
        capacity=parse_int(form.capacity, field="capacity"),
        enrollment_deadline=deadline,
        tags=list(form.tags),
        min_participants=parse_int(form.min_participants, field="min_participants"),
        decide_at=_decide_at(form),
    )


def edit_moves(form: SessionForm, before: SessionInput) -> tuple[bool, bool]:
    """Whether an edit form moves the start (or duration), and the deadline; unreadable: moved.

    Each is read on its own: an unreadable price must not make an unchanged start look moved
    (and so "in the past" on a session that has started).
    """
    try:
        start = _when(form.date, form.time, form.timezone, "starts_at")
        duration = parse_int(form.duration, field="duration_minutes")
        start_changed = (start, duration) != (before.starts_at, before.duration_minutes)
    except InvalidInput:
        start_changed = True
    try:
        deadline_changed = _deadline(form) != before.enrollment_deadline
    except InvalidInput:
        deadline_changed = True
    return start_changed, deadline_changed


def minimum_moves(form: SessionForm, before: SessionInput) -> bool:
    """Whether an edit form changes the minimum or its decision time; unreadable: changed."""
    try:
        minimum = parse_int(form.min_participants, field="min_participants")
        decide_at = _decide_at(form)
    except InvalidInput:
        return True
    if minimum is None:
        return before.min_participants is not None
    shown = before.decide_at.replace(second=0, microsecond=0) if before.decide_at else None
    return (minimum, decide_at) != (before.min_participants, shown)


def _harmless(data: SessionInput, field: str, now: datetime) -> SessionInput:
    """`data` with one field set to a value that passes every rule."""
    start = max(data.starts_at, now + timedelta(days=1)) if data.starts_at else now
    values = {
        "title": {"title": "Valid title"},
        "description": {"description": ""},
        "timezone": {"timezone": "UTC"},
        # The deadline stays: its own error (in the past, after the start) is still reported.
        "starts_at": {"starts_at": now + timedelta(days=1)},
        "duration_minutes": {"duration_minutes": 60},
        "platform": {"platform": Platform.JITSI, "link": ""},
        "link": {"platform": Platform.JITSI, "link": ""},
        "capacity": {"capacity": None},
        "enrollment_deadline": {"enrollment_deadline": None, "starts_at": start},
        "price": {"is_paid": False, "price_cents": 0},
        "tags": {"tags": []},
        "min_participants": {"min_participants": None, "decide_at": None},
        "decide_at": {"decide_at": None, "starts_at": max(start, now + timedelta(days=2))},
    }.get(field)
    if values is None:
        raise RuntimeError(f"no harmless value for {field}")
    return replace(data, **values)


def form_errors(
    form: SessionForm,
    *,
    now: datetime,
    start_changed: bool = True,
    deadline_changed: bool = True,
    decide_changed: bool = True,
) -> dict[str, InvalidInput]:
    """Every field's error (at most one each), for showing next to the fields."""
    errors: dict[str, InvalidInput] = {}
    # Parse field by field so that one unreadable date does not hide the other errors.
    parsed = {}
    for name, parse in (
        ("duration_minutes", lambda: parse_int(form.duration, field="duration_minutes") or 0),
        ("capacity", lambda: parse_int(form.capacity, field="capacity")),
        ("price", lambda: parse_money_cents(form.price) if form.is_paid else 0),
        ("starts_at", lambda: _when(form.date, form.time, form.timezone, "starts_at")),
        ("enrollment_deadline", lambda: _deadline(form)),
        ("min_participants", lambda: parse_int(form.min_participants, field="min_participants")),
        ("decide_at", lambda: _decide_at(form)),
    ):
        try:
            parsed[name] = parse()
        except InvalidInput as error:
            errors[error.field or name] = error
    data = SessionInput(
        title=form.title,
        description=form.description,
        starts_at=parsed.get("starts_at") or now + timedelta(days=1),
        duration_minutes=parsed.get("duration_minutes", 60)
        if "duration_minutes" not in errors
        else 60,
        timezone=form.timezone,
        platform=form.platform,
        link=form.link,
        is_paid=form.is_paid and "price" not in errors,
        price_cents=parsed.get("price", 0),
        capacity=parsed.get("capacity"),
        enrollment_deadline=parsed.get("enrollment_deadline"),
        tags=list(form.tags),
        min_participants=parsed.get("min_participants"),
        decide_at=parsed.get("decide_at"),
    )
    for _ in range(16):
        try:
            validate(
                data,
                now=now,
                start_changed=start_changed,
                deadline_changed=deadline_changed,
                decide_changed=decide_changed,
            )
            break
        except InvalidInput as error:
            name = error.field or "form"
            errors.setdefault(name, error)
            data = _harmless(data, name, now)
    return errors
