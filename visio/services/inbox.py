"""The notices a user sees in the app (the bell and /notifications): one page at a time, newest
first, each worded in the viewer's language; unread counts; marking read.

The list is the outbox itself (`Notice` rows), restricted to the user's own rows of the kinds
`mail.KINDS` marks `in_app` (a reset link or an account mail is not listed). A notice whose mail
was turned off (`skipped`) or refused is listed all the same: the app is where it still reaches
its reader. Kinds are read from their metadata on each call, so a kind added later is listed
with its mail's subject as its title, and a detail line when its data has a start time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.i18n import CATALOGS, LANGUAGES, t
from visio.i18n.formatting import format_money, format_when
from visio.models import Notice, Role, User
from visio.services import mail
from visio.services.errors import InvalidInput, NotAuthenticated
from visio.settings import settings

MAX_PAGE_SIZE = 50
MAX_IDS = 100  # ids marked read in one call
WALLET_KINDS = ("payout_paid", "payout_refused")  # notices about no session: they lead to /wallet


@dataclass(frozen=True)
class InboxItem:
    """One notice as the viewer reads it."""

    id: int
    kind: str
    title: str
    detail: str  # "" when there is nothing more to say than the title
    created_at: datetime
    read: bool
    session_id: int | None
    path: str | None  # the page it is about, in Visio; None when it is about no session


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    total: int
    unread: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def in_app_kinds() -> list[str]:
    """The kinds of notice listed in the app, from the mail registry's metadata."""
    return sorted(kind for kind, spec in mail.KINDS.items() if spec.in_app)


def _mine(user_id: int) -> list[Any]:
    return [Notice.user_id == user_id, Notice.kind.in_(in_app_kinds())]  # type: ignore[attr-defined]


def unread_count(db: Session, user_id: int) -> int:
    """How many of the user's in-app notices are unread: one COUNT on ix_notices_inbox."""
    return int(
        db.exec(
            select(func.count())
            .select_from(Notice)
            .where(*_mine(user_id), Notice.read_at.is_(None))  # type: ignore[union-attr]
        ).one()
    )


def inbox_page(
    *,
    db: Session,
    actor: User | None,
    page: int = 1,
    page_size: int = 20,
    lang: str | None = None,
    tz: str | None = None,
) -> InboxPage:
    """One page of the actor's notices, newest first, in `lang` with times in `tz` (default:
    the account's language, and its zone or else the one the notice was written for)."""
    if actor is None or actor.id is None:
        raise NotAuthenticated()
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    lang = lang if lang in LANGUAGES else _account_language(actor)
    tz = tz or actor.timezone
    total, unread = db.exec(
        select(func.count(), func.count().filter(Notice.read_at.is_(None)))  # type: ignore[union-attr]
        .select_from(Notice)
        .where(*_mine(actor.id))
    ).one()
    rows = db.exec(
        select(Notice)
        .where(*_mine(actor.id))
        .order_by(Notice.created_at.desc(), Notice.id.desc())  # type: ignore[attr-defined, union-attr]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [present(notice, role=actor.role, lang=lang, tz=tz) for notice in rows]
    return InboxPage(items, int(total), int(unread), page, page_size)


def mark_read(*, db: Session, actor: User | None, ids: Iterable[int], clock: Clock = utcnow) -> int:
    """Mark these of the actor's notices read (ids of anyone else's are ignored): the new
    unread count."""
    if actor is None or actor.id is None:
        raise NotAuthenticated()
    wanted = {int(i) for i in ids}
    if len(wanted) > MAX_IDS:
        raise InvalidInput("too_many_ids", field="ids", max=MAX_IDS)
    if wanted:
        _mark(db, actor.id, clock(), Notice.id.in_(wanted))  # type: ignore[union-attr]
    return unread_count(db, actor.id)


def mark_all_read(*, db: Session, actor: User | None, clock: Clock = utcnow) -> int:
    """Mark every notice of the actor read: the new unread count (0)."""
    if actor is None or actor.id is None:
        raise NotAuthenticated()
    _mark(db, actor.id, clock())
    return unread_count(db, actor.id)


def _mark(db: Session, user_id: int, at: datetime, *where: Any) -> None:
    db.execute(
        update(Notice)
        .where(*_mine(user_id), Notice.read_at.is_(None), *where)  # type: ignore[union-attr]
        .values(read_at=at)
    )
    db.commit()


def _account_language(user: User) -> str:
    return user.locale if user.locale in LANGUAGES else settings.default_locale


# --- wording ----------------------------------------------------------------------------------


def present(notice: Notice, *, role: str, lang: str, tz: str | None) -> InboxItem:
    """A notice as its reader sees it in the list."""
    data = notice.data or {}
    spec = mail.KINDS.get(notice.kind)
    own_title = f"inbox.{notice.kind}.title"
    if own_title in CATALOGS.get(lang, {}):
        title = t(own_title, lang, title=data.get("title", ""))
    elif spec is not None:
        title = t(spec.subject_key, lang, title=data.get("title", ""))
    else:
        title = data.get("title", "") or notice.kind
    session_id = data.get("session_id")
    session_id = session_id if isinstance(session_id, int) else None
    return InboxItem(
        id=notice.id,  # type: ignore[arg-type]
        kind=notice.kind,
        title=title,
        detail=_detail(notice.kind, data, lang, tz or data.get("tz")),
        created_at=notice.created_at,
        read=notice.read_at is not None,
        session_id=session_id,
        path=_path(session_id, spec.audience if spec else "", role)
        or _series_path(data.get("series_id"))
        or ("/wallet" if notice.kind in WALLET_KINDS else None),
    )


def _path(session_id: int | None, audience: str, role: str) -> str | None:
    if session_id is None:
        return None
    teacher = audience == "teacher" or (audience == "" and role == Role.TEACHER)
    return f"/teacher/video-sessions/{session_id}" if teacher else f"/sessions/{session_id}"


def _series_path(series_id: Any) -> str | None:
    """A notice about a whole series (no one session) leads to the series' page."""
    return f"/series/{series_id}" if isinstance(series_id, int) else None


class _Words:
    """Formatting of a notice's data for one reader; a missing or malformed field gives ""."""

    def __init__(self, data: dict[str, Any], lang: str, tz: str | None) -> None:
        self.data, self.lang, self.tz = data, lang, tz

    def when(self, name: str) -> str:
        try:
            return format_when(datetime.fromisoformat(self.data[name]), self.lang, self.tz)
        except (KeyError, TypeError, ValueError):
            return ""

    def money(self, name: str) -> str:
        cents = self.data.get(name)
        if not isinstance(cents, int) or isinstance(cents, bool) or cents <= 0:
            return ""
        return format_money(cents, self.lang, self.data.get("currency"))

    def t(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)


def _parts(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _starts(w: _Words) -> str:
    when = w.when("starts_at")
    return w.t("inbox.detail.starts", when=when) if when else ""


def _enrolled(w: _Words) -> str:
    paid = w.money("paid_cents")
    return _parts(_starts(w), w.t("inbox.detail.paid", amount=paid) if paid else "")


def _unenrolled(w: _Words) -> str:
    refunded = w.money("refunded_cents")
    return w.t("inbox.detail.refunded", amount=refunded) if refunded else ""


def _cancelled(w: _Words) -> str:
    refunded = w.money("refunded_cents")
    if w.data.get("automatic") is True:  # too few participants: no teacher's reason to show
        why = w.t("inbox.detail.cancelled_automatic")
    else:
        reason = str(w.data.get("reason") or "").strip()
        why = w.t("inbox.detail.reason", reason=reason) if reason else ""
    return _parts(why, w.t("inbox.detail.refunded", amount=refunded) if refunded else "")


def _moved(w: _Words) -> str:
    new, old = w.when("starts_at"), w.when("old_starts_at")
    if new and old:
        return w.t("inbox.detail.moved", when=new, old=old)
    return _starts(w)


def _new_enrollment(w: _Words) -> str:
    student = str(w.data.get("student") or "")
    taken, capacity = w.data.get("taken"), w.data.get("capacity")
    if not student or not isinstance(taken, int):
        return _starts(w)
    if not isinstance(capacity, int):  # no limit
        return w.t("inbox.detail.enrolled", student=student, taken=taken)
    return w.t("inbox.detail.seats", student=student, taken=taken, capacity=capacity)


def _full(w: _Words) -> str:
    capacity = w.data.get("capacity")
    if not isinstance(capacity, int):
        return ""
    return (
        w.t("inbox.detail.full_one")
        if capacity == 1
        else w.t("inbox.detail.full", capacity=capacity)
    )


def _payout(w: _Words) -> str:
    amount = w.money("amount_cents")
    return w.t("inbox.detail.payout", amount=amount) if amount else ""


def _payout_paid(w: _Words) -> str:
    amount, reference = w.money("amount_cents"), str(w.data.get("reference") or "")
    return w.t("inbox.detail.payout_paid", amount=amount, reference=reference) if amount else ""


def _payout_refused(w: _Words) -> str:
    amount, reason = w.money("amount_cents"), str(w.data.get("reason") or "")
    return w.t("inbox.detail.payout_refused", amount=amount, reason=reason) if amount else ""


def _material(w: _Words) -> str:
    material = str(w.data.get("material") or "").strip()
    return w.t("inbox.detail.material", material=material) if material else ""


def _digest(w: _Words) -> str:
    sessions = w.data.get("sessions")
    if not isinstance(sessions, list):
        return ""
    count = sum(s.get("count", 0) for s in sessions if isinstance(s, dict))
    return w.t("inbox.detail.digest", count=count) if count else ""


def _short(w: _Words) -> str:
    missing = w.money("missing_cents")
    return w.t("inbox.detail.short", amount=missing) if missing else ""


def _waitlist_closed(w: _Words) -> str:
    reason = str(w.data.get("reason") or "").strip()
    return _parts(
        w.t("inbox.detail.waitlist_closed"),
        w.t("inbox.detail.reason", reason=reason) if reason else "",
    )


def _minimum_warning(w: _Words) -> str:
    needed, when = w.data.get("needed"), w.when("decide_at")
    if not isinstance(needed, int) or not when:
        return _starts(w)
    return w.t("inbox.detail.minimum_needed", needed=needed, when=when)


def _minimum_cancelled(w: _Words) -> str:
    enrolled, minimum = w.data.get("enrolled"), w.data.get("min_participants")
    if not isinstance(enrolled, int) or not isinstance(minimum, int):
        return ""
    return w.t("inbox.detail.minimum_cancelled", enrolled=enrolled, min=minimum)


def _series_enrolled(w: _Words) -> str:
    starts, paid = w.data.get("starts"), w.money("paid_cents")
    if not isinstance(starts, list):
        return ""
    return _parts(
        w.t("inbox.detail.sessions", n=len(starts)),
        w.t("inbox.detail.paid", amount=paid) if paid else "",
    )


DETAILS: dict[str, Callable[[_Words], str]] = {
    "new_enrollment": _new_enrollment,
    "session_full": _full,
    "payout_released": _payout,
    "payout_paid": _payout_paid,
    "payout_refused": _payout_refused,
    "material_shared": _material,
    "enrollment_digest": _digest,
    "enrollment_confirmed": _enrolled,
    "unenrolled": _unenrolled,
    "session_cancelled": _cancelled,
    "session_moved": _moved,
    "waitlist_promoted": _enrolled,
    "waitlist_short": _short,
    "waitlist_closed": _waitlist_closed,
    "minimum_warning": _minimum_warning,
    "minimum_cancelled": _minimum_cancelled,
    "series_enrolled": _series_enrolled,
}


def _detail(kind: str, data: dict[str, Any], lang: str, tz: str | None) -> str:
    """The line under the title: per kind where one is known, else the start if there is one."""
    words = _Words(data, lang, tz)
    try:
        return DETAILS.get(kind, _starts)(words)
    except Exception:  # a row written by an older or newer version: its title is enough
        return ""
