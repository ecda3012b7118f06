"""The outbox of notices to people (mails), and the password-reset tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from visio.clock import utcnow
from visio.models.types import UTCDateTime


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused for good (an SMTP 5xx): never retried
    SKIPPED = "skipped"  # the recipient turned this kind of mail off: shown in the app only


class Notice(SQLModel, table=True):
    """One message to one person, written in the transaction of the change that causes it.

    The address and language are those of the moment it was enqueued. A sender claims a due row
    by setting `claimed_until` (a lease); a crashed sender's lease runs out and another takes it.
    """

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_due", "status", "next_attempt_at"),
        Index("ix_notices_inbox", "user_id", "created_at"),
        # Only the few notices that must exist once carry a key: a partial index spares every
        # other insert its upkeep (ON CONFLICT names the same predicate).
        Index(
            "uq_notices_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text("dedupe_key IS NOT NULL"),
            postgresql_where=text("dedupe_key IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by ix_notices_inbox (user_id first): a second index would only slow the inserts.
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    email: str = Field(max_length=254)
    locale: str = Field(max_length=8)
    kind: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=NoticeStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, max_length=500)
    dedupe_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))  # in the app


class NoticePreference(SQLModel, table=True):
    """A user's choice for one optional kind of notice: mailed or not (absent: the default)."""

    __tablename__ = "notice_preferences"
    # Who chose a kind (the daily digest's recipients), without a scan.
    __table_args__ = (Index("ix_notice_preferences_kind", "kind", "email"),)

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=40, primary_key=True)
    email: bool


class EmailToken(SQLModel, table=True):
    """A single-use link proving an address: verification at registration, or a change of
    address (applied only once the new address is proven). Only its SHA-256 is stored."""

    __tablename__ = "email_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class PasswordReset(SQLModel, table=True):
    """A single-use password-reset token: only its SHA-256 is stored."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
