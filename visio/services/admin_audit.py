"""Admins and the audit trail: browse it with filters, export the filtered rows as CSV.

The pages download the CSV from the API, which takes no cookie: their link carries a grant
signed for the admin's login (as material downloads do, see download_links), valid for
EXPORT_LINK_TTL or until that login ends; the route checks the user is still an admin.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import AuditEvent, AuthSession, User
from visio.services import accounts
from visio.services.admins import require_admin
from visio.services.errors import InvalidInput, NotAuthenticated

MAX_PAGE_SIZE = 100
EXPORT_MAX_ROWS = 10_000  # a bounded download: narrow the filters for more
EXPORT_LINK_TTL = timedelta(minutes=30)
MAX_ID = 2**31 - 1
CSV_COLUMNS = ["id", "created_at", "actor_id", "actor_email", "action", "target_type",
               "target_id", "data"]  # fmt: skip


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor_email: str = ""
    target_type: str = ""
    target_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditLine:
    id: int
    created_at: datetime
    actor_id: int | None
    actor_email: str | None
    action: str
    target_type: str
    target_id: int | None
    data: dict  # type: ignore[type-arg]


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


Actor = aliased(User)


def _where(filters: AuditFilters) -> list:  # type: ignore[type-arg]
    where = []
    if filters.action.strip():
        action = filters.action.strip()[:64]
        # "admin." finds every admin action; a full name finds that one.
        where.append(
            AuditEvent.action.startswith(action)  # type: ignore[attr-defined]
            if action.endswith(".")
            else AuditEvent.action == action
        )
    if filters.actor_email.strip():
        where.append(Actor.email == accounts.normalize_email(filters.actor_email)[:254])
    if filters.target_type.strip():
        where.append(AuditEvent.target_type == filters.target_type.strip()[:32])
    if filters.target_id is not None:
        if not 1 <= filters.target_id <= MAX_ID:
            raise InvalidInput("target_id_invalid", field="target_id")
        where.append(AuditEvent.target_id == filters.target_id)
    if filters.date_from and filters.date_to and filters.date_from >= filters.date_to:
        raise InvalidInput("date_range_invalid", field="date_to")
    if filters.date_from:
        where.append(AuditEvent.created_at >= filters.date_from)
    if filters.date_to:
        where.append(AuditEvent.created_at < filters.date_to)
    return where


def _query(filters: AuditFilters):  # type: ignore[no-untyped-def]
    return (
        select(AuditEvent, Actor.email)
        .join(Actor, Actor.id == AuditEvent.actor_id, isouter=True)
        .where(*_where(filters))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())  # type: ignore[attr-defined]
    )


def _line(event: AuditEvent, email: str | None) -> AuditLine:
    return AuditLine(
        id=event.id,  # type: ignore[arg-type]
        created_at=event.created_at,
        actor_id=event.actor_id,
        actor_email=email,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        data=dict(event.data or {}),
    )


def list_audit(
    *,
    db: Session,
    actor: User | None,
    filters: AuditFilters,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """A page of the audit trail, newest first, filtered."""
    require_admin(actor)
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    total = db.exec(
        select(func.count())
        .select_from(AuditEvent)
        .join(Actor, Actor.id == AuditEvent.actor_id, isouter=True)
        .where(*_where(filters))
    ).one()
    rows = db.exec(_query(filters).offset((page - 1) * page_size).limit(page_size)).all()
    return AuditPage([_line(e, email) for e, email in rows], int(total), page, page_size)


def export_csv(*, db: Session, actor: User | None, filters: AuditFilters) -> str:
    """The filtered audit rows as CSV, newest first, at most EXPORT_MAX_ROWS of them."""
    require_admin(actor)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event, email in db.exec(_query(filters).limit(EXPORT_MAX_ROWS)):
        writer.writerow(
            [
                event.id,
                event.created_at.isoformat(),
                event.actor_id if event.actor_id is not None else "",
                _cell(email or ""),
                _cell(event.action),
                _cell(event.target_type),
                event.target_id if event.target_id is not None else "",
                _cell(json.dumps(event.data or {}, ensure_ascii=False, sort_keys=True)),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def sign_export(*, db: Session, token: str | None, clock: Clock = utcnow) -> str:
    """A grant (`<login>.<expires>.<signature>`) to download the audit CSV from the pages."""
    login = accounts.login_for_token(db=db, token=token, clock=clock)
    if login is None:
        raise NotAuthenticated()
    expires = int((clock() + EXPORT_LINK_TTL).timestamp())
    return f"{login.id}.{expires}.{_signature(login, expires)}"


def user_for_export_grant(*, db: Session, grant: str, clock: Clock = utcnow) -> User:
    """The user an export grant was signed for, while unexpired and its login lives."""
    invalid = NotAuthenticated("download_link_invalid")
    try:
        login_text, expires_text, signature = grant.split(".")
        login_id, expires = int(login_text), int(expires_text)
    except ValueError:
        raise invalid from None
    login = db.get(AuthSession, login_id) if 0 < login_id <= MAX_ID else None
    now = clock()
    if (
        login is None
        or login.revoked_at is not None
        or login.expires_at <= now
        or expires < now.timestamp()
        or not hmac.compare_digest(signature, _signature(login, expires))
    ):
        raise invalid
    user = db.get(User, login.user_id)
    if user is None or user.suspended_at is not None:
        raise invalid
    return user


def _signature(login: AuthSession, expires: int) -> str:
    message = f"audit-export:{expires}".encode()
    digest = hmac.new(login.token_hash.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
