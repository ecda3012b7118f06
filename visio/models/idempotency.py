"""Idempotency keys: the first answer to a request that a client may retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from visio.clock import utcnow
from visio.models.types import UTCDateTime


class IdempotencyKey(SQLModel, table=True):
    """A client's key for one request: pending until `status_code` and `response_body` are set.

    The unique (user_id, key) pair is what lets only one of two identical requests run.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    key: str = Field(max_length=128)
    scope: str = Field(max_length=200)  # the operation and its target, e.g. "enroll:42"
    fingerprint: str = Field(max_length=64)  # SHA-256 of the scope and the request body
    status_code: int | None = Field(default=None)
    response_body: Any | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
