"""Accounts: register, log in, log out, resolve a login token, preferences, password reset."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from visio import metrics
from visio.clock import Clock, utcnow
from visio.models import AuthSession, KnownAddress, PasswordReset, Role, User, Wallet
from visio.services import audit, email_verification, outbox, passwords, rate_limits, wallets
from visio.services.errors import (
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
)
from visio.services.rate_limits import Limit
from visio.services.text import check_visible
from visio.settings import settings

LOCALES = ("fr", "en")
RESET_VALID_FOR = timedelta(hours=1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


@dataclass(frozen=True)
class Login:
    """What a successful login hands back: the raw token (shown once) and the user."""

    token: str
    user: User


@dataclass(frozen=True)
class Registration:
    """What registering answers, the same whether the email was new or already had an account
    (`email`, `full_name`, `role` as given, normalized): a caller must not tell the two apart.
    `user` is the new account, None when the email was taken (nothing was created then)."""

    email: str
    full_name: str
    role: str
    user: User | None


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def checked_email(email: str) -> str:
    """The email normalized; InvalidInput on `email` if it does not look like an address."""
    normalized = normalize_email(email)
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        raise InvalidInput("email_invalid", field="email")
    return normalized


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _address_hash(address: str) -> str:
    return hashlib.sha256(f"visio-address:{address}".encode()).hexdigest()


def register(
    *,
    db: Session,
    full_name: str,
    email: str,
    password: str,
    role: str,
    address: str | None,
    locale: str | None = None,
    verified: bool = False,
    clock: Clock = utcnow,
) -> Registration:
    """Create a teacher or student account and its wallet; throttled per client address.

    `address` is the client's (None only for what no client asked: demo data, scripts). The
    account starts unverified and a link to prove the address is mailed in the same transaction;
    `verified` (demo data, operators' tools) makes it proven from the start. An email that
    already has an account gets the same answer at the same cost, changes nothing, leaves an
    audit event on that account, and tells its owner (at most once a day).
    """
    name = check_visible(" ".join((full_name or "").split()), field="full_name")
    normalized = normalize_email(email)
    if len(name) < 2:
        raise InvalidInput("full_name_too_short", field="full_name", min=2)
    if len(name) > 120:
        raise InvalidInput("full_name_too_long", field="full_name", max=120)
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        raise InvalidInput("email_invalid", field="email")
    if role not in (Role.TEACHER, Role.STUDENT):
        raise InvalidInput("role_invalid", field="role")
    problem = passwords.weakness(password or "", email=normalized, full_name=name)
    if problem:
        raise InvalidInput(
            problem, field="password", min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH
        )
    if address is not None:
        limit = Limit("register", settings.register_max_per_address, settings.rate_window_minutes)
        rate_limits.take_all(db, taken=[(limit, (address,))], clock=clock)

    answer = Registration(email=normalized, full_name=name, role=role, user=None)
    # Hashed before looking the email up: a taken email costs as much as a new one.
    password_hash = passwords.hash_password(password)
    now = clock()
    if db.exec(select(User.id).where(User.email == normalized)).first() is not None:
        return _already_registered(db, answer, at=now)
    user = User(
        email=normalized,
        full_name=name,
        password_hash=password_hash,
        role=role,
        locale=locale if locale in LOCALES else None,
        created_at=now,
        email_verified_at=now if verified else None,
    )
    db.add(user)
    try:
        db.flush()
        wallets.open_wallet(db, user_id=user.id, at=now)
        if not verified:
            email_verification.send_link(db, user=user, email=normalized, clock=clock)
        audit.record(
            db,
            actor_id=user.id,
            action="user.registered",
            target_type="user",
            target_id=user.id,
            at=now,
            role=role,
        )
        db.commit()
    except IntegrityError:  # the same email registered at the same moment
        db.rollback()
        return _already_registered(db, answer, at=now)
    return Registration(email=normalized, full_name=name, role=role, user=user)


def _already_registered(db: Session, answer: Registration, *, at: datetime) -> Registration:
    """Someone registered an email that has an account: note it on the account, answer alike."""
    existing = db.exec(select(User).where(User.email == answer.email)).one()

    def note(*, tell: bool) -> None:
        if tell:
            email_verification.note_registration_attempt(db, user=existing, clock=lambda: at)
        audit.record(
            db,
            actor_id=None,
            action="user.registration_attempted",
            target_type="user",
            target_id=existing.id,
            at=at,
            role=answer.role,
        )
        db.commit()

    try:
        note(tell=True)
    except IntegrityError:  # two attempts the same day at the same moment: one mail is enough
        db.rollback()
        note(tell=False)
    return answer


def login(
    *, db: Session, email: str, password: str, address: str | None, clock: Clock = utcnow
) -> Login:
    """Check the credentials and open a login session; attempts are throttled.

    Counted before the password is hashed: per client address and email (a success forgets
    these), per address, and per email, a limit that refuses only addresses the account never
    logged in from. `address` is None only for what no client asked (tests' set-up, scripts).
    """
    email = normalize_email(email)
    password = password or ""
    if len(password) > passwords.MAX_LENGTH:  # refused before any work: argon2 would take it all
        raise InvalidInput("password_too_long", field="password", max=passwords.MAX_LENGTH)
    pair = per_address = per_email = None
    if address is not None:
        window = settings.rate_window_minutes
        pair, per_address = rate_limits.take_all(
            db,
            taken=[
                (Limit("login", settings.login_max_failures, window), (address, email)),
                (Limit("login_address", settings.login_max_per_address, window), (address,)),
            ],
            clock=clock,
        )
        # Counted only once the address passed its own limits: one attacker alone cannot
        # push an account over its per-email limit.
        limit = Limit("login_email", settings.login_max_per_email, window)
        per_email = rate_limits.take(db, limit=limit, parts=(email,), clock=clock)

    user = db.exec(select(User).where(User.email == email)).first() if email else None
    if per_email is not None and per_email.over and not _known_address(db, user, address):
        rate_limits.refuse_over([per_email], clock=clock)
    # Verify against a dummy hash for an unknown email so that both cases cost the same.
    ok = passwords.verify_password(password, user.password_hash if user else passwords.dummy_hash())
    if not (ok and user):
        metrics.count_failed_login()
        raise InvalidCredentials()
    if user.suspended_at is not None:  # said only to who knows the password
        raise Forbidden("account_suspended")

    now = clock()
    token = secrets.token_urlsafe(32)
    db.add(
        AuthSession(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(hours=settings.token_ttl_hours),
        )
    )
    if address is not None:
        _remember_address(db, user_id=user.id, address=address, at=now)
    audit.record(
        db, actor_id=user.id, action="user.logged_in", target_type="user", target_id=user.id, at=now
    )
    db.commit()
    rate_limits.reset(db, pair)
    rate_limits.give_back(db, [per_address, per_email], clock=clock)
    return Login(token=token, user=user)


def _known_address(db: Session, user: User | None, address: str | None) -> bool:
    if user is None or address is None:
        return False
    key = (user.id, _address_hash(address))
    return db.get(KnownAddress, key) is not None


def _remember_address(db: Session, *, user_id: int, address: str, at: datetime) -> None:
    """Add (or refresh) a known address of the account, inside the caller's transaction."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = KnownAddress.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(
        user_id=user_id, address_hash=_address_hash(address), last_seen_at=at
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.address_hash],
            set_={"last_seen_at": statement.excluded.last_seen_at},
        )
    )


def forget_old_addresses(*, db: Session, clock: Clock = utcnow) -> int:
    """Forget the known addresses not seen for VISIO_KNOWN_ADDRESS_DAYS: how many."""
    before = clock() - timedelta(days=settings.known_address_days)
    gone = db.execute(delete(KnownAddress).where(KnownAddress.last_seen_at < before))
    db.commit()
    return int(gone.rowcount or 0)


def user_for_token(*, db: Session, token: str | None, clock: Clock = utcnow) -> User | None:
    """The user a login token belongs to, or None if it is unknown, revoked or expired."""
    if not token:
        return None
    return db.execute(_USER_FOR_TOKEN, _live_params(token, clock)).scalars().first()


def login_for_token(*, db: Session, token: str | None, clock: Clock = utcnow) -> AuthSession | None:
    """The live login (neither revoked nor expired) that a token opens, or None."""
    if not token:
        return None
    return db.execute(_LOGIN_FOR_TOKEN, _live_params(token, clock)).scalars().first()


def user_and_balance(
    *, db: Session, token: str | None, clock: Clock = utcnow
) -> tuple[User, int] | None:
    """`user_for_token` and the user's wallet balance, in one query: what every page shows."""
    if not token:
        return None
    found = db.execute(_USER_AND_BALANCE, _live_params(token, clock)).first()
    return None if found is None else (found[0], int(found[1]))


# The login session of a token, if neither revoked nor expired, of an account not suspended.
# Every request and page event asks it: the statements are built once.
_LIVE_TOKEN = (
    AuthSession.token_hash == bindparam("token_hash"),
    AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
    AuthSession.expires_at > bindparam("now"),
    User.suspended_at.is_(None),  # type: ignore[union-attr]
)
_USER_FOR_TOKEN = select(User).join(AuthSession).where(*_LIVE_TOKEN)
_LOGIN_FOR_TOKEN = select(AuthSession).join(User).where(*_LIVE_TOKEN)
_USER_AND_BALANCE = (
    select(User, Wallet.balance_cents)
    .join(AuthSession)
    .join(Wallet, Wallet.user_id == User.id)  # type: ignore[arg-type]
    .where(*_LIVE_TOKEN)
)


def _live_params(token: str, clock: Clock) -> dict[str, object]:
    return {"token_hash": _token_hash(token), "now": clock()}


def authenticate(*, db: Session, token: str | None, clock: Clock = utcnow) -> User:
    """Like `user_for_token`, but a missing user is an error."""
    user = user_for_token(db=db, token=token, clock=clock)
    if user is None:
        raise NotAuthenticated()
    return user


def logout(*, db: Session, token: str | None, clock: Clock = utcnow) -> None:
    """Revoke a login token; unknown or already revoked tokens are ignored."""
    if not token:
        return
    session = db.exec(
        select(AuthSession).where(
            AuthSession.token_hash == _token_hash(token),
            AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if session is None:
        return
    now = clock()
    session.revoked_at = now
    audit.record(
        db,
        actor_id=session.user_id,
        action="user.logged_out",
        target_type="user",
        target_id=session.user_id,
        at=now,
    )
    db.commit()


def update_preferences(
    *,
    db: Session,
    actor: User,
    locale: str | None = None,
    timezone: str | None = None,
    clock: Clock = utcnow,
) -> User:
    """Remember the account's language and time zone (None leaves a value as it is)."""
    user = db.get(User, actor.id)
    if user is None:
        raise NotAuthenticated()
    if locale is not None and locale not in LOCALES:
        raise InvalidInput("locale_invalid", field="locale")
    if timezone is not None and timezone not in available_timezones():
        raise InvalidInput("timezone_invalid", field="timezone")
    changed = {}
    if locale is not None and locale != user.locale:
        user.locale = changed["locale"] = locale
    if timezone is not None and timezone != user.timezone:
        user.timezone = changed["timezone"] = timezone
    if changed:
        audit.record(
            db,
            actor_id=user.id,
            action="user.preferences_changed",
            target_type="user",
            target_id=user.id,
            at=clock(),
            **changed,
        )
        db.commit()
    return user


def require_role(actor: User | None, role: str) -> User:
    """The actor, if logged in with the given role."""
    if actor is None:
        raise NotAuthenticated()
    if actor.role != role:
        raise Forbidden("wrong_role", role=role)
    return actor


def emails_in_domain(*, db: Session, domain: str) -> bool:
    """Whether any account's e-mail is at `domain` (the demo accounts', say)."""
    suffix = "@" + domain.lower()
    return db.exec(select(User.id).where(User.email.endswith(suffix)).limit(1)).first() is not None


def is_registered(*, db: Session, email: str) -> bool:
    """Whether an account has this e-mail (for operators' tools, never for visitors)."""
    address = normalize_email(email)
    return db.exec(select(User.id).where(User.email == address)).first() is not None


def request_password_reset(
    *, db: Session, email: str, address: str | None, clock: Clock = utcnow
) -> None:
    """Mail a single-use reset link (valid RESET_VALID_FOR) to the account of `email`, if any.

    The caller learns nothing either way: no error, no answer tells whether the account exists.
    Throttled per client address and per email (known or not, so the limit reveals nothing).
    Only the token's SHA-256 is stored; the raw token travels in the mail alone (the outbox
    wipes it from the notice once sent).
    """
    normalized = normalize_email(email)
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        raise InvalidInput("email_invalid", field="email")
    if address is not None:
        window = settings.rate_window_minutes
        rate_limits.take_all(
            db,
            taken=[
                (Limit("reset_address", settings.reset_max_per_address, window), (address,)),
                (Limit("reset_email", settings.reset_max_per_email, window), (normalized,)),
            ],
            clock=clock,
        )
    user = db.exec(select(User).where(User.email == normalized)).first()
    if user is None:
        return
    now = clock()
    token = secrets.token_urlsafe(32)
    db.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + RESET_VALID_FOR,
        )
    )
    outbox.enqueue(db, kind="password_reset", user=user, data={"token": token}, at=now)
    audit.record(
        db,
        actor_id=None,
        action="user.password_reset_requested",
        target_type="user",
        target_id=user.id,
        at=now,
    )
    db.commit()


def reset_password(*, db: Session, token: str, password: str, clock: Clock = utcnow) -> User:
    """Set a new password with a reset token: the token is spent, every login of the account
    revoked, and every other pending reset link of the account spent too."""
    now = clock()
    reset = (
        db.exec(select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))).first()
        if token
        else None
    )
    if reset is None or reset.used_at is not None:
        raise InvalidInput("reset_token_invalid", field="token")
    if reset.expires_at <= now:
        raise InvalidInput("reset_token_expired", field="token")
    user = db.get(User, reset.user_id)
    if user is None:
        raise InvalidInput("reset_token_invalid", field="token")
    problem = passwords.weakness(password or "", email=user.email, full_name=user.full_name)
    if problem:
        raise InvalidInput(
            problem, field="password", min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH
        )
    password_hash = passwords.hash_password(password)
    # Spent in one conditional step: of two requests racing with one token, one wins.
    spent = db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == reset.id,  # type: ignore[arg-type]
            PasswordReset.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        db.rollback()
        raise InvalidInput("reset_token_invalid", field="token")
    _replace_password(db, user, password_hash, now=now, action="user.password_reset")
    return user


def _replace_password(
    db: Session,
    user: User,
    password_hash: str,
    *,
    now: datetime,
    action: str,
    keep_token: str | None = None,
) -> None:
    """Store a new password: every pending reset link is spent, every login revoked (but the
    one of `keep_token`), the change audited; commits."""
    db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,  # type: ignore[arg-type]
            PasswordReset.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=now)
    )
    logins = [
        AuthSession.user_id == user.id,
        AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
    ]
    if keep_token:
        logins.append(AuthSession.token_hash != _token_hash(keep_token))
    revoked = db.execute(update(AuthSession).where(*logins).values(revoked_at=now))
    user.password_hash = password_hash
    db.add(user)
    audit.record(
        db,
        actor_id=user.id,
        action=action,
        target_type="user",
        target_id=user.id,
        at=now,
        logins_revoked=int(revoked.rowcount or 0),
    )
    db.commit()


def change_password(
    *,
    db: Session,
    actor: User,
    current_password: str,
    new_password: str,
    keep_token: str | None,
    clock: Clock = utcnow,
) -> User:
    """Replace the account's password, proven by the current one: every other login of the
    account is revoked (the one of `keep_token` stays) and pending reset links are spent.

    A wrong current password is `current_password_wrong` (Forbidden, on `current_password`);
    wrong attempts are throttled per account like logins.
    """
    user = db.get(User, actor.id) if actor.id is not None else None
    if user is None:
        raise NotAuthenticated()
    current_password, new_password = current_password or "", new_password or ""
    if len(current_password) > passwords.MAX_LENGTH:  # refused before argon2 takes it all
        raise Forbidden("current_password_wrong", field="current_password")
    limit = Limit("change_password", settings.login_max_failures, settings.rate_window_minutes)
    [hit] = rate_limits.take_all(db, taken=[(limit, (str(user.id),))], clock=clock)
    if not passwords.verify_password(current_password, user.password_hash):
        raise Forbidden("current_password_wrong", field="current_password")
    rate_limits.reset(db, hit)
    problem = passwords.weakness(new_password, email=user.email, full_name=user.full_name)
    if problem:
        raise InvalidInput(
            problem, field="new_password", min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH
        )
    password_hash = passwords.hash_password(new_password)
    _replace_password(
        db,
        user,
        password_hash,
        now=clock(),
        action="user.password_changed",
        keep_token=keep_token,
    )
    return user
