"""Wallets, their append-only ledger, and purchases. Amounts are integer cents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from visio.clock import utcnow
from visio.models.types import UTCDateTime


class WalletKind(StrEnum):
    USER = "user"
    ESCROW = "escrow"  # the platform's: holds payments until a session finishes


class Wallet(SQLModel, table=True):
    """A balance cache, updated in the same transaction as the ledger entries it sums."""

    __tablename__ = "wallets"
    __table_args__ = (
        CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
        CheckConstraint("kind IN ('user', 'escrow')", name="kind_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", unique=True)
    kind: str = Field(default=WalletKind.USER, max_length=8)
    balance_cents: int = Field(default=0)
    currency: str = Field(max_length=3)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class EntryKind(StrEnum):
    TOPUP = "topup"
    PURCHASE = "purchase"  # student debit
    ESCROW_IN = "escrow_in"  # escrow credit for a purchase
    REFUND = "refund"  # student credit
    ESCROW_REFUND = "escrow_refund"  # escrow debit for a refund
    EARNING = "earning"  # teacher credit when a session finishes
    ESCROW_RELEASE = "escrow_release"  # escrow debit for an earning


class LedgerEntry(SQLModel, table=True):
    """One movement on one wallet; never updated, never deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        Index("ix_ledger_entries_wallet_created", "wallet_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    wallet_id: int = Field(foreign_key="wallets.id")
    amount_cents: int
    kind: str = Field(max_length=16)
    session_id: int | None = Field(default=None, foreign_key="video_sessions.id", index=True)
    purchase_id: int | None = Field(default=None, foreign_key="purchases.id", index=True)
    reference: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class PurchaseStatus(StrEnum):
    HELD = "held"  # in escrow
    REFUNDED = "refunded"
    RELEASED = "released"  # paid out to the teacher


class Purchase(SQLModel, table=True):
    """A paid seat: its status says where the money is now."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        # created_at, amount_cents: revenue per day read from the index alone (0004).
        Index("ix_purchases_session_status", "session_id", "status", "created_at", "amount_cents"),
        Index("ix_purchases_student_created", "student_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="users.id")
    session_id: int = Field(foreign_key="video_sessions.id")
    enrollment_id: int = Field(foreign_key="enrollments.id", index=True)
    amount_cents: int
    currency: str = Field(max_length=3)
    status: str = Field(default=PurchaseStatus.HELD, max_length=16)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
