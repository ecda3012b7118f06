"""The JSON shapes of /api/admin (the admin console over HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from visio.api.schemas import Body, Integer, Text, TransactionOut
from visio.models import EffectiveStatus


class AdminUserOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    created_at: datetime
    verified: bool
    suspended_at: datetime | None
    balance_cents: int
    currency: str


class AdminUserList(BaseModel):
    items: list[AdminUserOut] = Field(description="Newest accounts first")
    total: int
    page: int
    page_size: int


class AdminUserDetail(AdminUserOut):
    wallet_id: int
    login_count: int = Field(description="Logins ever opened")
    live_logins: int = Field(description="Logins neither revoked nor expired")


class ReasonIn(Body):
    reason: Text


class AdjustIn(Body):
    direction: str = Field(description="`credit` or `debit`")
    amount_cents: Integer = Field(description="Greater than zero")
    reason: Text = Field(description="3 to 500 characters, kept in the audit log")


class AdjustOut(BaseModel):
    transaction: TransactionOut
    balance_cents: int
    currency: str


class LedgerOut(BaseModel):
    wallet_id: int
    balance_cents: int
    currency: str
    transactions: list[TransactionOut] = Field(description="Newest first")
    total: int
    page: int
    page_size: int


class AdminSessionOut(BaseModel):
    id: int
    title: str
    teacher_id: int
    teacher_name: str
    teacher_email: str
    date: datetime
    status: EffectiveStatus
    is_paid: bool
    price_cents: int | None
    currency: str
    enrolled_count: int
    capacity: int | None


class AdminSessionList(BaseModel):
    items: list[AdminSessionOut] = Field(description="Latest start first")
    total: int
    page: int
    page_size: int


class AdminCancelOut(BaseModel):
    session_id: int
    status: EffectiveStatus
    refunded_count: int
    refunded_cents: int
    currency: str


class AuditEventOut(BaseModel):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_email: str | None
    action: str
    target_type: str
    target_id: int | None
    data: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditEventOut] = Field(description="Newest first")
    total: int
    page: int
    page_size: int


class CheckOut(BaseModel):
    name: str = Field(description="`wallets_total`, `escrow` or `payouts`")
    held_cents: int
    expected_cents: int
    difference_cents: int


class WalletGapOut(BaseModel):
    wallet_id: int
    kind: str
    user_id: int | None
    balance_cents: int
    ledger_cents: int


class MoneyOut(BaseModel):
    currency: str
    users_cents: int
    escrow_cents: int
    payouts_held_cents: int
    paid_out_cents: int
    platform_cents: int
    topups_cents: int
    balanced: bool
    checks: list[CheckOut]
    wallet_gaps: list[WalletGapOut] = Field(description="Wallets whose balance is not their ledger")
