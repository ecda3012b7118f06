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
    PAYOUTS = "payouts"  # the platform's: holds what teachers asked to withdraw, until paid
    # The platform's own account, the other side of an admin's manual credit or debit: it may go
    # below zero (what the platform gave away), so the sum over all wallets only ever changes by
    # top-ups (money in) and paid payouts (money out).
    PLATFORM = "platform"


class Wallet(SQLModel, table=True):
    """A balance cache, updated in the same transaction as the ledger entries it sums."""

    __tablename__ = "wallets"
    __table_args__ = (
        CheckConstraint("balance_cents >= 0 OR kind = 'platform'", name="balance_not_negative"),
        CheckConstraint("kind IN ('user', 'escrow', 'payouts', 'platform')", name="kind_known"),
        # The platform's wallets are found by kind inside the hottest lock (every paid seat
        # credits escrow): a seek, not a scan of every user's wallet. `kind` never changes.
        Index("ix_wallets_kind", "kind"),
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
    ADJUSTMENT = "adjustment"  # an admin's manual credit or debit of a user's wallet
    PLATFORM_ADJUST = "platform_adjust"  # its other side, on the platform wallet
    PAYOUT_HOLD = "payout_hold"  # teacher debit: a payout requested
    PAYOUT_HELD = "payout_held"  # payouts wallet credit for it
    PAYOUT_PAID = "payout_paid"  # payouts wallet debit: sent, the money left the platform
    PAYOUT_UNHOLD = "payout_unhold"  # payouts wallet debit: the request was refused
    PAYOUT_RETURN = "payout_return"  # teacher credit for it


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
        # The dashboard's revenue, in total and per day, from the index alone: no join (0013).
        Index("ix_purchases_teacher_created", "teacher_id", "created_at", "status", "amount_cents"),
    )

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="users.id")
    session_id: int = Field(foreign_key="video_sessions.id")
    # The session's teacher, copied at the insert (a session never changes teacher).
    teacher_id: int = Field(foreign_key="users.id")
    enrollment_id: int = Field(foreign_key="enrollments.id", index=True)
    amount_cents: int
    currency: str = Field(max_length=3)
    status: str = Field(default=PurchaseStatus.HELD, max_length=16)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class PayoutStatus(StrEnum):
    REQUESTED = "requested"  # the amount is held in the payouts wallet
    PAID = "paid"  # an admin sent it (reference given): it left the platform
    REFUSED = "refused"  # an admin refused it: the amount went back to the wallet


class PayoutRequest(SQLModel, table=True):
    """A teacher's request to withdraw money from their wallet to a bank account or reference."""

    __tablename__ = "payout_requests"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_payout_requests_status_created", "status", "created_at"),
        Index("ix_payout_requests_user_created", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    amount_cents: int
    currency: str = Field(max_length=3)
    destination: str = Field(max_length=64)  # an IBAN or a payout reference, as entered
    status: str = Field(default=PayoutStatus.REQUESTED, max_length=16)
    reference: str | None = Field(default=None, max_length=128)  # the admin's payment reference
    refusal_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decided_by: int | None = Field(default=None, foreign_key="users.id")
