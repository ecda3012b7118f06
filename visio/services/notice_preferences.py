"""Which optional notices a user wants mailed. A kind absent from `notice_preferences` follows
its default (`MailKind.default_on`); kinds that are not optional are always mailed.

The kinds a user may choose about come from `mail.KINDS` alone (optional, and for the user's
role or for everyone): a new optional kind shows up in the preferences without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from visio.clock import Clock, utcnow
from visio.models import NoticePreference, User
from visio.services import audit, mail
from visio.services.errors import InvalidInput, NotAuthenticated


@dataclass(frozen=True)
class Choice:
    """One optional kind of notice and whether the user gets it by mail."""

    kind: str
    email: bool


_CHOICE = select(NoticePreference.email).where(
    NoticePreference.user_id == bindparam("user_id"),  # type: ignore[arg-type]
    NoticePreference.kind == bindparam("kind"),  # type: ignore[arg-type]
)


def choice(db: Session, *, user_id: int | None, kind: str) -> bool | None:
    """The user's stored choice for an optional kind; None if they never chose (or it is not
    optional, or there is no account)."""
    if not mail.KINDS[kind].optional or user_id is None:
        return None
    # Core, built once: this runs inside the enrollment transaction.
    chosen = db.connection().scalar(_CHOICE, {"user_id": user_id, "kind": kind})
    return None if chosen is None else bool(chosen)


def wants_email(db: Session, *, user_id: int | None, kind: str) -> bool:
    """Whether a notice of `kind` to this user goes out by mail (else it is shown in the app)."""
    return mailed(kind, choice(db, user_id=user_id, kind=kind))


def mailed(kind: str, chosen: bool | None) -> bool:
    """The rule: a kind that is not optional is always mailed; an optional one as the user
    chose, or by its default if they never chose."""
    spec = mail.KINDS[kind]
    return not spec.optional or (spec.default_on if chosen is None else bool(chosen))


def choices(db: Session, *, user_ids: set[int], kinds: set[str]) -> dict[tuple[int, str], bool]:
    """The stored choices of these users for these kinds, in one query: (user id, kind) ->
    mailed or not (a pair absent: never chose)."""
    if not user_ids or not kinds:
        return {}
    rows = db.exec(
        select(NoticePreference.user_id, NoticePreference.kind, NoticePreference.email).where(
            NoticePreference.user_id.in_(sorted(user_ids)),  # type: ignore[attr-defined]
            NoticePreference.kind.in_(sorted(kinds)),  # type: ignore[attr-defined]
        )
    ).all()
    return {(user_id, kind): bool(email) for user_id, kind, email in rows}


def optional_kinds(role: str) -> list[str]:
    """The kinds someone of `role` may turn off, in the order of `mail.KINDS`."""
    return [
        kind for kind, spec in mail.KINDS.items() if spec.optional and spec.audience in ("", role)
    ]


def email_choices(*, db: Session, actor: User) -> list[Choice]:
    """The user's choice (or the default) for every optional kind shown to them."""
    kinds = optional_kinds(actor.role)
    chosen = dict(
        db.exec(
            select(NoticePreference.kind, NoticePreference.email).where(
                NoticePreference.user_id == actor.id
            )
        ).all()
    )
    return [
        Choice(kind=kind, email=bool(chosen.get(kind, mail.KINDS[kind].default_on)))
        for kind in kinds
    ]


def set_email_choices(
    *,
    db: Session,
    actor: User,
    choices: Mapping[str, bool],
    clock: Clock = utcnow,
    source: str = "account",
) -> list[Choice]:
    """Turn the mail of some optional kinds on or off, all or none: a kind that is unknown, not
    optional, or not for the user's role refuses the whole change. Answers every choice.
    `source` says, in the audit trail, where the change came from (an unsubscribe link...)."""
    user = db.get(User, actor.id) if actor.id is not None else None
    if user is None:
        raise NotAuthenticated()
    allowed = optional_kinds(user.role)
    for kind, email in choices.items():
        if kind not in allowed:
            raise InvalidInput("notice_kind_invalid", field="kind", kind=str(kind)[:40])
        if not isinstance(email, bool):
            raise InvalidInput("invalid_input", field="email")
    for kind, email in choices.items():
        _store(db, user_id=user.id, kind=kind, email=email)  # type: ignore[arg-type]
    if choices:
        audit.record(
            db,
            actor_id=user.id,
            action="user.notice_preferences_changed",
            target_type="user",
            target_id=user.id,
            at=clock(),
            email=dict(choices),
            source=source,
        )
        db.commit()
    return email_choices(db=db, actor=user)


def set_email_choice(
    *, db: Session, actor: User, kind: str, email: bool, clock: Clock = utcnow
) -> list[Choice]:
    """Turn the mail of one optional kind on or off (see `set_email_choices`)."""
    return set_email_choices(db=db, actor=actor, choices={kind: email}, clock=clock)


def _store(db: Session, *, user_id: int, kind: str, email: bool) -> None:
    """Insert or update one choice, inside the caller's transaction (two requests racing on
    the same kind both succeed, the last one wins)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = NoticePreference.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(user_id=user_id, kind=kind, email=email)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.kind],
            set_={"email": statement.excluded.email},
        )
    )
