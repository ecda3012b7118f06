"""Which optional notices a user wants mailed. A kind absent from `notice_preferences` follows
its default (`MailKind.default_on`); kinds that are not optional are always mailed."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from visio.models import NoticePreference
from visio.services import mail

_CHOICE = select(NoticePreference.email).where(
    NoticePreference.user_id == bindparam("user_id"),  # type: ignore[arg-type]
    NoticePreference.kind == bindparam("kind"),  # type: ignore[arg-type]
)


def wants_email(db: Session, *, user_id: int | None, kind: str) -> bool:
    """Whether a notice of `kind` to this user goes out by mail (else it is shown in the app)."""
    spec = mail.KINDS[kind]
    if not spec.optional or user_id is None:
        return True
    # Core, built once: this runs inside the enrollment transaction.
    chosen = db.connection().scalar(_CHOICE, {"user_id": user_id, "kind": kind})
    return spec.default_on if chosen is None else bool(chosen)
