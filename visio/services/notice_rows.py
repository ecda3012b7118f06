"""A notices row built from what the caller already read (the recipient and their choice for the
kind), for the hot paths that cannot afford `outbox.enqueue`'s own look-ups: the seat claim and
the reminder scheduler. Same rules as `outbox.enqueue`: the user's address and language now, and
an optional kind the user turned off kept as `skipped`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from visio.models import Notice, NoticeStatus
from visio.services import notice_preferences
from visio.settings import settings

INSERT_CHUNK = 500


class Recipient(Protocol):
    """Who a notice goes to: a `User`, or a `Person` read without the ORM on a hot path."""

    @property
    def id(self) -> int | None: ...
    @property
    def email(self) -> str: ...
    @property
    def locale(self) -> str | None: ...
    @property
    def timezone(self) -> str | None: ...


@dataclass(frozen=True)
class Person:
    """The columns of a user a notice needs, cheap to build (no ORM instance)."""

    id: int
    email: str
    locale: str | None
    timezone: str | None


def values(
    user: Recipient,
    *,
    kind: str,
    data: dict[str, Any],
    at: datetime,
    chosen: bool | None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """The column values of a notice to `user`; `chosen`: their preference for `kind`, if any."""
    return {
        "user_id": user.id,
        "email": user.email,
        "locale": user.locale if user.locale in ("fr", "en") else settings.default_locale,
        "kind": kind,
        "data": data,
        "status": NoticeStatus.PENDING
        if notice_preferences.mailed(kind, chosen)
        else NoticeStatus.SKIPPED,
        "attempts": 0,
        "next_attempt_at": at,
        "dedupe_key": dedupe_key,
        "created_at": at,
    }


def insert_once(db: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert keyed rows, silently skipping those whose dedupe key exists (another worker wrote
    it meanwhile): the ids of those that went in. The conflict target names the partial index's
    predicate."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = Notice.__table__  # type: ignore[attr-defined]
    written: list[int] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            dialect.insert(table)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(
                index_elements=["dedupe_key"], index_where=text("dedupe_key IS NOT NULL")
            )
            .returning(table.c.id)
        )
        written += [int(i) for i in db.execute(statement).scalars()]
    return written
