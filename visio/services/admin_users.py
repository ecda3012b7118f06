"""Admins and accounts: find users, look at one, suspend and restore an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import AuthSession, Role, User, Wallet
from visio.services import audit, locking
from visio.services.admins import require_admin
from visio.services.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_PAGE_SIZE = 50
REASON_MIN, REASON_MAX = 3, 500


@dataclass(frozen=True)
class UserLine:
    id: int
    email: str
    full_name: str
    role: str
    created_at: datetime
    verified: bool
    suspended_at: datetime | None
    balance_cents: int


@dataclass(frozen=True)
class UserPage:
    items: list[UserLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class UserDetail:
    user: UserLine
    wallet_id: int
    currency: str
    login_count: int
    live_logins: int


def check_reason(reason: str | None) -> str:
    """A reason an admin must give: 3 to 500 visible characters, spaces folded."""
    text = " ".join((reason or "").split())
    if len(text) < REASON_MIN:
        raise InvalidInput("reason_too_short", field="reason", min=REASON_MIN)
    if len(text) > REASON_MAX:
        raise InvalidInput("reason_too_long", field="reason", max=REASON_MAX)
    return text


def _line(user: User, balance_cents: int | None) -> UserLine:
    return UserLine(
        id=user.id,  # type: ignore[arg-type]
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        created_at=user.created_at,
        verified=user.email_verified_at is not None,
        suspended_at=user.suspended_at,
        balance_cents=int(balance_cents or 0),
    )


def search_users(
    *,
    db: Session,
    actor: User | None,
    q: str = "",
    role: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> UserPage:
    """Accounts whose name or email contains `q` (case ignored), newest first, a page at a time."""
    require_admin(actor)
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    where = []
    text = " ".join((q or "").split()).lower()[:254]
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                User.email.like(pattern, escape="\\"),  # type: ignore[attr-defined]
                func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    if role:
        if role not in tuple(Role):
            raise InvalidInput("role_invalid", field="role")
        where.append(User.role == role)
    total = db.exec(select(func.count()).select_from(User).where(*where)).one()
    rows = db.exec(
        select(User, Wallet.balance_cents)
        .join(Wallet, Wallet.user_id == User.id, isouter=True)
        .where(*where)
        .order_by(User.created_at.desc(), User.id.desc())  # type: ignore[attr-defined]
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return UserPage([_line(u, b) for u, b in rows], int(total), page, page_size)


def user_detail(
    *, db: Session, actor: User | None, user_id: int, clock: Clock = utcnow
) -> UserDetail:
    """One account as an admin sees it: role, dates, state, balance, how many logins."""
    require_admin(actor)
    found = db.exec(
        select(User, Wallet).join(Wallet, Wallet.user_id == User.id).where(User.id == user_id)
    ).first()
    if found is None:
        raise NotFound("user_not_found")
    user, wallet = found
    live = AuthSession.revoked_at.is_(None) & (AuthSession.expires_at > clock())  # type: ignore[union-attr]
    count, live_count = db.exec(
        select(func.count(), func.count().filter(live)).where(AuthSession.user_id == user_id)
    ).one()
    return UserDetail(
        user=_line(user, wallet.balance_cents),
        wallet_id=wallet.id,  # type: ignore[arg-type]
        currency=wallet.currency,
        login_count=int(count),
        live_logins=int(live_count),
    )


def _lock_target(db: Session, actor: User, user_id: int) -> User:
    """Lock the account an admin acts on; refuse their own and other admins'."""
    db.rollback()
    rows = locking.lock(db, User, [user_id])
    if not rows:
        raise NotFound("user_not_found")
    user: User = rows[0]  # type: ignore[assignment]
    if user.id == actor.id:
        raise Forbidden("cannot_suspend_self")
    if user.role == Role.ADMIN:
        raise Forbidden("cannot_suspend_admin")
    return user


def suspend_user(
    *, db: Session, actor: User | None, user_id: int, reason: str, clock: Clock = utcnow
) -> User:
    """Suspend an account: every live login ends now and no new one opens until restored."""
    admin = require_admin(actor)
    text = check_reason(reason)
    try:
        user = _lock_target(db, admin, user_id)
        if user.suspended_at is not None:
            raise Conflict("already_suspended")
        now = clock()
        user.suspended_at = now
        db.add(user)
        revoked = db.execute(
            update(AuthSession)
            .where(
                AuthSession.user_id == user.id,  # type: ignore[arg-type]
                AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
            )
            .values(revoked_at=now)
        )
        audit.record(
            db,
            actor_id=admin.id,
            action="admin.user_suspended",
            target_type="user",
            target_id=user.id,
            at=now,
            reason=text,
            logins_revoked=int(revoked.rowcount or 0),
        )
        db.commit()
    except Exception:
        db.rollback()
        raise
    return user


def restore_user(*, db: Session, actor: User | None, user_id: int, clock: Clock = utcnow) -> User:
    """Lift a suspension: the owner may log in again (their old logins stay ended)."""
    admin = require_admin(actor)
    try:
        user = _lock_target(db, admin, user_id)
        if user.suspended_at is None:
            raise Conflict("not_suspended")
        now = clock()
        user.suspended_at = None
        db.add(user)
        audit.record(
            db,
            actor_id=admin.id,
            action="admin.user_restored",
            target_type="user",
            target_id=user.id,
            at=now,
        )
        db.commit()
    except Exception:
        db.rollback()
        raise
    return user
