"""Links that download one material's file, for the pages' `<a href>`.

The API takes no cookie (another site's page could make the browser send it), so a link from
the pages carries its own proof: which login, which file, until when, signed with a secret of
that login (the hash of its token, known only to the server). A link dies after LINK_TTL or with
its login (logout, expiry), opens no other file, and the download checks the user's right to
the file again, as for any caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import timedelta

from sqlmodel import Session

from visio.clock import Clock, utcnow
from visio.models import AuthSession, User
from visio.services import accounts
from visio.services.errors import NotAuthenticated

MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number names no login
LINK_TTL = timedelta(minutes=30)  # a page's links outlive a reading of the page, not a class


def sign(
    *, db: Session, token: str | None, material_ids: Iterable[int], clock: Clock = utcnow
) -> dict[int, str]:
    """A grant (`<login>.<expires>.<signature>`) per material for the holder of `token`."""
    login = accounts.login_for_token(db=db, token=token, clock=clock)
    if login is None:
        raise NotAuthenticated()
    expires = int((clock() + LINK_TTL).timestamp())
    return {
        material_id: f"{login.id}.{expires}.{_signature(login, material_id, expires)}"
        for material_id in material_ids
    }


def user_for_grant(*, db: Session, material_id: int, grant: str, clock: Clock = utcnow) -> User:
    """The user a grant was signed for, if it names this material, is unexpired and its login
    lives; else NotAuthenticated (`download_link_invalid`)."""
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
        or not hmac.compare_digest(signature, _signature(login, material_id, expires))
    ):
        raise invalid
    user = db.get(User, login.user_id)
    if user is None:
        raise invalid
    return user


def _signature(login: AuthSession, material_id: int, expires: int) -> str:
    message = f"download:{material_id}:{expires}".encode()
    digest = hmac.new(login.token_hash.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
