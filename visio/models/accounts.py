"""People and their logins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from visio.clock import utcnow
from visio.models.types import UTCDateTime


class Role(StrEnum):
    TEACHER = "teacher"
    STUDENT = "student"
    ADMIN = "admin"  # made by an operator (python -m visio.admin), never by registering


class User(SQLModel, table=True):
    """A teacher or a student; the email is stored lower-cased and is unique."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    locale: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # When the owner proved the address theirs (a mailed link); None until then.
    email_verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When a mail server refused the address for good (shown to the owner; cleared on change).
    email_refused_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The key that signs the account's one-click unsubscribe links (made on first use).
    unsubscribe_key: str | None = Field(default=None, max_length=64)
    # When an admin suspended the account: no login works while it is set.
    suspended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AuthSession(SQLModel, table=True):
    """A login: the token itself is never stored, only its SHA-256."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class KnownAddress(SQLModel, table=True):
    """A client address an account logged in from (its SHA-256 only): the per-email login limit
    never refuses it, so an attacker elsewhere cannot lock the owner out."""

    __tablename__ = "known_addresses"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    address_hash: str = Field(max_length=64, primary_key=True)
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class RateCounter(SQLModel, table=True):
    """How many attempts a throttling key made in one fixed time window (the database backend
    of visio.services.rate_limits; Redis replaces it at scale)."""

    __tablename__ = "rate_counters"

    key: str = Field(max_length=100, primary_key=True)
    window_index: int = Field(primary_key=True)  # Unix time // the window's length
    count: int = Field(default=0)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
