"""One-click unsubscribe (RFC 8058): a link per (user, kind of notice) that turns that kind's
mail off without logging in.

A token is `<user id>.<kind>.<signature>`, the signature an HMAC-SHA256 of the user id and the
kind under the user's own `unsubscribe_key` (32 random bytes, made on first use). Nothing else
is stored: the link works for as long as the key is the same, and forging one for someone else
needs their key. Only optional kinds get a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import User
from visio.services import mail, notice_preferences
from visio.services.errors import NotFound

MAX_TOKEN_LENGTH = 200
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Target:
    """What a valid link unsubscribes from: whose mails, and which kind."""

    user_id: int
    kind: str


def _signature(key: str, user_id: int, kind: str) -> str:
    digest = hmac.new(
        bytes.fromhex(key), f"unsubscribe:{user_id}:{kind}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signing_key(db: Session, *, user_id: int) -> str | None:
    """The user's key, made now if they have none (None for an unknown user).

    Made with a conditional UPDATE and read back: two workers making it at once agree on the
    one that was stored. Commits (or rolls back) its own short transaction.
    """
    try:
        key = db.exec(select(User.unsubscribe_key).where(User.id == user_id)).first()
        if key is None:
            db.execute(
                update(User)
                .where(User.id == user_id, User.unsubscribe_key.is_(None))  # type: ignore[arg-type,union-attr]
                .values(unsubscribe_key=secrets.token_hex(32))
            )
            db.commit()
            key = db.exec(select(User.unsubscribe_key).where(User.id == user_id)).first()
        db.rollback()  # nothing held: this runs while a mail is being sent
    except BaseException:
        db.rollback()
        raise
    return key


def signing_keys(db: Session, *, user_ids: set[int]) -> dict[int, str]:
    """The keys of several users in one query (a sender's batch), each made as `signing_key`
    makes it for a user who has none yet; unknown users are left out."""
    if not user_ids:
        return {}
    try:
        found = dict(
            db.exec(
                select(User.id, User.unsubscribe_key).where(User.id.in_(user_ids))  # type: ignore[union-attr]
            ).all()
        )
        db.rollback()  # nothing held: a sender reads this before its mails travel
    except BaseException:
        db.rollback()
        raise
    keys = {int(user_id): key for user_id, key in found.items() if key}  # type: ignore[arg-type]
    for user_id in found.keys() - keys.keys():
        key = signing_key(db, user_id=int(user_id))  # type: ignore[arg-type]
        if key:
            keys[int(user_id)] = key  # type: ignore[arg-type]
    return keys


def token_with(key: str, *, user_id: int, kind: str) -> str:
    """The unsubscribe token for `kind` of this user's mails, signed with their `key`."""
    return f"{user_id}.{kind}.{_signature(key, user_id, kind)}"


def token_for(db: Session, *, user_id: int, kind: str) -> str | None:
    """The unsubscribe token for `kind` of this user's mails; None if the kind is not optional."""
    spec = mail.KINDS.get(kind)
    if spec is None or not spec.optional:
        return None
    key = signing_key(db, user_id=user_id)
    if key is None:
        return None
    return token_with(key, user_id=user_id, kind=kind)


def check(db: Session, *, token: str | None) -> Target:
    """What a token unsubscribes from; NotFound (`unsubscribe_link_invalid`) for a token that is
    malformed, tampered with, for another user or kind, or for a kind that cannot be turned off.
    Never makes a key."""
    invalid = NotFound("unsubscribe_link_invalid")
    parts = (token or "")[:MAX_TOKEN_LENGTH].split(".")
    if len(parts) != 3 or len(token or "") > MAX_TOKEN_LENGTH:
        raise invalid
    raw_id, kind, signature = parts
    if not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 10:
        raise invalid
    spec = mail.KINDS.get(kind)
    if spec is None or not spec.optional:
        raise invalid
    user_id = int(raw_id)
    if user_id > MAX_ID:  # an INTEGER column: a larger number names nobody (and overflows)
        raise invalid
    found = db.exec(select(User.unsubscribe_key, User.role).where(User.id == user_id)).first()
    if found is None or not found[0] or kind not in notice_preferences.optional_kinds(found[1]):
        raise invalid
    expected = _signature(found[0], user_id, kind)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise invalid
    return Target(user_id=user_id, kind=kind)


def unsubscribe(*, db: Session, token: str | None, clock: Clock = utcnow) -> Target:
    """Turn off the mail of the link's kind for the link's user (doing it twice is harmless)."""
    target = check(db, token=token)
    user = db.get(User, target.user_id)
    if user is None:
        raise NotFound("unsubscribe_link_invalid")
    if notice_preferences.wants_email(db, user_id=user.id, kind=target.kind):
        notice_preferences.set_email_choices(
            db=db, actor=user, choices={target.kind: False}, clock=clock, source="unsubscribe_link"
        )
    db.rollback()  # nothing left open (already off: nothing was written)
    return target
